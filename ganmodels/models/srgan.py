"""4× super-resolution: SRResNet and SRGAN (Ledig et al. 2017), sized for a CPU.

* **SRResNet** = the generator G alone, trained for pixel accuracy:
  L_pixel = ‖G(I_LR) − I_HR‖²  (mean over pixels; ``--pixel-loss l1`` for ‖·‖₁).
  It maximises PSNR, and so averages every plausible texture into a smooth one.
* **SRGAN** = the same G, initialised from SRResNet, trained with the perceptual loss
  l_SR = l_content + 10⁻³ · l_adv,   l_adv = −log D(G(I_LR))
  while D learns to tell G(I_LR) from real HR crops (the non-saturating GAN game).
  The paper's content loss compares VGG19 features; no pretrained VGG can be had
  offline, so here l_content is the pixel MSE (the paper's "SRGAN-MSE"), plus
  the VGG feature loss only for users who pass ``--vgg-weights PATH``.

Generator (paper Fig. 4, narrower and shallower for CPU inference)::

    I_LR (B,3,h,w) ─ conv k9 ─ PReLU ─┬─ B × [conv─(BN)─PReLU─conv─(BN) + skip] ─ conv─(BN) ─(+)─
                                      └──────────────────────────────────────────────────────┘
    ─ [conv → PixelShuffle(2) → PReLU] × 2 ─ conv k3 ─(+ bicubic(I_LR), optional)─ I_SR (B,3,4h,4w)

``batchnorm`` is a config switch (the paper has it; EDSR (Lim et al. 2017) showed that
removing it helps SR, and it trains faster on small CPU batches): the shipped
weights' header says which they use.  ``bicubic_skip`` adds the bicubic upscale to
the output, so the residual net only learns the missing detail (and starts *at* bicubic).

Evaluation follows the standard SR protocol: HR cropped to a multiple of 4, LR by
bicubic ×4 downscaling (antialiased, as MATLAB's ``imresize``), PSNR and SSIM on the
Y channel of YCbCr (ITU-R BT.601) with a 4-pixel border removed.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ganmodels import weights as W

FAMILY = "srgan"
SCALE = 4
FILES = {"srresnet": "srresnet_G.safetensors", "srgan": "srgan_G.safetensors", "D": "srgan_D.safetensors"}
METHODS = ("bicubic", "srresnet", "srgan")
MIN_SIDE = 8                       # smaller inputs are refused
MAX_INPUT_PIXELS = 1024 * 1024     # default cap on the LR input (the output is 16× larger)
TILE, OVERLAP = 256, 24            # tiled inference: LR tile size and overlap (> receptive field)
EVAL_IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right",
               "hubble_deep_field", "retina")


# ============================================================== networks


@dataclass
class SRConfig:
    channels: int = 32          # feature maps in the residual trunk (paper: 64)
    blocks: int = 8             # residual blocks (paper: 16)
    batchnorm: bool = False     # paper: True; see the module docstring
    bicubic_skip: bool = True   # I_SR = bicubic(I_LR) + residual
    head_kernel: int = 9        # paper: 9×9 first conv
    scale: int = 4
    # each 2× step: "shuffle" = conv to 4c channels + PixelShuffle (the paper's sub-pixel convolution);
    # "resize" = nearest-neighbour 2× + 3×3 conv (as ESRGAN, Wang et al. 2018), far less prone to the
    # periodic checkerboard that adversarial training pushes sub-pixel layers into (Odena et al. 2016)
    upsample: str = "shuffle"


UPSAMPLE = ("shuffle", "resize")   # the choices of SRConfig.upsample


@dataclass
class SRDConfig:
    ndf: int = 16               # first conv width (paper: 64), doubled every two convs to 8·ndf
    pool: int = 4               # adaptive average pool to pool×pool before the dense layers
    dense: int = 256            # paper: 1024


class ResidualBlock(nn.Module):
    def __init__(self, c: int, bn: bool):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1, bias=not bn), nn.BatchNorm2d(c) if bn else nn.Identity(),
            nn.PReLU(c),
            nn.Conv2d(c, c, 3, 1, 1, bias=not bn), nn.BatchNorm2d(c) if bn else nn.Identity(),
        )

    def forward(self, x):
        return x + self.body(x)  # (B, c, h, w)


def bicubic_up(x: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """Bicubic upscaling (Keys a = −0.75, as PyTorch/OpenCV), borders replicated."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def bicubic_down(x: torch.Tensor, scale: int = SCALE) -> torch.Tensor:
    """Antialiased bicubic downscaling (matches PIL's / MATLAB imresize's BICUBIC filter)."""
    h, w = x.shape[-2] // scale, x.shape[-1] // scale
    return F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False, antialias=True)


