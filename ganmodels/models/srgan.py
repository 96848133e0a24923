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

Using the trained generators on whole images (tiled above 256² LR pixels) is
``ganmodels.inference.srgan``; the training recipe ``ganmodels.recipes.srgan``; the
evaluation ``ganmodels.evaluation.srgan``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

from ganmodels import weights as W
from ganmodels.errors import InputError
from ganmodels.imageio import as_rgb, image_to_tensor, tensor_to_image
from ganmodels.metrics import grad_mag, psnr, rgb_to_y, ssim

FAMILY = "srgan"
SCALE = 4
FILES = {"srresnet": "srresnet_G.safetensors", "srgan": "srgan_G.safetensors", "D": "srgan_D.safetensors"}
METHODS = ("bicubic", "srresnet", "srgan")
MIN_SIDE = 8                       # smaller inputs are refused
MAX_INPUT_PIXELS = 1024 * 1024     # default cap on the LR input (the output is 16× larger)
TILE, OVERLAP = 256, 24            # tiled inference: LR tile size and overlap (> receptive field)


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
            raise InputError("only scale 4 is supported")
        self.cfg = cfg
        c, bn = cfg.channels, cfg.batchnorm
        self.head = nn.Sequential(nn.Conv2d(3, c, cfg.head_kernel, 1, cfg.head_kernel // 2), nn.PReLU(c))
        self.trunk = nn.Sequential(*[ResidualBlock(c, bn) for _ in range(cfg.blocks)])
        self.trunk_end = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=not bn),
                                       nn.BatchNorm2d(c) if bn else nn.Identity())
        if cfg.upsample not in UPSAMPLE:
            raise InputError(f"upsample must be one of {', '.join(UPSAMPLE)}, not {cfg.upsample!r}")
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


# ============================================================== images: checks and the degradation model


def check_size(a, *, max_pixels: int | None = MAX_INPUT_PIXELS, what: str = "the image") -> None:
    """InputError when the LR input — an (H, W, 3) array or its (H, W) — is too small to upscale or too
    large for memory."""
    h, w = a.shape[:2] if hasattr(a, "shape") else a
    if h < MIN_SIDE or w < MIN_SIDE:
        raise InputError(f"{what} is {w}×{h} pixels: super-resolution needs at least "
                         f"{MIN_SIDE}×{MIN_SIDE} (there is nothing to learn from fewer pixels)")
    if max_pixels is not None and h * w > max_pixels:
        raise InputError(f"{what} is {w}×{h} = {h * w / 1e6:.2f} Mpixels; the limit here is "
                         f"{max_pixels / 1e6:.2f} Mpixels (the 4× output would have "
                         f"{16 * h * w / 1e6:.0f} Mpixels). Crop or shrink it first.")


def check_image(img, *, max_pixels: int | None = MAX_INPUT_PIXELS, what: str = "the image"
                ) -> tuple[np.ndarray, list[str]]:
    """Any PIL image / array → uint8 RGB (H,W,3) and notes (``imageio.as_rgb``), size-checked
    (:func:`check_size`; a PIL image is checked by its size before it is decoded).  Raises InputError
    with a teaching message."""
    if hasattr(img, "size") and not hasattr(img, "shape"):
        check_size((img.size[1], img.size[0]), max_pixels=max_pixels, what=what)
    a, notes = as_rgb(img, what=what)
    check_size(a, max_pixels=max_pixels, what=what)
    return a, notes


