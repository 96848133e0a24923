"""The masked-digit reader: p(digit | the known pixels), for the inpainting search's class guidance.

A digit with a hole still tells a lot about its class (the ring around a centre hole says "0" or
"8" or "3" …).  This network reads the class from a digit seen *through a mask*: its input is two
channels, the known pixels (missing ones set to the black background, −1) and the mask itself
(+1 known, −1 missing), so it knows which black pixels are ink-free and which are unknown.  With
an all-known mask it is a plain digit classifier.

It is trained (``python -m ganmodels.train masked_reader``) on MNIST digits with random masks of
every kind the Inpainting tab offers — the six presets, rectangles of any size and place, brush
strokes like a painted mask, and no mask at all — under the same random affine augmentation as
the project's classifier.  It is a *different network* from the project's MNIST classifier, which
judges the completions: the search never sees the judge.

How the inpainting search uses it (``ganmodels.inference.inpaint``, ``guide=``):
* the restarts are shared among the digits the known pixels make likely (more restarts for likelier
  digits), each started from the pool draws that fit the known pixels best *and* read as that digit;
* the final completion is the one with the lowest Yeh loss plus τ·(−log p(its digit | known
  pixels)), where "its digit" is what this reader says about the completed image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ganmodels import weights as W
from ganmodels.models.classifier import Classifier, ClassifierConfig, random_affine

FAMILY = "masked_reader"
FILE = "mnist_masked_reader.safetensors"

# shares of the mask kinds seen in training (they sum to 1)
MASK_MIX = {"none": 0.10, "preset": 0.40, "rectangle": 0.30, "strokes": 0.20}
PRESETS = ("center", "left", "right", "top", "bottom", "random")


@dataclass
class ReaderConfig(ClassifierConfig):
    width: int = 48
    feat_dim: int = 256
    in_channels: int = 2
    mask: str = "any"      # "any": trained on MASK_MIX; a preset name: a specialist trained on that mask only
    augment: str = "affine"  # "affine": random rotations, shifts, zooms; "none": the digits as MNIST centres them


def file_for(mask: str = "any") -> str:
    """The weight file of the general reader ("any") or of the specialist for one preset mask."""
    return FILE if mask == "any" else f"mnist_masked_reader_{mask}.safetensors"


class Reader(nn.Module):
    """``forward(x, m)``: x (B,1,28,28) in [−1,1], m (B,1,28,28) with 1 = known → class logits (B,10)."""

    def __init__(self, cfg: ReaderConfig):
        super().__init__()
        self.cfg = cfg
        self.net = Classifier(cfg)

    @staticmethod
    def encode(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        m = m.to(x.dtype)
        return torch.cat([m * x - (1 - m), 2 * m - 1], 1)

    def forward(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return self.net(self.encode(x, m))


# ------------------------------------------------------------------ masks for training

def _preset(kind: str, B: int, g: torch.Generator) -> torch.Tensor:
    m = torch.ones(B, 1, 28, 28)
    if kind == "center":
        m[:, :, 7:21, 7:21] = 0
    elif kind == "left":
        m[..., :14] = 0
    elif kind == "right":
        m[..., 14:] = 0
    elif kind == "top":
        m[:, :, :14] = 0
    elif kind == "bottom":
        m[:, :, 14:] = 0
    else:   # random: 80 % of the pixels missing
        m = (torch.rand(B, 1, 28, 28, generator=g) >= 0.8).float()
    return m


def _rectangles(B: int, g: torch.Generator) -> torch.Tensor:
    h = torch.randint(6, 21, (B,), generator=g)
    w = torch.randint(6, 21, (B,), generator=g)
    top = (torch.rand(B, generator=g) * (29 - h)).long()
    left = (torch.rand(B, generator=g) * (29 - w)).long()
    r = torch.arange(28)
    rows = (r[None] >= top[:, None]) & (r[None] < (top + h)[:, None])
    cols = (r[None] >= left[:, None]) & (r[None] < (left + w)[:, None])
    return (~(rows[:, :, None] & cols[:, None, :])).float()[:, None]


def _strokes(B: int, g: torch.Generator) -> torch.Tensor:
    """1–4 straight brush strokes of width 3–7 px, like a mask painted with the tab's brush."""
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    hole = torch.zeros(B, 28, 28, dtype=torch.bool)
    n = torch.randint(1, 5, (B,), generator=g)
    for k in range(4):
        p0 = torch.rand(B, 2, generator=g) * 28
        p1 = torch.rand(B, 2, generator=g) * 28
        r = (1.5 + torch.rand(B, generator=g) * 2)[:, None, None]
        d = p1 - p0
        L2 = (d ** 2).sum(1).clamp_min(1e-6)[:, None, None]
        t = (((xx[None] - p0[:, 0, None, None]) * d[:, 0, None, None]
              + (yy[None] - p0[:, 1, None, None]) * d[:, 1, None, None]) / L2).clamp(0, 1)
        px = p0[:, 0, None, None] + t * d[:, 0, None, None]
        py = p0[:, 1, None, None] + t * d[:, 1, None, None]
        on = ((xx[None] - px) ** 2 + (yy[None] - py) ** 2) <= r ** 2
        hole |= on & (k < n)[:, None, None]
    return (~hole).float()[:, None]