class Generator(nn.Module):
    """G: I_LR (B,3,h,w) in [-1,1] → I_SR (B,3,4h,4w) in [-1,1] (not clamped)."""

    def __init__(self, cfg: SRConfig):
        super().__init__()
        if cfg.scale != 4:
            raise ValueError("only scale 4 is supported")
        self.cfg = cfg
        c, bn = cfg.channels, cfg.batchnorm
        self.head = nn.Sequential(nn.Conv2d(3, c, cfg.head_kernel, 1, cfg.head_kernel // 2), nn.PReLU(c))
        self.trunk = nn.Sequential(*[ResidualBlock(c, bn) for _ in range(cfg.blocks)])
        self.trunk_end = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=not bn),
                                       nn.BatchNorm2d(c) if bn else nn.Identity())
        if cfg.upsample not in UPSAMPLE:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLE)}, not {cfg.upsample!r}")
        if cfg.upsample == "shuffle":
            # (B, c, h, w) → conv → (B, 4c, h, w) → PixelShuffle → (B, c, 2h, 2w), twice
            up = [[nn.Conv2d(c, 4 * c, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(c)] for _ in range(2)]
        else:
            # (B, c, h, w) → nearest 2× → (B, c, 2h, 2w) → conv → (B, c, 2h, 2w), twice
            up = [[nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, 1, 1), nn.PReLU(c)]
                  for _ in range(2)]
        self.upsample = nn.Sequential(*up[0], *up[1])
        self.tail = nn.Conv2d(c, 3, 3, 1, 1)  # (B, 3, 4h, 4w)
        if cfg.bicubic_skip:  # start exactly at bicubic: the residual branch outputs 0
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        h0 = self.head(lr)                          # (B, c, h, w)
        h = self.trunk_end(self.trunk(h0)) + h0     # (B, c, h, w)   long skip
        out = self.tail(self.upsample(h))           # (B, 3, 4h, 4w)
        if self.cfg.bicubic_skip:
            out = out + bicubic_up(lr)              # global skip: learn only the missing detail
        return out


class Discriminator(nn.Module):
    """D: an HR crop (B,3,H,W) → one logit per image; D(x) = σ(logit) = P(x is a real photo).

    Paper Fig. 4: 8 conv layers (3×3, LeakyReLU 0.2, BN after the first), the
    stride alternating 1, 2, widths ndf → 8·ndf, then dense → LeakyReLU → dense.
    """

    def __init__(self, cfg: SRDConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.ndf
        layers = [nn.Conv2d(3, d, 3, 1, 1), nn.LeakyReLU(0.2, True)]         # (B, d, H, W)
        widths = [(d, d, 2), (d, 2 * d, 1), (2 * d, 2 * d, 2), (2 * d, 4 * d, 1),
                  (4 * d, 4 * d, 2), (4 * d, 8 * d, 1), (8 * d, 8 * d, 2)]
        for cin, cout, s in widths:                                            # → (B, 8d, H/16, W/16)
            layers += [nn.Conv2d(cin, cout, 3, s, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, True)]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(cfg.pool)                              # (B, 8d, pool, pool)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8 * d * cfg.pool ** 2, cfg.dense),
                                  nn.LeakyReLU(0.2, True), nn.Linear(cfg.dense, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x))).view(-1)  # (B,)


# ============================================================== images ↔ tensors, inference


