"""A small face-attribute classifier, trained by the project and shipped, used to *measure* the face GAN.

* 40 sigmoid outputs, one per CelebA attribute (multi-label: a face can be Smiling and Male and Young);
* it picks the groups for attribute vectors and z-arithmetic and labels what the tab shows;
* **face-classifier FID**: the Fréchet distance between its penultimate features of two image
  sets — the FID formula on *our* features, not Inception's (no Inception weights offline), so
  its numbers are not comparable with published FIDs.

Trained on framed faces 000001–007000, validated on 007001–008000 (``faces.SPLITS``); the
GAN's held-out faces 008001–009000 stay unseen by both.  CelebA: non-commercial research and
teaching only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ganmodels import weights as W
from ganmodels.augment import translation
from ganmodels.models.faces import ATTRIBUTES

FAMILY = "face_classifier"
FILE = "face_classifier.safetensors"


@dataclass
class FaceClassifierConfig:
    width: int = 32
    feat_dim: int = 256
    n_attrs: int = 40
    dropout: float = 0.2
    in_pool: int = 2       # the face is average-pooled by this factor first (64 → 32 px: ~10× cheaper)


def _block(cin: int, cout: int, convs: int = 2) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                   nn.ReLU(True)]
    return layers + [nn.MaxPool2d(2)]


class FaceClassifier(nn.Module):
    def __init__(self, cfg: FaceClassifierConfig):
        super().__init__()
        self.cfg = cfg
        w, p = cfg.width, cfg.in_pool
        self.body = nn.Sequential(
            # (B, 3, 64, 64) in [-1, 1]
            nn.AvgPool2d(p) if p > 1 else nn.Identity(),   # (B, 3, 64/p, 64/p): attributes read at 32 px
            *_block(3, w, 1),         # (B, w, 32/p, 32/p)
            *_block(w, 2 * w),        # (B, 2w, 16/p, 16/p)
            *_block(2 * w, 4 * w),    # (B, 4w, 8/p, 8/p)
            *_block(4 * w, 8 * w),    # (B, 8w, 4/p, 4/p)
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(8 * w, cfg.feat_dim), nn.ReLU(True),
            # (B, feat_dim): the features of face-classifier FID
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.feat_dim, cfg.n_attrs)   # one logit per attribute

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.body(x)))


def augment(x: torch.Tensor) -> torch.Tensor:
    """Random horizontal flips and shifts of up to 1/16 of the side (no attribute changes under either)."""
    flip = torch.rand(x.shape[0], device=x.device) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    return translation(x, ratio=1 / 16, fill=-1.0)


class FaceClassifierObjective:
    """Multi-label binary cross-entropy over the 40 attributes, in the shared loop (only a "G" step)."""

    has_d = False

    def __init__(self, net: FaceClassifier, augment: bool = True):
        self.net, self.augment = net, augment

    def g_loss(self, batch):
        x, y = batch
        if self.augment:
            x = augment(x)
        logits = self.net(x)
        loss = F.binary_cross_entropy_with_logits(logits, y.float())
        acc = ((logits > 0) == (y > 0)).float().mean()
        return loss, {"loss": loss.item(), "acc": acc.item()}


def to_input(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (N, 64, 64, 3) RGB → float (N, 3, 64, 64) in [-1, 1]; float tensors pass through."""
    if isinstance(images, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
        return x / 127.5 - 1.0
    return images.float()


@torch.no_grad()
def predict(net: FaceClassifier, images: np.ndarray | torch.Tensor, batch: int = 250
            ) -> tuple[np.ndarray, np.ndarray]:
    """Faces (uint8 (N,64,64,3) or float (N,3,64,64) in [-1,1]) → (probabilities (N,40), features (N,F))."""
    net.eval()
    dev = next(net.parameters()).device
    probs, feats = [], []
    for i in range(0, len(images), batch):
        f = net.features(to_input(images[i:i + batch]).to(dev))
        probs.append(torch.sigmoid(net.head(f)).float().cpu())
        feats.append(f.float().cpu())
    if not probs:
        return np.zeros((0, net.cfg.n_attrs)), np.zeros((0, net.cfg.feat_dim))
    return (torch.cat(probs).numpy().astype(np.float64), torch.cat(feats).numpy().astype(np.float64))


def attribute_accuracy(net: FaceClassifier, images, attrs: np.ndarray) -> np.ndarray:
    """Per-attribute accuracy (40,) of thresholding at ½ against 0/1 labels (N, 40)."""
    p, _ = predict(net, images)
    return ((p > 0.5) == (np.asarray(attrs) > 0)).mean(0)


def save(net: FaceClassifier, path, *, extra: dict | None = None) -> str:
    return W.save_network(net, path, family=FAMILY, network="C", config=net.cfg,
                          extra={"attributes": list(ATTRIBUTES), **(extra or {})})


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None) -> FaceClassifier:
    store = store or W.WeightStore(weights_dir)
    net, _, _ = W.load_network(store.path(FILE), FaceClassifier, FaceClassifierConfig, family=FAMILY,
                               network="C", device=device, manifest=store.manifest_for_check())
    W.cpu_layout(device, net)
    return net.requires_grad_(False)
