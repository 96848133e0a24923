"""Conditional GAN on MNIST (Mirza & Osindero 2014): the label y is *given* to G and to D.

    min_G max_D  E_{x,y}[log D(x | y)] + E_{z,y}[log(1 − D(G(z | y) | y))]

* G(z | y): the one-hot label is concatenated to z (the paper's recipe), then a DCGAN
  generator (fc → 7×7 → two transposed convolutions).
* D(x | y): the label enters as 10 constant one-hot planes concatenated to the image
  (the lecture's "concatenate y to D's input"), and once more at the end as a
  projection term ⟨embed(y), φ(x)⟩ (Miyato & Koyama 2018), which makes D check
  that the image shows *that* digit, not just any digit.

The objective is the plain adversarial one with y given to both networks
(``losses.GANObjective(conditional=True)``: G's step draws fresh labels from the data's).
Unlike InfoGAN, nothing is discovered: the labels of the training digits are used,
so choosing y = 7 asks for a seven.  The shipped generator is the EMA of G.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ganmodels import weights as W
from ganmodels.errors import InputError
from ganmodels.models.dcgan import LoadedGAN, init_weights

FAMILY = "cgan"
FILES = {"G": "cgan_G.safetensors", "D": "cgan_D.safetensors"}


@dataclass
class CGANConfig:
    z_dim: int = 62
    n_classes: int = 10
    ngf: int = 32       # G: channels at 14×14; 2·ngf at 7×7
    ndf: int = 32       # D: channels at 14×14; 2·ndf at 7×7
    fc_d: int = 256     # D: features φ(x, y) before the output


class Generator(nn.Module):
    def __init__(self, cfg: CGANConfig):
        super().__init__()
        self.cfg = cfg
        g = cfg.ngf
        self.project = nn.Sequential(
            # (B, z_dim + n_classes): [z, one_hot(y)]
            nn.Linear(cfg.z_dim + cfg.n_classes, 2 * g * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * g * 7 * 7), nn.ReLU(True),
        )
        self.net = nn.Sequential(
            # (B, 2·ngf, 7, 7)
            nn.ConvTranspose2d(2 * g, g, 4, 2, 1, bias=False),
            nn.BatchNorm2d(g), nn.ReLU(True),
            # (B, ngf, 14, 14)
            nn.ConvTranspose2d(g, 1, 4, 2, 1),
            nn.Tanh(),
            # (B, 1, 28, 28) in [-1, 1]
        )
        self.apply(init_weights)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(y.long(), self.cfg.n_classes).to(z.dtype)          # (B, 10)
        h = self.project(torch.cat([z, onehot], 1))                          # (B, 2·ngf·49)
        return self.net(h.view(z.shape[0], 2 * self.cfg.ngf, 7, 7))          # (B, 1, 28, 28)


class Discriminator(nn.Module):
    """D(x | y) → a logit per image: σ(logit) is the probability that x is a real digit *of class y*."""

    def __init__(self, cfg: CGANConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.ndf
        self.body = nn.Sequential(
            # (B, 1 + n_classes, 28, 28): the image and 10 one-hot label planes
            nn.Conv2d(1 + cfg.n_classes, d, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            # (B, ndf, 14, 14)
            nn.Conv2d(d, 2 * d, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * d), nn.LeakyReLU(0.2, True),
            # (B, 2·ndf, 7, 7)
            nn.Flatten(),
            nn.Linear(2 * d * 49, cfg.fc_d),
            nn.LeakyReLU(0.2, True),
            # (B, fc_d) = φ(x, y)
        )
        self.out = nn.Linear(cfg.fc_d, 1)                        # ψ(φ)
        self.embed = nn.Embedding(cfg.n_classes, cfg.fc_d)       # projection: ⟨embed(y), φ⟩
        self.apply(init_weights)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        B, _, H, Wd = x.shape
        planes = F.one_hot(y.long(), self.cfg.n_classes).to(x.dtype)[:, :, None, None].expand(B, -1, H, Wd)
        phi = self.body(torch.cat([x, planes], 1))                            # (B, fc_d)
        return (self.out(phi).view(-1) + (self.embed(y.long()) * phi).sum(1))  # (B,)


class CGAN(LoadedGAN):
    """The loaded model: G (EMA, eval mode) and, when present, D."""

    family, files, networks = FAMILY, FILES, (Generator, Discriminator, CGANConfig)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, y) -> torch.Tensor:
        """z (N, z_dim), y (N,) digits → images (N, 1, 28, 28) in [-1, 1] on the CPU."""
        y = torch.as_tensor(y, dtype=torch.long).to(self.device)
        return self.G(z.to(self.device).float(), y).cpu()


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None,
         with_D: bool = False) -> CGAN:
    return CGAN.from_store(store or W.WeightStore(weights_dir), device, with_D=with_D)


save = CGAN.save


@torch.no_grad()
def sample_uint8(model: CGAN, n: int = 64, seed: int = 0, label=None) -> np.ndarray:
    """n samples G(z | y), z ~ N(0, I); y = ``label`` or, when None, drawn uniformly from 0–9."""
    K = model.cfg.n_classes
    if label is not None and not (0 <= int(label) < K and float(label) == int(label)):
        raise InputError(f"--label must be a digit from 0 to {K - 1}, got {label}")
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, model.cfg.z_dim, generator=g)
    y = torch.randint(0, K, (n,), generator=g) if label is None else torch.full((n,), int(label))
    return model.generate_uint8(z, y)