def check_image(img, *, max_pixels: int | None = MAX_INPUT_PIXELS, what: str = "the image"
                ) -> tuple[np.ndarray, list[str]]:
    """Any PIL image / array → uint8 RGB (H,W,3), plus notes about what was converted.

    Grey is copied to the three channels; an alpha channel is composited on white.
    Raises ValueError with a teaching message for non-images and bad sizes.
    """
    from PIL import Image

    notes: list[str] = []
    if isinstance(img, Image.Image):
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
        elif img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img = np.asarray(img)
    try:
        a = np.asarray(img)
    except Exception:  # noqa: BLE001
        raise ValueError(f"{what} is not an image") from None
    if a.dtype == object or a.ndim not in (2, 3) or a.size == 0:
        raise ValueError(f"{what} is not an image (got an array of shape {a.shape})")
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1:
            a = (a * 255).round().astype(np.uint8)
        elif np.issubdtype(a.dtype, np.integer) and a.min() >= 0 and a.max() <= 255:
            a = a.astype(np.uint8)
        else:
            raise ValueError(f"{what} must hold 8-bit pixel values (0–255), got {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
        notes.append("grey image: copied to R, G and B (the networks were trained on colour photos)")
    elif a.shape[2] == 2:  # grey + alpha
        al = a[:, :, 1:2].astype(np.float32) / 255
        a = np.repeat((a[:, :, :1] * al + 255 * (1 - al)).round().astype(np.uint8), 3, axis=2)
        notes.append("transparent pixels were put on a white background")
    elif a.shape[2] == 4:
        al = a[:, :, 3:4].astype(np.float32) / 255
        if (al < 1).any():
            notes.append("transparent pixels were put on a white background")
        a = (a[:, :, :3] * al + 255 * (1 - al)).round().astype(np.uint8)
    elif a.shape[2] != 3:
        raise ValueError(f"{what} has {a.shape[2]} channels; give an RGB, grey or RGBA image")
    h, w = a.shape[:2]
    if h < MIN_SIDE or w < MIN_SIDE:
        raise ValueError(f"{what} is {w}×{h} pixels: super-resolution needs at least "
                         f"{MIN_SIDE}×{MIN_SIDE} (there is nothing to learn from fewer pixels)")
    if max_pixels is not None and h * w > max_pixels:
        raise ValueError(f"{what} is {w}×{h} = {h * w / 1e6:.2f} Mpixels; the limit here is "
                         f"{max_pixels / 1e6:.2f} Mpixels (the 4× output would have "
                         f"{16 * h * w / 1e6:.0f} Mpixels). Crop or shrink it first.")
    return np.ascontiguousarray(a), notes


def img_to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 (H,W,3) → float (1,3,H,W) in [-1, 1]."""
    a = img if (img.flags.writeable and img.flags.c_contiguous) else np.array(img)
    return torch.from_numpy(a).permute(2, 0, 1)[None].float() / 127.5 - 1.0


def tensor_to_img(x: torch.Tensor) -> np.ndarray:
    """float (1,3,H,W) in [-1, 1] → uint8 (H,W,3) (clamped, rounded)."""
    return ((x[0].detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def modcrop(img: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """Crop H and W down to multiples of ``scale`` (the standard SR protocol)."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


def downscale(hr: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """uint8 HR (H,W,3) → uint8 LR (H/4, W/4, 3) by antialiased bicubic, rounded like a saved image."""
    hr = modcrop(hr, scale)
    return tensor_to_img(bicubic_down(img_to_tensor(hr), scale))


def bicubic_upscale(lr: np.ndarray, scale: int = SCALE) -> np.ndarray:
    return tensor_to_img(bicubic_up(img_to_tensor(lr), scale))


@torch.no_grad()
def run_tiled(G: nn.Module, lr: torch.Tensor, tile: int = TILE, overlap: int = OVERLAP,
              progress=None) -> torch.Tensor:
    """G over overlapping LR tiles, pasting each tile's centre: memory bounded by the tile size.

    With ``overlap`` ≥ the receptive field (≈ 23 LR pixels for the shipped nets),
    the result equals the untiled one up to float rounding.
    """
    _, _, h, w = lr.shape
    s = SCALE
    out = torch.empty(1, 3, h * s, w * s, device=lr.device)
    ys, xs = range(0, h, tile), range(0, w, tile)
    n, i = len(ys) * len(xs), 0
    for y0 in ys:
        for x0 in xs:
            y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
            a, b = max(y0 - overlap, 0), max(x0 - overlap, 0)                 # padded tile
            c, d = min(y1 + overlap, h), min(x1 + overlap, w)
            sr = G(lr[:, :, a:c, b:d])                                         # (1, 3, 4(c−a), 4(d−b))
            out[:, :, y0 * s:y1 * s, x0 * s:x1 * s] = sr[:, :, (y0 - a) * s:(y1 - a) * s,
                                                         (x0 - b) * s:(x1 - b) * s]
            i += 1
            if progress is not None:
                progress(i, n)
    return out


@torch.no_grad()
def super_resolve(G: nn.Module | None, lr: np.ndarray, *, tile: int | None = None, overlap: int = OVERLAP,
                  device="cpu", progress=None) -> np.ndarray:
    """uint8 LR (h,w,3) → uint8 SR (4h,4w,3). ``G=None`` → bicubic.

    ``tile=None`` picks the tiled path automatically when the input is larger than TILE×TILE.
    """
    x = img_to_tensor(lr).to(device)
    if G is None:
        return tensor_to_img(bicubic_up(x))
    G.eval()
    h, w = lr.shape[:2]
    if tile is None:
        tile = TILE if h * w > TILE * TILE else 0
    if tile and (h > tile or w > tile):
        return tensor_to_img(run_tiled(G, x, tile, overlap, progress))
    return tensor_to_img(G(x))


class SRModels:
    """The loaded pair of generators (eval mode): ``srresnet`` and ``srgan`` (and D when present)."""

    def __init__(self, srresnet: Generator, srgan: Generator, D: Discriminator | None = None,
                 device="cpu", manifest: dict | None = None):
        self.nets = {"srresnet": srresnet, "srgan": srgan}
        self.D, self.device, self.manifest = D, torch.device(device), manifest or {}

    @property
    def srresnet(self) -> Generator:
        return self.nets["srresnet"]

    @property
    def srgan(self) -> Generator:
        return self.nets["srgan"]

    def upscale(self, method: str, lr: np.ndarray, tile: int | None = None, progress=None) -> np.ndarray:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        return super_resolve(None if method == "bicubic" else self.nets[method], lr, tile=tile,
                             device=self.device, progress=progress)


def _load_G(store: W.WeightStore, name: str, device) -> Generator:
    G, _, _ = W.load_network(store.path(FILES[name]), Generator, SRConfig, family=FAMILY,
                             network=f"{name}_G", device=device, manifest=store.manifest_for_check())
    return G.requires_grad_(False).eval()


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None,
         with_D: bool = False) -> SRModels:
    store = store or W.WeightStore(weights_dir)
    D = None
    if with_D:
        D, _, _ = W.load_network(store.path(FILES["D"]), Discriminator, SRDConfig, family=FAMILY,
                                 network="D", device=device, manifest=store.manifest_for_check())
        D.requires_grad_(False)
    man = store.manifest_for_check() or {}
    return SRModels(_load_G(store, "srresnet", device), _load_G(store, "srgan", device), D, device,
                    man.get("files", {}) if isinstance(man, dict) else {})


def save_G(G: nn.Module, name: str, out_dir: str | Path) -> dict[str, str]:
    p = Path(out_dir) / FILES[name]
    return {FILES[name]: W.save_network(G, p, family=FAMILY, network=f"{name}_G", config=G.cfg)}


def save_D(D: nn.Module, out_dir: str | Path) -> dict[str, str]:
    p = Path(out_dir) / FILES["D"]
    return {FILES["D"]: W.save_network(D, p, family=FAMILY, network="D", config=D.cfg)}


# ============================================================== metrics (the standard SR protocol)


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """uint8 RGB → float64 luma Y in [16, 235] (ITU-R BT.601, as MATLAB's rgb2ycbcr)."""
    x = img.astype(np.float64) / 255.0
    return 16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]


