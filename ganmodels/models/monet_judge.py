"""The Monet-vs-photo judge: a small CNN whose verdicts are CycleGAN's metrics.

``python -m ganmodels.evaluate cyclegan`` asks it how many translated photos look like Monets
(and translated Monets like photos).  It sees whole images resized to 64² (colour,
composition, coarse texture) and is trained on the training split only
(``python -m ganmodels.train cyclegan --judge``, recipe in ``ganmodels.recipes.cyclegan``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

from ganmodels import weights as W
from ganmodels.data import to_tensor

FAMILY = "cyclegan"               # its file's header names the family whose metric it is
FILE = "monet_judge.safetensors"


@dataclass
class JudgeConfig:
    width: int = 16
    size: int = 64          # whole images are resized to size×size (colour, composition, coarse texture)


class MonetJudge(nn.Module):
    """A small CNN: logit > 0 ⇒ "Monet", < 0 ⇒ "photo". Trained on the training split only."""

    def __init__(self, cfg: JudgeConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        layers, ch = [], 3
        for nxt in [w, 2 * w, 4 * w, 8 * w]:
            # (B, ch, s, s) → (B, nxt, s/2, s/2)
            layers += [nn.Conv2d(ch, nxt, 3, 1, 1), nn.BatchNorm2d(nxt), nn.ReLU(True), nn.MaxPool2d(2)]
            ch = nxt
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(ch, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x).mean(dim=(2, 3))   # (B, 8w) global average pool
        return self.head(h).view(-1)            # (B,)


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None) -> MonetJudge:
    """The shipped judge, in eval mode (WeightsError when its file is missing or does not match)."""
    store = store or W.WeightStore(weights_dir)
    net, _, _ = W.load_network(store.path(FILE), MonetJudge, JudgeConfig, family=FAMILY,
                               network="judge", device=device, manifest=store.manifest_for_check())
    return net.requires_grad_(False).eval()


def save(net: MonetJudge, out_dir) -> dict[str, str]:
    """Write the judge's file into ``out_dir``; returns {file name: sha256}."""
    return {FILE: W.save_network(net, Path(out_dir) / FILE, family=FAMILY, network="judge", config=net.cfg)}


@torch.no_grad()
def monet_prob(judge: MonetJudge, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """uint8 (N, H, W, 3) → P(Monet) per image (images resized to the judge's size)."""
    judge.eval()
    s = judge.cfg.size
    dev = next(judge.parameters()).device
    out = []
    for i in range(0, len(images), batch):
        x = to_tensor(images[i:i + batch])
        if x.shape[-1] != s or x.shape[-2] != s:
            x = Fn.interpolate(x, size=(s, s), mode="bilinear", align_corners=False, antialias=True)
        out.append(torch.sigmoid(judge(x.to(dev))).cpu().numpy())
    return np.concatenate(out)


class JudgeObjective:
    """Binary cross-entropy, classes balanced by sampling; no D (the loop runs step (2) only)."""
    has_d = False

    def __init__(self, net):
        self.net = net

    def g_loss(self, batch):
        x, t = batch
        self.net.train()
        logit = self.net(x)
        loss = Fn.binary_cross_entropy_with_logits(logit, t)
        acc = ((logit > 0).float() == t).float().mean()
        return loss, {"bce": loss.item(), "acc": acc.item()}