def modcrop(img: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """Crop H and W down to multiples of ``scale`` (the standard SR protocol)."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]


def downscale(hr: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """uint8 HR (H,W,3) → uint8 LR (H/4, W/4, 3) by antialiased bicubic, rounded like a saved image."""
    hr = modcrop(hr, scale)
    return tensor_to_image(bicubic_down(image_to_tensor(hr), scale))


def bicubic_upscale(lr: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """uint8 LR → uint8 bicubic ×4 (the baseline every SR method is compared with)."""
    return tensor_to_image(bicubic_up(image_to_tensor(lr), scale))


def make_lr(hr: torch.Tensor) -> torch.Tensor:
    """HR batch in [-1,1] → LR batch in [-1,1], quantised to 8 bits like a saved image."""
    lr = bicubic_down(hr).clamp(-1, 1)
    return torch.round((lr + 1) * 127.5) / 127.5 - 1


# ============================================================== the loaded model, weights


class SRModels:
    """The loaded pair of generators (eval mode): ``srresnet`` and ``srgan`` (and D when present);
    ``ganmodels.inference.srgan.upscale(model, method, lr)`` runs them."""

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


def load_generator(store: W.WeightStore, name: str, device="cpu") -> Generator:
    """The ``name`` ("srresnet" or "srgan") generator from ``store``, in eval mode."""
    G, _, _ = W.load_network(store.path(FILES[name]), Generator, SRConfig, family=FAMILY,
                             network=f"{name}_G", device=device, manifest=store.manifest_for_check())
    return G.requires_grad_(False).eval()


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None,
         with_D: bool = False) -> SRModels:
    """Both generators (and, optionally, SRGAN's discriminator), checked against the manifest."""
    store = store or W.WeightStore(weights_dir)
    D = None
    if with_D:
        D, _, _ = W.load_network(store.path(FILES["D"]), Discriminator, SRDConfig, family=FAMILY,
                                 network="D", device=device, manifest=store.manifest_for_check())
        D.requires_grad_(False)
    man = store.manifest_for_check() or {}
    return SRModels(load_generator(store, "srresnet", device), load_generator(store, "srgan", device), D, device,
                    man.get("files", {}) if isinstance(man, dict) else {})


def save_G(G: nn.Module, name: str, out_dir: str | Path) -> dict[str, str]:
    p = Path(out_dir) / FILES[name]
    return {FILES[name]: W.save_network(G, p, family=FAMILY, network=f"{name}_G", config=G.cfg)}


def save_D(D: nn.Module, out_dir: str | Path) -> dict[str, str]:
    p = Path(out_dir) / FILES["D"]
    return {FILES["D"]: W.save_network(D, p, family=FAMILY, network="D", config=D.cfg)}


# ============================================================== metrics (the standard SR protocol)


def shave(a: np.ndarray, border: int) -> np.ndarray:
    """``a`` without ``border`` pixels on each side (SR papers leave the border out of PSNR/SSIM)."""
    return a[border:a.shape[0] - border, border:a.shape[1] - border] if border else a


def sr_metrics(sr: np.ndarray, hr: np.ndarray, border: int = SCALE) -> dict:
    """Y-channel PSNR/SSIM with ``border`` pixels removed, and sharpness = grad(SR)/grad(HR)."""
    ys, yh = shave(rgb_to_y(sr), border), shave(rgb_to_y(hr), border)
    return {"psnr": psnr(ys, yh), "ssim": ssim(ys, yh), "sharpness": grad_mag(ys) / max(grad_mag(yh), 1e-12)}


# ============================================================== objectives


class VGGLoss(nn.Module):
    """Opt-in content loss on VGG19 features (the paper's φ₅,₄), from a local weight file."""

    def __init__(self, path: str, layer: int = 36):
        super().__init__()
        import torchvision

        vgg = torchvision.models.vgg19(weights=None)
        p = Path(path)
        if p.suffix == ".safetensors":
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

    def content_loss(self, sr, hr):
        """l_content = pixel loss (+ vgg_weight · VGG loss) and its logs."""
        loss = pixel_loss(self.pixel, sr, hr)
        logs = {"pixel": loss.item()}
        if self.vgg is not None:
            v = self.vgg(sr, hr)
            loss = loss + self.vgg_weight * v
            logs["vgg"] = v.item()
        return loss, logs

    def g_loss(self, batch):
        lr, hr = batch
        sr = self.G(lr)
        loss, logs = self.content_loss(sr, hr)
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
        content, logs = self.content_loss(sr, hr)
        adv = F.softplus(-self.D(sr)).mean()          # −log D(G(I_LR)), non-saturating
        logs.update(adv=adv.item(), psnr=batch_psnr(sr, hr))
        return content + self.adv_weight * adv, logs