def shave(a: np.ndarray, border: int) -> np.ndarray:
    return a[border:a.shape[0] - border, border:a.shape[1] - border] if border else a


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """10·log10(R² / MSE); +inf for identical images."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """SSIM (Wang et al. 2004) of two grey images: Gaussian window σ = 1.5 (11×11),
    K1 = 0.01, K2 = 0.03, mean over the map without the 5-pixel edge the window cannot cover

        SSIM(x,y) = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),  C = (K·R)².
    """
    from scipy.ndimage import gaussian_filter

    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    f = lambda z: gaussian_filter(z, sigma=1.5, truncate=3.5, mode="reflect")  # noqa: E731
    mx, my = f(x), f(y)
    vx, vy, cxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    m = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(shave(m, 5).mean())


def grad_mag(y: np.ndarray) -> float:
    """Mean gradient magnitude √(∂x² + ∂y²) (central differences) of a grey image."""
    gy, gx = np.gradient(np.asarray(y, np.float64))
    return float(np.mean(np.hypot(gx, gy)))


def sr_metrics(sr: np.ndarray, hr: np.ndarray, border: int = SCALE) -> dict:
    """Y-channel PSNR/SSIM with ``border`` pixels removed, and sharpness = grad(SR)/grad(HR)."""
    ys, yh = shave(rgb_to_y(sr), border), shave(rgb_to_y(hr), border)
    return {"psnr": psnr(ys, yh), "ssim": ssim(ys, yh), "sharpness": grad_mag(ys) / max(grad_mag(yh), 1e-12)}


def skimage_image(name: str) -> np.ndarray:
    import skimage.data as sd

    if name == "motorcycle_left":
        return sd.stereo_motorcycle()[0]
    if name == "motorcycle_right":
        return sd.stereo_motorcycle()[1]
    return getattr(sd, name)()


def evaluate(args) -> dict:
    """The issue's protocol on the 8 skimage.data colour images (never used for training)."""
    model = load(args.weights, args.device)
    per, sums = {}, {m: {"psnr": 0.0, "ssim": 0.0, "sharpness": 0.0} for m in METHODS}
    times = {m: 0.0 for m in METHODS}
    for name in EVAL_IMAGES:
        hr = modcrop(skimage_image(name))
        lr = downscale(hr)
        per[name] = {}
        for m in METHODS:
            t0 = time.time()
            sr = model.upscale(m, lr)
            times[m] += time.time() - t0
            r = sr_metrics(sr, hr)
            per[name][m] = {k: round(v, 4) for k, v in r.items()}
            for k in r:
                sums[m][k] += r[k]
    n = len(EVAL_IMAGES)
    mean = {m: {k: round(v / n, 4) for k, v in sums[m].items()} for m in METHODS}
    metrics = {
        "test_images": "skimage.data: " + ", ".join(EVAL_IMAGES) + " (none used for training)",
        "protocol": "HR modcrop 4; LR = antialiased bicubic ÷4 (uint8); Y channel (BT.601), 4-px border "
                    "removed; SSIM Gaussian σ=1.5; sharpness = mean |∇Y| of SR / of HR",
        "mean": mean,
        "srresnet_gain_db": round(mean["srresnet"]["psnr"] - mean["bicubic"]["psnr"], 3),
        "srgan_gain_db": round(mean["srgan"]["psnr"] - mean["bicubic"]["psnr"], 3),
        "srgan_sharper_than_srresnet": bool(mean["srgan"]["sharpness"] > mean["srresnet"]["sharpness"]),
        "per_image": per,
        "seconds_total": {m: round(t, 2) for m, t in times.items()},
    }
    return {"files": [FILES["srresnet"], FILES["srgan"]], "metrics": metrics}


