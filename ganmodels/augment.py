"""Differentiable augmentation for data-efficient GAN training (Zhao et al. 2020, "DiffAugment").

With only 5,000 training digits, D memorises the real set after a few dozen epochs and
its gradients stop teaching G anything new.  DiffAugment applies the *same kind* of
random, differentiable transformation T to every image D sees — real and generated,
in D's step and in G's step:

    L_D = E[f(D(T(x)))] + E[g(D(T(G(z))))],      L_G = E[h(D(T(G(z))))]

Because T is applied to G's output inside the graph, G still receives gradients, and
because T is applied to both sides, G is not pushed to produce augmented-looking images.

Policies (comma-separated): ``translation`` (shift by up to 1/8 of the side, zero fill),
``cutout`` (zero a random square of half the side), ``color`` (brightness/contrast).
"""
from __future__ import annotations

import torch
import torch.nn as nn

POLICIES = ("translation", "cutout", "color")


def parse_policy(policy: str | None) -> tuple[str, ...]:
    names = tuple(p.strip() for p in (policy or "").split(",") if p.strip())
    bad = [p for p in names if p not in POLICIES]
    if bad:
        raise ValueError(f"unknown DiffAugment policy {', '.join(bad)}: choose from {', '.join(POLICIES)}")
    return names


def translation(x: torch.Tensor, ratio: float = 0.125, fill: float = -1.0) -> torch.Tensor:
    """Shift each image by an integer offset in [−ratio·side, ratio·side]; uncovered pixels = ``fill``."""
    B, C, H, W = x.shape
    sh, sw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (B, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (B, 1, 1), device=x.device)
    iy = torch.arange(H, device=x.device).view(1, H, 1) - dy        # (B, H, 1) source rows
    ix = torch.arange(W, device=x.device).view(1, 1, W) - dx        # (B, 1, W) source cols
    valid = ((iy >= 0) & (iy < H) & (ix >= 0) & (ix < W)).unsqueeze(1)   # (B, 1, H, W)
    iy, ix = iy.clamp(0, H - 1), ix.clamp(0, W - 1)
    flat = (iy * W + ix).view(B, 1, H * W).expand(B, C, H * W)
    out = x.reshape(B, C, H * W).gather(2, flat).view(B, C, H, W)
    return torch.where(valid, out, torch.full_like(out, fill))


def cutout(x: torch.Tensor, ratio: float = 0.5, fill: float = -1.0) -> torch.Tensor:
    """Set a random square of side ratio·side (centre anywhere in the image) to ``fill``."""
    B, C, H, W = x.shape
    ch, cw = int(H * ratio + 0.5), int(W * ratio + 0.5)
    cy = torch.randint(0, H + (1 - ch % 2), (B, 1, 1), device=x.device)
    cx = torch.randint(0, W + (1 - cw % 2), (B, 1, 1), device=x.device)
    ys = torch.arange(H, device=x.device).view(1, H, 1)
    xs = torch.arange(W, device=x.device).view(1, 1, W)
    hole = ((ys - cy).abs() <= ch // 2) & ((xs - cx).abs() <= cw // 2)   # (B, H, W)
    return torch.where(hole.unsqueeze(1), torch.full_like(x, fill), x)


def color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness (±0.5) and contrast (×0.5–1.5) per image, images in [−1, 1]."""
    B = x.shape[0]
    x = x + (torch.rand(B, 1, 1, 1, device=x.device) - 0.5)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(B, 1, 1, 1, device=x.device) + 0.5) + mean


def diff_augment(x: torch.Tensor, policy: tuple[str, ...] | str) -> torch.Tensor:
    for name in parse_policy(policy) if isinstance(policy, str) else policy:
        x = {"translation": translation, "cutout": cutout, "color": color}[name](x)
    return x


class AugmentedD(nn.Module):
    """D ∘ T: what the objective calls during training. Holds no weights of its own
    (the wrapped D is what gets saved), and is the identity in eval mode."""

    def __init__(self, D: nn.Module, policy: str):
        super().__init__()
        self.D = D
        self.policy = parse_policy(policy)

    def forward(self, x: torch.Tensor, *cond) -> torch.Tensor:
        if self.training and self.policy:
            x = diff_augment(x, self.policy)
        return self.D(x, *cond)


def add_cli_arg(p) -> None:
    """The training CLI's ``--diffaug POLICY`` (recipes that train a D on images)."""
    p.add_argument("--diffaug", default="", help="DiffAugment policy for D, e.g. translation or "
                   "translation,cutout (Zhao et al. 2020: real and generated images augmented alike; "
                   "note that shifts also hide whether a digit is centred)")


def seen_by_objective(D: nn.Module, policy: str) -> nn.Module:
    """What the objective trains through: D ∘ T with a policy, D itself without (the saved D is always D)."""
    return AugmentedD(D, policy) if policy else D
