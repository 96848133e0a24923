"""2-D toy distributions, a small MLP GAN for them, and the mode-coverage metrics.

Datasets (each an endless sampler of fresh points, no fixed training set):

* ``ring``   — 8 Gaussians on a circle of radius 2, σ = 0.02 (Metz et al. 2017, unrolled GAN);
* ``grid``   — 5×5 Gaussians at {−4, −2, 0, 2, 4}², σ = 0.05 (Srivastava et al. 2017, VEEGAN);
* ``moons``  — two interleaved half circles (noise σ = 0.05);
* ``spiral`` — one arm of an Archimedean spiral (noise σ = 0.04);
* ``drawn``  — whatever the class draws: the drawn points with a little jitter.

Metrics (VEEGAN / unrolled-GAN definitions), for the datasets with modes (ring, grid),
measured on 2,500 samples G(z):

* a sample is **high-quality** if it lies within 3σ of its nearest mode;
* a mode is **covered** if at least 20 high-quality samples have it as their nearest mode.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from ganmodels.losses import g_loss

TOY_DATASETS = ("ring", "grid", "moons", "spiral", "drawn")
TOY_NAMES = {
    "ring": "ring of 8 Gaussians",
    "grid": "5×5 grid of Gaussians",
    "moons": "two moons",
    "spiral": "spiral",
    "drawn": "points you draw",
}
N_METRIC = 2500          # samples used by the mode metrics
MIN_PER_MODE = 20        # high-quality samples a mode needs to count as covered
DRAWN_JITTER = 0.04      # σ of the Gaussian around each drawn point


# ------------------------------------------------------------------ datasets


class ToyData:
    """An endless source of real 2-D points: ``sample(n) -> (n, 2) float32 tensor``."""

    def __init__(self, name: str, *, points: np.ndarray | None = None, seed: int = 0):
        if name not in TOY_DATASETS:
            raise ValueError(f"unknown 2-D dataset {name!r}; choose one of {', '.join(TOY_DATASETS)}")
        self.name = name
        self.gen = torch.Generator().manual_seed(int(seed))
        self.modes: torch.Tensor | None = None    # (M, 2) mode centres when the data has modes
        self.sigma = 0.0
        self.extent = 3.0                         # plots show [−extent, extent]²
        if name == "ring":
            a = torch.arange(8, dtype=torch.float32) * (2 * np.pi / 8)
            self.modes, self.sigma = torch.stack([2 * torch.cos(a), 2 * torch.sin(a)], 1), 0.02
        elif name == "grid":
            v = torch.arange(-4, 5, 2, dtype=torch.float32)
            self.modes = torch.stack(torch.meshgrid(v, v, indexing="ij"), -1).reshape(-1, 2)
            self.sigma, self.extent = 0.05, 5.5
        elif name == "drawn":
            pts = check_points(points)
            self.points = torch.as_tensor(pts, dtype=torch.float32)

    def sample(self, n: int) -> torch.Tensor:
        g = self.gen
        if self.modes is not None:
            idx = torch.randint(len(self.modes), (n,), generator=g)
            return self.modes[idx] + self.sigma * torch.randn(n, 2, generator=g)
        if self.name == "moons":
            t = torch.rand(n, generator=g) * np.pi
            upper = torch.rand(n, generator=g) < 0.5
            x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
            y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
            pts = torch.stack([x - 0.5, y - 0.25], 1) * 1.6
            return pts + 0.05 * torch.randn(n, 2, generator=g)
        if self.name == "spiral":
            t = torch.sqrt(torch.rand(n, generator=g)) * 3 * np.pi   # uniform along the arm
            r = t / (3 * np.pi) * 2.5
            pts = torch.stack([r * torch.cos(t), r * torch.sin(t)], 1)
            return pts + 0.04 * torch.randn(n, 2, generator=g)
        # drawn
        idx = torch.randint(len(self.points), (n,), generator=g)
        return self.points[idx] + DRAWN_JITTER * torch.randn(n, 2, generator=g)

    def batches(self, batch_size: int):
        while True:
            yield self.sample(batch_size)


def check_points(points) -> np.ndarray:
    """A drawn distribution: at least 2 distinct finite points (x, y)."""
    if points is None:
        raise ValueError("draw some points first: the 'drawn' dataset is whatever you draw")
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2) if len(points) else np.zeros((0, 2))
    pts = pts[np.isfinite(pts).all(1)]
    if len(np.unique(np.round(pts, 3), axis=0)) < 2:
        raise ValueError(f"a drawn distribution needs at least 2 different points, got {len(pts)}: "
                         "draw a few strokes on the canvas")
    return pts.astype(np.float32)


# ------------------------------------------------------------------ networks


@dataclass
class ToyConfig:
    z_dim: int = 2
    hidden: int = 64         # neurons per hidden layer of G
    layers: int = 2          # hidden layers in G (and in D unless d_layers is set)
    d_hidden: int = 0        # neurons per hidden layer of D (0: as G's)
    d_layers: int = 0        # hidden layers of D (0: as G's)


class ToyGenerator(nn.Module):
    """z (B, z_dim) → point (B, 2): an MLP with ReLU."""

    def __init__(self, cfg: ToyConfig):
        super().__init__()
        self.cfg = cfg
        dims = [cfg.z_dim] + [cfg.hidden] * cfg.layers
        mods: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            mods += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*mods, nn.Linear(dims[-1], 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)                                   # (B, 2)


class ToyDiscriminator(nn.Module):
    """point (B, 2) → logit (B,): an MLP with LeakyReLU(0.2)."""

    def __init__(self, cfg: ToyConfig):
        super().__init__()
        self.cfg = cfg
        dims = [2] + [cfg.d_hidden or cfg.hidden] * (cfg.d_layers or cfg.layers)
        mods: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            mods += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*mods, nn.Linear(dims[-1], 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)                          # (B,)


# ------------------------------------------------------------------ noise

NOISES = ("gaussian", "uniform")
NOISE_NAMES = {"gaussian": "Gaussian N(0, I)", "uniform": "uniform on [−1, 1]^d"}


def sample_noise(noise: str, n: int, z_dim: int, generator: torch.Generator | None = None,
                 device=None) -> torch.Tensor:
    """z for G: (n, z_dim), standard Gaussian or uniform on [−1, 1] in every coordinate."""
    if noise == "uniform":
        return torch.rand(n, z_dim, generator=generator, device=device) * 2 - 1
    return torch.randn(n, z_dim, generator=generator, device=device)


def z_grid(noise: str, n: int = 15) -> torch.Tensor:
    """A regular n×n grid of 2-D z (row-major, y first): ±2 for Gaussian noise (≈ 95 % of each
    coordinate's mass), the whole square [−1, 1]² for uniform noise.  Its image under G is G's manifold."""
    r = 1.0 if noise == "uniform" else 2.0
    v = torch.linspace(-r, r, n)
    yy, xx = torch.meshgrid(v, v, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)          # (n*n, 2)


# ------------------------------------------------------------------ metrics


def mode_metrics(samples: np.ndarray | torch.Tensor, modes: np.ndarray | torch.Tensor, sigma: float,
                 min_per_mode: int = MIN_PER_MODE) -> dict:
    """Modes covered and share of high-quality samples (VEEGAN's definitions).

    high-quality: ‖x − nearest mode‖ ≤ 3σ;  covered: ≥ ``min_per_mode`` high-quality samples
    nearest to the mode.  ``min_per_mode`` is stated for 2,500 samples; it is scaled for other n.
    """
    x = torch.as_tensor(np.asarray(samples), dtype=torch.float32).reshape(-1, 2)
    m = torch.as_tensor(np.asarray(modes), dtype=torch.float32).reshape(-1, 2)
    d = torch.cdist(x, m)                                    # (N, M)
    dist, nearest = d.min(1)
    hq = dist <= 3 * sigma
    counts = torch.bincount(nearest[hq], minlength=len(m))
    need = max(1, round(min_per_mode * len(x) / N_METRIC))
    return {"modes_covered": int((counts >= need).sum()), "n_modes": int(len(m)),
            "high_quality": float(hq.float().mean()) if len(x) else 0.0,
            "per_mode": counts.tolist()}


KL_GRID = 20             # cells per side of the grid on which KL and JS are estimated
KL_EPS = 1e-4            # added to every cell's probability (an empty cell would make KL infinite)


def grid_divergences(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, extent: float,
                     n: int = KL_GRID, eps: float = KL_EPS) -> dict:
    """KL(P_real ‖ P_G) and JS(P_real, P_G) in bits, estimated from samples on an n×n grid over
    [−extent, extent]² (points outside count in the border cells), as GAN Lab does: each
    distribution becomes the share of its samples per cell, and ``eps`` is added to every share.
    JS lies in [0, 1] bit; KL is unbounded (large where real data has mass and G has none)."""
    def hist(pts):
        p = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
        idx = np.clip(((p + extent) / (2 * extent) * n).astype(np.int64), 0, n - 1)
        h = np.bincount(idx[:, 1] * n + idx[:, 0], minlength=n * n).astype(np.float64)
        return h / max(1, len(p))
    P, Q = hist(real), hist(fake)
    M = 0.5 * (P + Q)
    kl = float(np.sum((P + eps) * np.log2((P + eps) / (Q + eps))))
    js = 0.5 * float(np.sum((P + eps) * np.log2((P + eps) / (M + eps)))
                     + np.sum((Q + eps) * np.log2((Q + eps) / (M + eps))))
    return {"kl": kl, "js": js}


@torch.no_grad()
def d_field(D: nn.Module, extent: float, n: int = 64) -> np.ndarray:
    """σ(D(x)) on an n×n grid over [−extent, extent]² (row 0 = top, y decreasing)."""
    v = torch.linspace(-extent, extent, n)
    yy, xx = torch.meshgrid(v.flip(0), v, indexing="ij")
    out = torch.sigmoid(D(torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)))
    return out.reshape(n, n).numpy()


def g_gradients(objective, fake: torch.Tensor) -> np.ndarray:
    """−∂(G loss)/∂x at each generated point x: where G's loss pushes each sample (GAN Lab's arrows)."""
    x = fake.detach().clone().requires_grad_(True)
    loss = g_loss(objective.loss, objective.D(x)) * len(x)     # per-sample gradient scale
    (grad,) = torch.autograd.grad(loss, x)
    return (-grad).numpy()


# ------------------------------------------------------------------ a plain raster view (GIF frames)

FAKE_RGB = np.array([214, 39, 40], dtype=np.float32)     # generated points: red
REAL_RGB = np.array([31, 119, 180], dtype=np.float32)    # real points: blue


def render_frame(real: np.ndarray | None, fake: np.ndarray, field: np.ndarray | None, extent: float,
                 size: int = 256) -> np.ndarray:
    """uint8 (size, size, 3): D's output as background (dark = "fake", light = "real"),
    real points blue, generated points red.  Pure numpy: cheap enough for every frame."""
    if field is not None:
        f = np.asarray(field, dtype=np.float32)
        iy = np.minimum((np.arange(size) * f.shape[0]) // size, f.shape[0] - 1)
        ix = np.minimum((np.arange(size) * f.shape[1]) // size, f.shape[1] - 1)
        v = f[iy][:, ix][..., None]                                   # (size, size, 1) in [0, 1]
        img = 70 + 170 * v * np.ones(3, dtype=np.float32)             # grey ramp
    else:
        img = np.full((size, size, 3), 240, dtype=np.float32)
    for pts, rgb in ((real, REAL_RGB), (fake, FAKE_RGB)):
        if pts is None or not len(pts):
            continue
        p = np.asarray(pts, dtype=np.float32)
        col = np.round((p[:, 0] + extent) / (2 * extent) * (size - 1)).astype(int)
        row = np.round((extent - p[:, 1]) / (2 * extent) * (size - 1)).astype(int)
        ok = (col >= 1) & (col < size - 1) & (row >= 1) & (row < size - 1)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                img[row[ok] + dr, col[ok] + dc] = rgb
    return np.clip(img, 0, 255).astype(np.uint8)