# ============================================================== the upscale CLI


def upscale_cli(args) -> int:
    """``python -m ganmodels upscale --model srresnet|srgan IN OUT``: a file or a folder (names kept)."""
    from PIL import Image, UnidentifiedImageError

    from ganmodels.data import IMAGE_SUFFIXES, list_images

    src, dst = Path(args.input), Path(args.output)
    max_px = args.max_pixels or MAX_INPUT_PIXELS
    if max_px < MIN_SIDE * MIN_SIDE:
        raise SystemExit(f"--max-pixels must be at least {MIN_SIDE * MIN_SIDE}")
    if src.is_dir():
        pairs = [(p, dst / p.relative_to(src)) for p in list_images(src)]
        if not pairs:
            raise SystemExit(f"no images in {src} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
        if dst.exists() and not dst.is_dir():
            raise SystemExit(f"{src} is a folder, so the output must be a folder too ({dst} is a file)")
    elif src.is_file():
        if dst.is_dir():
            dst = dst / src.name
        if dst.suffix.lower() not in IMAGE_SUFFIXES:
            raise SystemExit(f"the output must be an image file (.png, .jpg, ...), not {dst.name!r}")
        pairs = [(src, dst)]
    else:
        raise SystemExit(f"input not found: {src}")

    G = None
    if args.model != "bicubic":
        store = W.WeightStore(args.weights, args.hub_repo)
        G = _load_G(store, args.model, args.device)
    failed = 0
    for p, q in pairs:
        try:
            with Image.open(p) as im:
                im.load()
                img, notes = check_image(im, max_pixels=max_px, what=str(p))
        except (UnidentifiedImageError, OSError) as e:
            print(f"skipped {p}: not a readable image ({e.__class__.__name__})", file=sys.stderr)
            failed += 1
            continue
        except ValueError as e:
            if len(pairs) == 1:
                raise SystemExit(f"error: {e}")
            print(f"skipped {p}: {e}", file=sys.stderr)
            failed += 1
            continue
        for n in notes:
            print(f"note ({p.name}): {n}", file=sys.stderr)
        sr = super_resolve(G, img, device=args.device)
        assert sr.shape[:2] == (img.shape[0] * SCALE, img.shape[1] * SCALE)
        q.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sr).save(q)
        print(f"{p} ({img.shape[1]}×{img.shape[0]}) → {q} ({sr.shape[1]}×{sr.shape[0]}, {args.model})",
              file=sys.stderr)
    if failed == len(pairs):
        raise SystemExit(f"error: none of the {len(pairs)} input(s) could be upscaled")
    return 0 if failed == 0 else 1


# ============================================================== training (python -m ganmodels.train srresnet|srgan)

DEFAULT_STEPS = 20000
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DEFAULT_DATA = [SHARED / "photo", Path("/usr/share/backgrounds/mate/nature")]
WALLPAPER_SHRINK = 2   # large wallpapers are shrunk ×2 first (less JPEG noise per pixel, more content per crop)


