"""DCGAN for 28×28 digits (Radford et al. 2016), following the paper's guidelines:

* no pooling: strided convolutions in D, fractionally-strided (transposed) ones in G;
* batchnorm in G and D (not on G's output layer nor on D's input layer);
* ReLU in G with Tanh at the output, LeakyReLU(0.2) in D;
* z ~ N(0, I); Adam lr 2e-4, β₁ = 0.5.

The shipped generator is the exponential moving average of G's weights over
training (Karras et al. 2018; ``ganmodels.training.ema``), which gives visibly cleaner samples
than the raw G.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from ganmodels import weights as W
from ganmodels.data import to_uint8

FAMILY = "dcgan"
FILES = {"G": "dcgan_G.safetensors", "D": "dcgan_D.safetensors"}


@dataclass
class DCGANConfig:
    z_dim: int = 100
    ngf: int = 64          # generator width
    ndf: int = 64          # discriminator width
    channels: int = 1
    image_size: int = 28   # 28 (MNIST) or 32
    fc_g: int = 0          # G: width of a hidden fully connected layer before the projection (0: none,
                           # the paper's single "project and reshape"); as in InfoGAN's generator
    fc_g_layers: int = 1   # G: how many such hidden layers (a small MLP from z, like StyleGAN's mapping
                           # network: sharper borders between the digit classes in z-space)
    fc_d: int = 0          # D: 0 = the paper's all-convolutional D; > 0 = InfoGAN's MNIST D: two strided
                           # convs, then a fully connected layer of this width (no batchnorm) and the logit
    d_dropout: float = 0.0 # D: dropout after each LeakyReLU while training (a small-data regulariser,
                           # as in TensorFlow's MNIST DCGAN tutorial); 0 = none. Off in eval mode.


class Generator(nn.Module):
    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        g, s0 = cfg.ngf, cfg.image_size // 4
        # project z: a single matrix multiply (Radford et al. §3: "could be called fully connected")
        hidden = []
        if cfg.fc_g:   # (B, z_dim) → (B, fc_g) [→ (B, fc_g) …]: a deeper map from z lets G separate the
            width = cfg.z_dim   # digit classes more sharply (fc_g_layers hidden layers)
            for _ in range(max(1, cfg.fc_g_layers)):
                hidden += [nn.Linear(width, cfg.fc_g, bias=False), nn.BatchNorm1d(cfg.fc_g), nn.ReLU(True)]
                width = cfg.fc_g
        self.project = nn.Sequential(
            *hidden,
            nn.Linear(cfg.fc_g or cfg.z_dim, g * 4 * s0 * s0, bias=False),
            nn.BatchNorm1d(g * 4 * s0 * s0), nn.ReLU(True),
        )
        self.net = nn.Sequential(
            # (B, ngf*4, 7, 7)
            nn.ConvTranspose2d(g * 4, g * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(g * 2), nn.ReLU(True),
            # (B, ngf*2, 14, 14)
            nn.ConvTranspose2d(g * 2, cfg.channels, 4, 2, 1),
            nn.Tanh(),
            # (B, channels, 28, 28) in [-1, 1]
        )
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        s0 = self.cfg.image_size // 4
        h = self.project(z.view(z.shape[0], -1))            # (B, ngf*4*7*7)
        return self.net(h.view(z.shape[0], -1, s0, s0))    # (B, channels, 28, 28)


class Discriminator(nn.Module):
    """Outputs a logit per image: D(x) = σ(logit) is the probability that x is real."""

    def __init__(self, cfg: DCGANConfig):
        super().__init__()
        self.cfg = cfg
        d, s0 = cfg.ndf, cfg.image_size // 4
        drop = [nn.Dropout(cfg.d_dropout)] if cfg.d_dropout else []
        convs = [
            # (B, channels, 28, 28)
            nn.Conv2d(cfg.channels, d, 4, 2, 1),
            nn.LeakyReLU(0.2, True), *drop,
            # (B, ndf, 14, 14)
            nn.Conv2d(d, d * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(d * 2), nn.LeakyReLU(0.2, True), *drop,
            # (B, ndf*2, 7, 7)
        ]
        if cfg.fc_d:
            self.features = nn.Sequential(
                *convs, nn.Flatten(),
                nn.Linear(d * 2 * s0 * s0, cfg.fc_d), nn.LeakyReLU(0.2, True),
                # (B, fc_d)
            )
            self.head = nn.Linear(cfg.fc_d, 1)                  # (B, 1)
            return
        self.features = nn.Sequential(
            *convs,
            nn.Conv2d(d * 2, d * 4, 3, 2, 1, bias=False),
            nn.BatchNorm2d(d * 4), nn.LeakyReLU(0.2, True), *drop,
            # (B, ndf*4, 4, 4)
        )
        self.head = nn.Conv2d(d * 4, 1, (s0 + 1) // 2, 1, 0)  # (B, 1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)  # (B,)


def init_weights(m: nn.Module) -> None:
    """DCGAN init: conv weights ~ N(0, 0.02), batchnorm γ ~ N(1, 0.02)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class LoadedGAN:
    """A loaded generator (eval mode), its D when present, and seeded latents (shared by dcgan/cgan/infogan).

    A family's subclass names its weight files and its networks; ``from_store`` and ``save`` read them.
    """

    family: str
    files: dict[str, str]
    networks: tuple[type, type, type]     # (Generator, Discriminator, config class)

    def __init__(self, G: nn.Module, D: nn.Module | None, cfg, device="cpu"):
        self.G, self.D, self.cfg, self.device = G, D, cfg, torch.device(device)

    @classmethod
    def from_store(cls, store: W.WeightStore, device="cpu", *, with_D: bool = True):
        """The family's G (and D with ``with_D``) from the store, checked against its manifest."""
        generator, discriminator, config_cls = cls.networks
        G, D, cfg = W.load_g_and_d(store, family=cls.family, files=cls.files, generator=generator,
                                   discriminator=discriminator, config_cls=config_cls, device=device,
                                   with_D=with_D)
        return cls(G, D, cfg, device)

    @classmethod
    def save(cls, G: nn.Module, D: nn.Module, cfg, out_dir: str | Path) -> dict[str, str]:
        """G and D as the family's two files in out_dir (config in the header)."""
        return W.save_g_and_d(G, D, cfg, out_dir, family=cls.family, files=cls.files)

    @property
    def z_dim(self) -> int:
        return self.cfg.z_dim

    def z_from_seed(self, seed: int, n: int = 1) -> torch.Tensor:
        g = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.cfg.z_dim, generator=g)

    @torch.no_grad()
    def generate_uint8(self, *inputs, batch: int = 500) -> np.ndarray:
        """``generate(*inputs)`` on ``batch`` rows at a time (every input sliced alike) → uint8 images."""
        return np.concatenate([to_uint8(self.generate(*(x[i:i + batch] for x in inputs)))
                               for i in range(0, len(inputs[0]), batch)])


class DCGAN(LoadedGAN):
    """The loaded model: G (eval mode) and, when present, D. Used by the tabs and CLIs."""

    family, files, networks = FAMILY, FILES, (Generator, Discriminator, DCGANConfig)

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, z_dim) → images (N, 1, 28, 28) in [-1, 1], on the CPU."""
        return self.G(z.to(self.device).float()).cpu()


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None,
         with_D: bool = True) -> DCGAN:
    return DCGAN.from_store(store or W.WeightStore(weights_dir), device, with_D=with_D)


save = DCGAN.save


@torch.no_grad()
def sample_uint8(model: DCGAN, n: int = 64, seed: int = 0, truncation: float = 1.0) -> np.ndarray:
    """n samples G(truncation · z), z ~ N(0, I) drawn with ``seed`` → uint8 (n, 28, 28), 0 = background."""
    return model.generate_uint8(model.z_from_seed(seed, n) * float(truncation), batch=512)