def random_masks(B: int, g: torch.Generator) -> torch.Tensor:
    """B training masks (B,1,28,28), 1 = known, drawn from :data:`MASK_MIX`."""
    kinds = list(MASK_MIX)
    pick = torch.multinomial(torch.tensor(list(MASK_MIX.values())), B, replacement=True, generator=g)
    out = torch.ones(B, 1, 28, 28)
    for j, kind in enumerate(kinds):
        idx = (pick == j).nonzero().flatten()
        if not len(idx):
            continue
        if kind == "preset":
            which = torch.randint(len(PRESETS), (len(idx),), generator=g)
            for q, name in enumerate(PRESETS):
                sel = idx[which == q]
                if len(sel):
                    out[sel] = _preset(name, len(sel), g)
        elif kind == "rectangle":
            out[idx] = _rectangles(len(idx), g)
        elif kind == "strokes":
            out[idx] = _strokes(len(idx), g)
    return out


class ReaderObjective:
    """Cross-entropy on digits seen through random masks (the shared loop's "G" step);
    a specialist (``cfg.mask`` a preset name) sees its one preset mask.

    ``cfg.augment == "none"`` trains on the digits as MNIST centres them: a preset hole then always
    hides the same part of a centred digit, as it does at test time (shifting the digit under a
    fixed hole teaches the reader views it never gets)."""

    has_d = False

    def __init__(self, net: Reader, seed: int = 0):
        self.net = net
        self.g = torch.Generator().manual_seed(seed)

    def g_loss(self, batch):
        x, y = batch
        if self.net.cfg.augment == "affine":
            x = random_affine(x)
        kind = self.net.cfg.mask
        m = (random_masks(len(x), self.g) if kind == "any" else _preset(kind, len(x), self.g)).to(x.device)
        logits = self.net(x, m)
        loss = F.cross_entropy(logits, y)
        return loss, {"loss": loss.item(), "acc": (logits.argmax(1) == y).float().mean().item()}


def save(net: Reader, path) -> str:
    return W.save_network(net, path, family=FAMILY, network="R", config=net.cfg)


def load_one(store: W.WeightStore, mask: str = "any", device="cpu") -> Reader:
    net, _, _ = W.load_network(store.path(file_for(mask)), Reader, ReaderConfig, family=FAMILY, network="R",
                               device=device, manifest=store.manifest_for_check())
    W.cpu_layout(device, net)
    return net.requires_grad_(False)


class Readers:
    """The general reader and any preset specialists: ``for_mask(m)`` picks the specialist when every
    mask in the batch is exactly its preset, the general reader otherwise."""

    def __init__(self, general: Reader, specialists: dict[str, Reader] | None = None):
        self.general, self.specialists = general, dict(specialists or {})

    def for_mask(self, m: torch.Tensor) -> Reader:
        m = torch.as_tensor(m).float()
        for kind, net in self.specialists.items():
            ref = _preset(kind, 1, torch.Generator())[0, 0]
            if m.shape[-2:] == ref.shape and (m.reshape(-1, 28, 28) == ref).all():
                return net
        return self.general

    def __call__(self, x, m):            # used as a plain reader: the general one
        return self.general(x, m)


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None) -> Readers:
    """The shipped general reader, with the preset specialists whose files are there."""
    store = store or W.WeightStore(weights_dir)
    general = load_one(store, "any", device)
    specialists = {}
    for kind in PRESETS:
        if kind != "random" and file_for(kind) in store.manifest.get("files", {}):
            specialists[kind] = load_one(store, kind, device)
    return Readers(general, specialists)


def _as_float(images) -> torch.Tensor:
    if isinstance(images, np.ndarray):
        if images.dtype == np.uint8:
            images = torch.from_numpy(images.astype(np.float32) / 127.5 - 1)
        else:
            images = torch.from_numpy(images.astype(np.float32))
    images = images.float()
    while images.dim() < 4:
        images = images.unsqueeze(-3) if images.dim() == 3 else images.unsqueeze(0)
    return images


@torch.no_grad()
def read(net: Reader, images, masks=None, batch: int = 500) -> np.ndarray:
    """p(digit | known pixels): images uint8 (N,28,28) or float (N,1,28,28) in [−1,1]; masks (N,28,28)
    or (N,1,28,28), 1 = known (None: all known) → probabilities (N, 10) float64."""
    if isinstance(net, Readers):
        net = net.general if masks is None else net.for_mask(torch.as_tensor(np.asarray(masks, np.float32)))
    x = _as_float(images)
    if masks is None:
        m = torch.ones_like(x)
    else:
        m = torch.as_tensor(np.asarray(masks, np.float32) if not torch.is_tensor(masks) else masks).float()
        m = m.reshape(-1, 1, *x.shape[-2:])
        if len(m) == 1 and len(x) > 1:
            m = m.expand(len(x), -1, -1, -1)
        if len(m) != len(x):
            raise ValueError(f"{len(m)} masks for {len(x)} images")
    net.eval()
    dev = next(net.parameters()).device
    out = [F.softmax(net(x[i:i + batch].to(dev), m[i:i + batch].to(dev)).float(), 1).cpu()
           for i in range(0, len(x), batch)]
    return torch.cat(out).numpy().astype(np.float64)