def load_training_images(folders, holdout: int = 32, min_side: int = 96) -> tuple[list[torch.Tensor], list[torch.Tensor], str]:
    """uint8 (3,H,W) tensors from image folders; the last ``holdout`` of the first folder → validation."""
    from PIL import Image

    from ganmodels.data import list_images

    train, val, desc = [], [], []
    for k, folder in enumerate(folders):
        folder = Path(folder)
        if not folder.is_dir():
            if k == 0:
                raise SystemExit(f"training folder not found: {folder} (pass --data DIR)")
            continue
        paths = list_images(folder)
        imgs = []
        for p in paths:
            try:
                with Image.open(p) as im:
                    im = im.convert("RGB")
                    if max(im.size) > 1000:
                        im = im.resize((im.size[0] // WALLPAPER_SHRINK, im.size[1] // WALLPAPER_SHRINK),
                                       Image.BICUBIC, reducing_gap=None)
                    a = np.asarray(im)
            except OSError:
                continue
            if min(a.shape[:2]) >= min_side:
                imgs.append(torch.from_numpy(a.copy()).permute(2, 0, 1))
        if k == 0 and holdout:
            imgs, v = imgs[:-holdout], imgs[-holdout:]
            val += v
        train += imgs
        shown = Path(os.path.relpath(folder, ROOT)) if folder.resolve().is_relative_to(SHARED.parent) else folder
        desc.append(f"{shown} ({len(imgs)} images)")
    if not train:
        raise SystemExit("no training images found")
    return train, val, "random HR crops from " + "; ".join(desc) + \
        f"; images > 1000 px shrunk ×{WALLPAPER_SHRINK}; LR = antialiased bicubic ÷4, rounded to 8 bits"


def make_lr(hr: torch.Tensor) -> torch.Tensor:
    """HR batch in [-1,1] → LR batch in [-1,1], quantised to 8 bits like a saved image."""
    lr = bicubic_down(hr).clamp(-1, 1)
    return torch.round((lr + 1) * 127.5) / 127.5 - 1


def crop_batches(images: list[torch.Tensor], batch: int, crop: int, seed: int = 0, rank: int = 0,
                 world: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (LR, HR) batches: random crop×crop HR patches (images drawn ∝ their area),
    random flips and 90° rotations; LR by bicubic ÷4."""
    g = torch.Generator().manual_seed(seed + 1000 * rank)
    imgs = images[rank::world]
    area = torch.tensor([float(i.shape[1] * i.shape[2]) for i in imgs])
    while True:
        idx = torch.multinomial(area, batch, replacement=True, generator=g)
        crops = []
        for i in idx.tolist():
            im = imgs[i]
            y = int(torch.randint(0, im.shape[1] - crop + 1, (1,), generator=g))
            x = int(torch.randint(0, im.shape[2] - crop + 1, (1,), generator=g))
            c = im[:, y:y + crop, x:x + crop]
            r = torch.randint(0, 8, (1,), generator=g).item()
            if r & 1:
                c = c.flip(2)
            c = torch.rot90(c, r >> 1, (1, 2))
            crops.append(c)
        hr = torch.stack(crops).float() / 127.5 - 1.0     # (B, 3, crop, crop)
        yield make_lr(hr), hr                              # (B, 3, crop/4, crop/4), (B, 3, crop, crop)


class VGGLoss(nn.Module):
    """Opt-in content loss on VGG19 features (the paper's φ₅,₄), from a local weight file."""

    def __init__(self, path: str, layer: int = 36):
        super().__init__()
        import torchvision

        vgg = torchvision.models.vgg19(weights=None)
        p = Path(path)
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file
            sd = load_file(str(p))
        else:
            sd = torch.load(p, map_location="cpu", weights_only=True)
        vgg.load_state_dict(sd)
        self.features = vgg.features[:layer].eval().requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, sr, hr):
        f = lambda x: self.features(((x.clamp(-1, 1) + 1) / 2 - self.mean) / self.std)  # noqa: E731
        return F.mse_loss(f(sr), f(hr)) / 12.75 ** 2  # the paper rescales VGG features by 1/12.75


def pixel_loss(kind: str, sr, hr):
    return F.l1_loss(sr, hr) if kind == "l1" else F.mse_loss(sr, hr)


def batch_psnr(sr, hr) -> float:
    """PSNR (RGB, [-1,1] → 255 scale) of a batch, for the progress bar."""
    mse = F.mse_loss(sr.detach().clamp(-1, 1), hr).item() / 4
    return 10 * math.log10(1 / max(mse, 1e-12))


class SRResNetObjective:
    """SRResNet: only G, trained on the pixel loss ‖G(I_LR) − I_HR‖²."""

    has_d = False

    def __init__(self, G, *, pixel: str = "mse", vgg: VGGLoss | None = None, vgg_weight: float = 1.0):
        self.G, self.pixel, self.vgg, self.vgg_weight = G, pixel, vgg, vgg_weight

    def g_loss(self, batch):
        lr, hr = batch
        sr = self.G(lr)
        loss = pixel_loss(self.pixel, sr, hr)
        logs = {"pixel": loss.item()}
        if self.vgg is not None:
            v = self.vgg(sr, hr)
            loss = loss + self.vgg_weight * v
            logs["vgg"] = v.item()
        logs["psnr"] = batch_psnr(sr, hr)
        return loss, logs


class SRGANObjective(SRResNetObjective):
    """SRGAN: D learns real HR vs G(I_LR); G minimises l_content + w_adv · (−log D(G(I_LR)))."""

    has_d = True
    reuse_batch = True

    def __init__(self, G, D, *, adv_weight: float = 1e-3, **kw):
        super().__init__(G, **kw)
        self.D, self.adv_weight = D, adv_weight

    def d_loss(self, batch):
        # (1) Update D: maximise log D(I_HR) + log(1 − D(G(I_LR)))
        lr, hr = batch
        sr = self.G(lr)                      # kept (with its graph) for the G step on the same batch
        self._fake = (lr, sr)
        r, f = self.D(hr), self.D(sr.detach())
        loss = F.softplus(-r).mean() + F.softplus(f).mean()
        return loss, {"d_loss": loss.item(), "d_real": torch.sigmoid(r).mean().item(),
                      "d_fake": torch.sigmoid(f).mean().item()}

    def g_loss(self, batch):
        # (2) Update G: minimise l_content + 10⁻³ · (−log D(G(I_LR)))
        lr, hr = batch
        cached = getattr(self, "_fake", None)
        self._fake = None
        # G has not changed since the D step (only D was updated), so G(I_LR) from there is reused
        sr = cached[1] if cached is not None and cached[0] is lr else self.G(lr)
        content = pixel_loss(self.pixel, sr, hr)
        logs = {"pixel": content.item()}
        if self.vgg is not None:
            v = self.vgg(sr, hr)
            content = content + self.vgg_weight * v
            logs["vgg"] = v.item()
        adv = F.softplus(-self.D(sr)).mean()          # −log D(G(I_LR)), non-saturating
        logs.update(adv=adv.item(), psnr=batch_psnr(sr, hr))
        return content + self.adv_weight * adv, logs


def add_args(p) -> None:
    p.add_argument("--data", action="append", default=None,
                   help="training image folder (repeatable); default ../shared/data/photo and, if "
                        "installed, /usr/share/backgrounds/mate/nature")
    p.add_argument("--holdout", type=int, default=32, help="last N images of the first folder: validation only")
    p.add_argument("--crop", type=int, default=96, help="HR crop size (multiple of 16)")
    p.add_argument("--channels", type=int, default=None)
    p.add_argument("--blocks", type=int, default=None)
    p.add_argument("--batchnorm", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--bicubic-skip", dest="bicubic_skip", action=argparse.BooleanOptionalAction,
                   default=None)
    p.add_argument("--upsample", choices=UPSAMPLE, default=None,
                   help="G's 2× steps: shuffle (sub-pixel conv, the paper; default) or resize "
                        "(nearest 2× + conv, far less prone to checkerboard artefacts)")
    p.add_argument("--ndf", type=int, default=None, help="SRGAN discriminator width")
    p.add_argument("--lr", type=float, default=2e-4, help="G learning rate (Adam)")
    p.add_argument("--lr-d", type=float, default=1e-4, help="D learning rate (Adam)")
    p.add_argument("--pixel-loss", choices=["mse", "l1"], default="mse")
    p.add_argument("--adv-weight", type=float, default=1e-3, help="SRGAN: weight of −log D(G(I_LR))")
    p.add_argument("--init", default=None, help="start G from this SRResNet weight file (e.g. "
                                                "weights/srresnet_G.safetensors): SRGAN's start as in the "
                                                "paper, or an SRResNet run continued; the manifest then adds "
                                                "up both runs' steps and joins their commands")
    p.add_argument("--decay-from", type=float, default=1.0,
                   help="learning rates decay linearly to 0 from this share of --steps (1: constant)")
    p.add_argument("--vgg-weights", default=None, help="opt-in VGG19 feature loss: torchvision vgg19 "
                                                       "weights (.pth or .safetensors) that you have locally")
    p.add_argument("--vgg-weight", type=float, default=1.0)


def make_run(args):
    from ganmodels.training.loop import Run, config_from_args, decay_schedulers

    dev = torch.device(args.device)
    if args.crop % 16:
        raise SystemExit("--crop must be a multiple of 16")
    lineage = None
    if args.init:
        G, cfg, lineage = init_generator(args.init, dev)
    else:
        if args.model == "srgan":
            print("warning: SRGAN without --init starts from scratch (the paper starts from SRResNet)",
                  file=sys.stderr)
        cfg = config_from_args(SRConfig, args)
        G = Generator(cfg).to(dev)
    folders = args.data or [str(d) for d in DEFAULT_DATA]
    train_imgs, val_imgs, desc = load_training_images(folders, args.holdout, args.crop)
    data = ((lr.to(dev), hr.to(dev)) for lr, hr in
            crop_batches(train_imgs, args.batch or 16, args.crop, args.seed, args.rank, args.world))
    vgg = VGGLoss(args.vgg_weights).to(dev) if args.vgg_weights else None
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.9, 0.999))
    loss_desc = f"pixel {args.pixel_loss.upper()}" + (" + VGG19 φ5,4 features" if vgg is not None else "")
    if args.model == "srgan":
        dcfg = config_from_args(SRDConfig, args)
        D = Discriminator(dcfg).to(dev)
        obj = SRGANObjective(G, D, adv_weight=args.adv_weight, pixel=args.pixel_loss, vgg=vgg,
                             vgg_weight=args.vgg_weight)
        opt_d = torch.optim.Adam(D.parameters(), lr=args.lr_d, betas=(0.9, 0.999))
        modules, opts = {"G": G, "D": D}, {"G": opt_g, "D": opt_d}
        loss_desc += f" + {args.adv_weight:g}·(−log D(G(I_LR)))"
    else:
        obj = SRResNetObjective(G, pixel=args.pixel_loss, vgg=vgg, vgg_weight=args.vgg_weight)
        modules, opts = {"G": G}, {"G": opt_g}
    val = [v[:, :192, :192] for v in val_imgs if v.shape[1] >= 192 and v.shape[2] >= 192][:16]

    @torch.no_grad()
    def sample():
        """Validation (held-out photos): Y-PSNR gain over bicubic and sharpness, printed; a sheet saved."""
        G.eval()
        gains, sharp, rows = [], [], []
        for i, v in enumerate(val):
            hr = v.permute(1, 2, 0).numpy()
            lr = downscale(hr)
            sr = super_resolve(G, lr, device=dev)
            bic = bicubic_upscale(lr)
            m, mb = sr_metrics(sr, hr), sr_metrics(bic, hr)
            gains.append(m["psnr"] - mb["psnr"])
            sharp.append(m["sharpness"])
            if i < 4:
                rows.append(np.concatenate([bic, sr, hr], axis=1))
        G.train()
        print(f"\n[val] {len(val)} held-out crops: PSNR gain over bicubic {np.mean(gains):+.3f} dB, "
              f"sharpness {np.mean(sharp):.3f}", file=sys.stderr, flush=True)
        return np.concatenate(rows, axis=0) if rows else np.zeros((8, 8, 3), np.uint8)

    def export(out: Path):
        G.eval()
        if args.model == "srgan":
            h = save_G(G, "srgan", out)
            h.update(save_D(D, out))
        else:
            h = save_G(G, "srresnet", out)
        G.train()
        return h

    G.train()
    return Run(modules=modules, optimizers=opts, objective=obj, data=data, export=export,
               data_desc=desc + f"; loss: {loss_desc}; batch {args.batch or 16} of {args.crop} px crops",
               sample=sample, lineage=lineage, fresh=(FILES["D"],),
               schedulers=decay_schedulers(tuple(opts.values()), args.steps or DEFAULT_STEPS, args.decay_from))


def init_generator(path, device):
    """G (trainable) from an SRResNet weight file, its config, and its lineage (steps, command) from the
    manifest beside it (none when the file has no manifest entry)."""
    path = Path(path)
    try:
        man = W.read_manifest(path.parent)
        G, cfg, _ = W.load_network(path, Generator, SRConfig, family=FAMILY, network="srresnet_G",
                                   device=device, manifest=man if path.name in man["files"] else None)
    except (W.WeightsError, OSError) as e:
        raise SystemExit(f"--init {path}: {e}") from None
    G.requires_grad_(True).train()
    entry = man.get("files", {}).get(path.name)
    lineage = (int(entry.get("steps", 0)), entry["command"]) if entry and entry.get("command") else None
    return G, cfg, lineage
