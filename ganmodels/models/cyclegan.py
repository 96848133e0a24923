"""CycleGAN (Zhu et al. 2017): unpaired photo ↔ Monet translation.

Two generators and two discriminators, named as in the paper (the reference code's
names in brackets):

* ``G``   [G_A]: X → Y, photo → Monet
* ``F``   [G_B]: Y → X, Monet → photo
* ``D_Y`` [D_A]: tells real Monets y from G(x)
* ``D_X`` [D_B]: tells real photos x from F(y)

The objective (§3 of the paper)::

    L(G, F, D_X, D_Y) = L_GAN(G, D_Y) + L_GAN(F, D_X)
                        + λ   (‖F(G(x)) − x‖₁ + ‖G(F(y)) − y‖₁)       cycle consistency, λ = 10
                        + ½λ  (‖G(y) − y‖₁ + ‖F(x) − x‖₁)             identity (keeps colours; §5.2)

with the least-squares adversarial loss (LSGAN): D minimises ½(D(y) − 1)² + ½D(G(x))²,
G minimises (D(G(x)) − 1)².  D is trained on a *history* of 50 generated images (the
image pool of Shrivastava et al. 2017), Adam (2e-4, β₁ = 0.5), the learning rate constant
for the first half of the steps and decaying linearly to 0 over the second half.

The networks are the paper's (Johnson et al.'s ResNet generator with reflection padding
and instance norm; the 70×70 PatchGAN), only narrower and shallower so that a 2-core CPU
can train them and translate a 512×512 image in well under a second.

Options beyond the paper (all off by default): λ_X and λ_Y weight the photo and Monet cycles
apart (the reference code's lambda_A / lambda_B); ``colour_skip`` gives G the input's
per-channel mean and std, which the instance norm after its first convolution hides
(G(a·x + c) = G(x)), so that a round trip can restore a photo's colours; ``d_scales`` adds
PatchGANs on 2×, 4×, … average-pooled copies of the image (pix2pixHD), the coarsest of which
judges a whole training crop.

Large images are translated in overlapping tiles, blended with a linear ramp.  Instance
norm normalises each image by *its own* statistics, so naive tiles would each get a
different normalisation (visible seams); we therefore measure the statistics once on the
whole image (downscaled when big) and freeze them while the tiles run.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

from ganmodels.training.loop import linear_decay
from ganmodels import weights as W

FAMILY = "cyclegan"
FILES = {"G": "cyclegan_G_photo2monet.safetensors", "F": "cyclegan_F_monet2photo.safetensors",
         "D_Y": "cyclegan_D_Y_monet.safetensors", "D_X": "cyclegan_D_X_photo.safetensors"}
JUDGE_FILE = "monet_judge.safetensors"
DIRECTIONS = ("photo2monet", "monet2photo")
HELDOUT_PERCENT = 12      # share of each folder kept out of training (by file-name hash)
MAX_PIXELS = 4096 * 4096  # default size cap for translation (bigger inputs are downscaled)
MIN_SIDE = 16             # smaller images are refused


@dataclass
class CycleGANConfig:
    ngf: int = 24          # generator width (the paper: 64)
    n_blocks: int = 6      # residual blocks (the paper: 9 for 256², 6 for 128²)
    ndf: int = 32          # discriminator width (the paper: 64)
    n_layers_d: int = 3    # PatchGAN depth: 3 → 70×70 receptive field
    channels: int = 3
    # G's two upsampling layers: "deconv" — the paper's stride-2 transposed convolutions;
    # "resize" — nearest-neighbour 2× then a 3×3 conv (Odena et al. 2016, "Deconvolution and
    # checkerboard artifacts"): no checkerboard pattern, ~20 % more compute in G.
    upsample: str = "deconv"
    # Instance norm after G's first convolution makes G blind to the input's per-channel mean
    # and its contrast (G(a·x + c) = G(x) exactly), so a round trip F(G(x)) cannot give a photo
    # its own colours back. colour_skip: the input's per-channel mean and std modulate G's last
    # pre-tanh activations (out = tanh(h·(1 + A·s) + B·s), A and B zero at the start: the paper's G).
    colour_skip: bool = False
    # Discriminators at several scales (Wang et al. 2018, pix2pixHD): the 70×70 PatchGAN on the
    # image, and copies of it on the image average-pooled 2×, 4×, … A 160² crop pooled 4× is 40²,
    # smaller than 70², so the coarsest one judges the whole crop: its palette and composition,
    # which a 70×70 patch cannot see. 1 = the paper's single PatchGAN.
    d_scales: int = 1


UPSAMPLE = ("deconv", "resize")   # the choices of CycleGANConfig.upsample


# ------------------------------------------------------------------ networks


class InstanceNorm(nn.Module):
    """Instance normalisation (Ulyanov et al. 2016), no affine part, as in the paper.

    ``mode``: "normal" — each image by its own per-channel mean/variance;
    "record" — the same, and remember the statistics; "frozen" — use the remembered
    ones (tiled inference: every tile is normalised like the whole image).
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.channels, self.eps = channels, eps
        self.mode = "normal"
        self.stats: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "normal":
            return Fn.instance_norm(x, eps=self.eps)  # fused; the same formula as below
        if self.mode == "frozen" and self.stats is not None:
            mean, var = self.stats
        else:
            var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, unbiased=False)
            if self.mode == "record":
                self.stats = (mean.detach(), var.detach())
        return (x - mean) * torch.rsqrt(var + self.eps)


class ColourSkip(nn.Module):
    """The input's per-channel mean and std, s = (μ, σ) (B, 2c), as a scale and shift of the
    output's pre-tanh activations: h·(1 + A s) + B s. A, B start at zero (no effect).

    Has instance norm's ``mode`` ("normal" / "record" / "frozen"), so tiled inference uses the
    whole image's (μ, σ) in every tile.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.scale, self.shift = nn.Linear(2 * channels, channels), nn.Linear(2 * channels, channels)
        for lin in (self.scale, self.shift):
            nn.init.zeros_(lin.weight), nn.init.zeros_(lin.bias)
        self.mode = "normal"
        self.stats: torch.Tensor | None = None

    def summary(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "frozen" and self.stats is not None:
            return self.stats
        var, mean = torch.var_mean(x, dim=(2, 3), unbiased=False)
        s = torch.cat([mean, torch.sqrt(var + 1e-6)], 1)
        if self.mode == "record":
            self.stats = s.detach()
        return s

    def forward(self, h: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return h * (1 + self.scale(s)[..., None, None]) + self.shift(s)[..., None, None]


class ResnetBlock(nn.Module):
    """x + [pad-conv3-IN-ReLU-pad-conv3-IN](x)  (reflection padding)."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), InstanceNorm(ch), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), InstanceNorm(ch),
        )

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """c7s1-k, d2k, d4k, R4k × n_blocks, u2k, uk, c7s1-3 (the paper's appendix, k = ngf)."""

    def __init__(self, cfg: CycleGANConfig):
        super().__init__()
        self.cfg = cfg
        k, c = cfg.ngf, cfg.channels
        layers = [
            # (B, 3, H, W)
            nn.ReflectionPad2d(3), nn.Conv2d(c, k, 7), InstanceNorm(k), nn.ReLU(True),
            # (B, k, H, W)
            nn.Conv2d(k, 2 * k, 3, 2, 1), InstanceNorm(2 * k), nn.ReLU(True),
            # (B, 2k, H/2, W/2)
            nn.Conv2d(2 * k, 4 * k, 3, 2, 1), InstanceNorm(4 * k), nn.ReLU(True),
            # (B, 4k, H/4, W/4)
        ]
        layers += [ResnetBlock(4 * k) for _ in range(cfg.n_blocks)]
        if cfg.upsample not in UPSAMPLE:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLE)}, not {cfg.upsample!r}")
        layers += [
            # (B, 4k, H/4, W/4)
            *_up(4 * k, 2 * k, cfg.upsample), InstanceNorm(2 * k), nn.ReLU(True),
            # (B, 2k, H/2, W/2)
            *_up(2 * k, k, cfg.upsample), InstanceNorm(k), nn.ReLU(True),
            # (B, k, H, W)
            nn.ReflectionPad2d(3), nn.Conv2d(k, c, 7), nn.Tanh(),
            # (B, 3, H, W) in [-1, 1]
        ]
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)
        self.skip = ColourSkip(c) if cfg.colour_skip else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # H, W must be multiples of 4 (see translate())
        if self.skip is None:
            return self.net(x)
        s = self.skip.summary(x)
        return torch.tanh(self.skip(self.net[:-1](x), s))   # net[-1] is the Tanh


def widen_generator(src: ResnetGenerator, ngf: int, *, noise: float = 0.01, seed: int = 0) -> ResnetGenerator:
    """A ``ngf``-wide copy of ``src`` that computes the same function (Net2WiderNet, Chen et al. 2016).

    Every hidden channel of the wider net copies one of ``src``'s (the first ones in order, then
    channels drawn at random); a layer reading a copied channel divides that input's weights by the
    number of copies, so its sums are unchanged. Instance norm gives every copy the same statistics,
    and the residual stream stays duplicated through ``x + body(x)``, so the output is ``src``'s.
    Copies would receive identical gradients forever, so ``noise`` × each weight tensor's std of
    Gaussian noise is added to break the symmetry (0: exactly ``src``'s function).
    """
    k = src.cfg.ngf
    if ngf < k:
        raise ValueError(f"widen_generator: ngf {ngf} is narrower than the source's {k}")
    cfg = dataclasses.replace(src.cfg, ngf=ngf)
    dst = ResnetGenerator(cfg)
    gen = torch.Generator().manual_seed(seed)
    maps: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}   # old width → (index map, copy counts)

    def mapping(old: int) -> tuple[torch.Tensor, torch.Tensor]:
        if old not in maps:
            new = old * ngf // k
            idx = torch.cat([torch.arange(old), torch.randint(0, old, (new - old,), generator=gen)])
            maps[old] = idx, torch.bincount(idx, minlength=old).float()
        return maps[old]

    convs = [(a, b) for a, b in zip(src.modules(), dst.modules()) if isinstance(a, (nn.Conv2d, nn.ConvTranspose2d))]
    for i, (a, b) in enumerate(convs):
        w = a.weight.detach().cpu()                 # built on the CPU (the noise's generator is there)
        if isinstance(a, nn.ConvTranspose2d):
            w = w.transpose(0, 1)                   # (cout, cin, kh, kw) like a Conv2d
        cout, cin = w.shape[:2]
        bias = a.bias.detach().cpu() if a.bias is not None else None
        if i > 0:                                   # input channels: a hidden layer's, copied
            idx, cnt = mapping(cin)
            w = w[:, idx] / cnt[idx].view(1, -1, 1, 1)
        if i < len(convs) - 1:                      # output channels: hidden, copied
            idx, _ = mapping(cout)
            w = w[idx]
            bias = bias[idx] if bias is not None else None
        if noise:
            w = w + noise * w.std() * torch.randn(w.shape, generator=gen)
        if isinstance(b, nn.ConvTranspose2d):
            w = w.transpose(0, 1)
        with torch.no_grad():
            b.weight.copy_(w)
            if bias is not None:
                b.bias.copy_(bias)
    if src.skip is not None:                        # RGB in, RGB out: the same at any width
        dst.skip.load_state_dict(src.skip.state_dict())
    return dst


def _up(cin: int, cout: int, kind: str) -> list[nn.Module]:
    """One 2× upsampling layer of G (see ``CycleGANConfig.upsample``)."""
    if kind == "resize":
        return [nn.Upsample(scale_factor=2, mode="nearest"), nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)]
    return [nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1)]


class PatchDiscriminator(nn.Module):
    """70×70 PatchGAN: C64-C128-C256-C512 (4×4 convs, LeakyReLU 0.2, IN from the 2nd),
    then a 4×4 conv to one score per overlapping 70×70 patch (LSGAN: no sigmoid)."""

    def __init__(self, cfg: CycleGANConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.ndf
        layers = [nn.Conv2d(cfg.channels, d, 4, 2, 1), nn.LeakyReLU(0.2, True)]  # (B, d, H/2, W/2)
        ch = d
        for i in range(1, cfg.n_layers_d + 1):
            nxt = d * min(2 ** i, 8)
            stride = 2 if i < cfg.n_layers_d else 1
            layers += [nn.Conv2d(ch, nxt, 4, stride, 1), InstanceNorm(nxt), nn.LeakyReLU(0.2, True)]
            ch = nxt
        # n_layers_d = 3: (B, 8d, H/8 − 1, W/8 − 1)
        layers += [nn.Conv2d(ch, 1, 4, 1, 1)]  # (B, 1, H/8 − 2, W/8 − 2): one score per patch
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MultiScaleDiscriminator(nn.Module):
    """``cfg.d_scales`` PatchGANs, the i-th on the input average-pooled 2^i × (pix2pixHD's
    3×3, stride-2 pooling); forward returns their score maps as a list, finest first."""

    def __init__(self, cfg: CycleGANConfig):
        super().__init__()
        self.cfg = cfg
        self.scales = nn.ModuleList(PatchDiscriminator(cfg) for _ in range(cfg.d_scales))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for i, d in enumerate(self.scales):
            if i:
                x = Fn.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
            outs.append(d(x))
        return outs


def make_discriminator(cfg: CycleGANConfig) -> nn.Module:
    """The paper's PatchGAN (``d_scales`` 1) or a multi-scale stack of them."""
    if cfg.d_scales < 1:
        raise ValueError(f"d_scales must be at least 1, not {cfg.d_scales}")
    return PatchDiscriminator(cfg) if cfg.d_scales == 1 else MultiScaleDiscriminator(cfg)


def smallest_crop(cfg: CycleGANConfig) -> int:
    """A training crop at least this large gives every scale's PatchGAN a score: each needs
    3·2^n_layers_d pixels (24 for the 70×70 one), and each scale halves the crop (pooling rounds
    up, so a crop a pixel or so smaller can still work; this bound is the simple, safe one)."""
    return 3 * 2 ** cfg.n_layers_d * 2 ** (cfg.d_scales - 1)


def init_weights(m: nn.Module) -> None:
    """The paper's initialisation: weights ~ N(0, 0.02)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def receptive_field(cfg: CycleGANConfig) -> int:
    """Receptive field of the PatchGAN in input pixels (70 for n_layers_d = 3)."""
    rf, jump = 1, 1
    strides = [2] + [2 if i < cfg.n_layers_d else 1 for i in range(1, cfg.n_layers_d + 1)] + [1]
    for s in strides:
        rf += 3 * jump
        jump *= s
    return rf


# ------------------------------------------------------------------ objective


class ImagePool:
    """A history of generated images (Shrivastava et al. 2017; CycleGAN §4).

    ``query(images)``: while the pool holds fewer than ``size`` images, each new image
    is stored and returned; afterwards, with probability ½ a new image is returned as
    it is, otherwise a random stored image is returned and the new one takes its place.
    """

    def __init__(self, size: int = 50, seed: int = 0):
        self.size = size
        self.images: list[torch.Tensor] = []
        self.rng = random.Random(seed)

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.size <= 0:
            return images
        out = []
        for im in images.detach():
            im = im.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(im.clone())
                out.append(im)
            elif self.rng.random() < 0.5:
                j = self.rng.randrange(self.size)
                out.append(self.images[j].clone())
                self.images[j] = im.clone()
            else:
                out.append(im)
        return torch.cat(out, 0)


def mse_to(pred: torch.Tensor | list[torch.Tensor], target: float) -> torch.Tensor:
    """LSGAN's squared error to a label; for a multi-scale D's list of score maps, the sum over
    scales, as in pix2pixHD (the finest scale weighs as the paper's single PatchGAN does)."""
    if isinstance(pred, (list, tuple)):
        return sum(mse_to(p, target) for p in pred)
    return ((pred - target) ** 2).mean()


def mean_score(pred: torch.Tensor | list[torch.Tensor]) -> float:
    """The mean of D's scores (over every scale of a multi-scale D), for the logs."""
    if isinstance(pred, (list, tuple)):
        return sum(mean_score(p) for p in pred) / len(pred)
    return pred.mean().item()


class CycleGANObjective:
    """The full CycleGAN objective; the loop calls d_loss(batch) then g_loss(batch).

    ``batch = (x, y)``: photos x and Monets y (unpaired), float in [-1, 1].
    The fakes that D sees come from the image pool, fed by the previous G step
    (so the D step costs no extra generator pass).
    """

    has_d = True
    reuse_batch = True  # D and G step on the same (x, y)

    def __init__(self, G, F, D_Y, D_X, *, lambda_cyc: float = 10.0, lambda_id: float = 0.5,
                 lambda_x: float | None = None, lambda_y: float | None = None,
                 pool_size: int = 50, seed: int = 0, emas: dict | None = None):
        self.G, self.F, self.D_Y, self.D_X = G, F, D_Y, D_X
        # moving averages of G and F ({"G": EMA, "F": EMA}, see --ema), updated after every step
        self.emas = emas or {}
        self.lambda_cyc = lambda_cyc
        # the two cycles may be weighted apart, as the CycleGAN repo's lambda_A / lambda_B:
        # λ_X for the photo cycle ‖F(G(x)) − x‖₁, λ_Y for the Monet cycle ‖G(F(y)) − y‖₁ (default: both λ)
        self.lambda_x = lambda_cyc if lambda_x is None else lambda_x
        self.lambda_y = lambda_cyc if lambda_y is None else lambda_y
        # identity weights as in that repo: ½λ_X for ‖F(x) − x‖₁ (F on photos), ½λ_Y for ‖G(y) − y‖₁
        self.lambda_id = lambda_id          # identity weight = lambda_id · λ (paper: 0.5λ)
        self.pool_Y = ImagePool(pool_size, seed)       # history of G(x) for D_Y
        self.pool_X = ImagePool(pool_size, seed + 1)   # history of F(y) for D_X
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def d_loss(self, batch):
        # (1) Update D_Y and D_X (LSGAN): minimise ½(D(real) − 1)² + ½ D(fake)²
        x, y = batch
        if self._last is None:  # first step: no G step has run yet
            with torch.no_grad():
                self._last = (self.G(x), self.F(y))
        fake_y = self.pool_Y.query(self._last[0])
        fake_x = self.pool_X.query(self._last[1])
        ry, fy = self.D_Y(y), self.D_Y(fake_y)
        rx, fx = self.D_X(x), self.D_X(fake_x)
        loss_dy = 0.5 * mse_to(ry, 1.0) + 0.5 * mse_to(fy, 0.0)
        loss_dx = 0.5 * mse_to(rx, 1.0) + 0.5 * mse_to(fx, 0.0)
        loss = loss_dy + loss_dx
        return loss, {"D_Y": loss_dy.item(), "D_X": loss_dx.item(),
                      "D_Y_real": mean_score(ry), "D_Y_fake": mean_score(fy)}

    def g_loss(self, batch):
        # (2) Update G and F: adversarial (D(G(x)) − 1)² + (D(F(y)) − 1)²
        #     + λ(‖F(G(x)) − x‖₁ + ‖G(F(y)) − y‖₁) + ½λ(‖G(y) − y‖₁ + ‖F(x) − x‖₁)
        x, y = batch
        fake_y, fake_x = self.G(x), self.F(y)                   # G(x) ~ Monet, F(y) ~ photo
        adv_g = mse_to(self.D_Y(fake_y), 1.0)
        adv_f = mse_to(self.D_X(fake_x), 1.0)
        cyc_x = (self.F(fake_y) - x).abs().mean()               # ‖F(G(x)) − x‖₁
        cyc_y = (self.G(fake_x) - y).abs().mean()               # ‖G(F(y)) − y‖₁
        loss = adv_g + adv_f + self.lambda_x * cyc_x + self.lambda_y * cyc_y
        logs = {"G_adv": adv_g.item(), "F_adv": adv_f.item(), "cyc_x": cyc_x.item(), "cyc_y": cyc_y.item()}
        if self.lambda_id > 0:
            id_y = (self.G(y) - y).abs().mean()                 # ‖G(y) − y‖₁
            id_x = (self.F(x) - x).abs().mean()                 # ‖F(x) − x‖₁
            loss = loss + self.lambda_id * (self.lambda_y * id_y + self.lambda_x * id_x)
            logs.update(id_x=id_x.item(), id_y=id_y.item())
        self._last = (fake_y.detach(), fake_x.detach())
        logs["g_loss"] = loss.item()
        return loss, logs

    def after_step(self):
        for key, ema in self.emas.items():
            net = getattr(self, key)
            ema.update(net.module if hasattr(net, "module") else net)


# ------------------------------------------------------------------ data


def is_heldout(path: str | Path, percent: int = HELDOUT_PERCENT) -> bool:
    """Deterministic held-out split by a hash of the file name (same on every machine)."""
    h = int(hashlib.sha256(Path(path).name.encode()).hexdigest()[:8], 16)
    return h % 100 < percent


def split_folder(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """(training files, held-out files) of an image folder, both sorted by name."""
    from ganmodels.data import list_images

    files = list_images(folder)
    return [p for p in files if not is_heldout(p)], [p for p in files if is_heldout(p)]


def read_rgb(paths, size: int | None = None) -> np.ndarray:
    """Images as uint8 (N, H, W, 3); resized to size×size when given."""
    from PIL import Image

    out = []
    for p in paths:
        with Image.open(p) as im:
            im = im.convert("RGB")
            if size is not None and im.size != (size, size):
                im = im.resize((size, size), Image.BICUBIC)
            out.append(np.asarray(im))
    return np.stack(out)


def crops(images: np.ndarray, crop: int, batch: int, seed: int = 0) -> Iterator[torch.Tensor]:
    """Endless random crops with random horizontal flips: float (B, 3, crop, crop) in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n, h, w = images.shape[:3]
    while True:
        idx = rng.integers(0, n, batch)
        out = np.empty((batch, crop, crop, 3), np.uint8)
        for b, i in enumerate(idx):
            t, l = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
            c = images[i, t:t + crop, l:l + crop]
            out[b] = c[:, ::-1] if rng.random() < 0.5 else c
        yield torch.from_numpy(out).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def paired_stream(xs: Iterator, ys: Iterator, device) -> Iterator:
    while True:
        yield next(xs).to(device), next(ys).to(device)


# ------------------------------------------------------------------ the loaded model


class CycleGAN:
    """Both directions, ready for inference: ``translate(img, "photo2monet")`` etc."""

    def __init__(self, G, F, cfg: CycleGANConfig, device="cpu", D_Y=None, D_X=None, judge=None):
        self.G, self.F, self.cfg, self.device = G, F, cfg, torch.device(device)
        self.D_Y, self.D_X, self.judge = D_Y, D_X, judge

    def nets(self, direction: str) -> tuple[nn.Module, nn.Module]:
        """(forward net, backward net) for a direction: photo2monet → (G, F)."""
        if direction == "photo2monet":
            return self.G, self.F
        if direction == "monet2photo":
            return self.F, self.G
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def _set_norm_mode(net: nn.Module, mode: str) -> None:
    for m in net.modules():
        if isinstance(m, (InstanceNorm, ColourSkip)):
            m.mode = mode
            if mode == "normal":
                m.stats = None


def _pad4(x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """Reflect-pad H and W up to multiples of 4 (two stride-2 stages)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % 4, (-w) % 4
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"
        x = Fn.pad(x, (0, pw, 0, ph), mode=mode)
    return x, h, w


def _ramp(n: int, overlap: int, first: bool, last: bool) -> torch.Tensor:
    """1-D blending weights for one tile of length n.

    On each side that touches another tile, the first ``margin`` = 3/8 of the overlap
    is context only (weight 0: those outputs saw reflection padding instead of the real
    neighbours), then the weight ramps linearly to 1 over the remaining quarter.
    The neighbour's ramp is the mirror image, so the weights of two tiles sum to 1.
    """
    w = torch.ones(n)
    margin = overlap * 3 // 8
    ramp = overlap - 2 * margin
    if overlap > 0:
        r = torch.cat([torch.zeros(margin), (torch.arange(ramp, dtype=torch.float32) + 0.5) / ramp])
        if not first:
            w[:margin + ramp] = r
        if not last:
            w[-(margin + ramp):] = r.flip(0)
    return w


def _starts(size: int, tile: int, stride: int) -> list[int]:
    if size <= tile:
        return [0]
    s = list(range(0, size - tile, stride)) + [size - tile]
    return sorted(set(s))


@torch.no_grad()
def run_net(net: nn.Module, x: torch.Tensor, *, tile: int = 512, overlap: int = 128,
            stats_pixels: int = 1024 * 1024, progress=None) -> torch.Tensor:
    """net(x) for x (1, 3, H, W) in [-1, 1], any H, W ≥ 1; tiled when larger than ``tile``.

    Tiled path: (1) the instance-norm statistics are recorded on the whole image
    (downscaled to ≤ ``stats_pixels`` when larger) and frozen; (2) overlapping tiles
    (stride tile − overlap) run with those statistics; (3) outputs are blended with
    weights that ramp linearly across each overlap, so no seam shows.
    """
    xp, h, w = _pad4(x)
    H, W_ = xp.shape[-2:]
    if H <= tile and W_ <= tile:
        return net(xp)[..., :h, :w]
    # (1) global statistics
    scale = min(1.0, math.sqrt(stats_pixels / (H * W_)))
    small = xp if scale >= 1.0 else Fn.interpolate(
        xp, size=(max(4, int(H * scale) // 4 * 4), max(4, int(W_ * scale) // 4 * 4)),
        mode="bilinear", align_corners=False, antialias=True)
    try:
        _set_norm_mode(net, "record")
        net(small)
        _set_norm_mode(net, "frozen")
        # (2) + (3) tiles, blended
        tile = tile - tile % 4
        overlap = min(overlap, tile // 2) // 4 * 4
        stride = tile - overlap
        ys, xs = _starts(H, tile, stride), _starts(W_, tile, stride)
        out = torch.zeros(1, x.shape[1], H, W_, device=x.device)
        wsum = torch.zeros(1, 1, H, W_, device=x.device)
        n_done, n_all = 0, len(ys) * len(xs)
        for i, t in enumerate(ys):
            th = min(tile, H - t)
            wy = _ramp(th, overlap, i == 0, i == len(ys) - 1)
            for j, l in enumerate(xs):
                tw = min(tile, W_ - l)
                wx = _ramp(tw, overlap, j == 0, j == len(xs) - 1)
                wgt = (wy[:, None] * wx[None, :]).to(x.device)[None, None]
                out[..., t:t + th, l:l + tw] += net(xp[..., t:t + th, l:l + tw]) * wgt
                wsum[..., t:t + th, l:l + tw] += wgt
                n_done += 1
                if progress is not None:
                    progress(n_done, n_all)
    finally:
        _set_norm_mode(net, "normal")
    return (out / wsum)[..., :h, :w]


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) → float (1, 3, H, W) in [-1, 1]."""
    return torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1)[None].float() / 127.5 - 1.0


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    return ((x[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def as_rgb(img) -> tuple[np.ndarray, list[str]]:
    """Any PIL image or array → uint8 (H, W, 3), with notes on what was converted.

    Grey → RGB by repeating the channel; RGBA / LA / P with transparency → composited on white.
    """
    from PIL import Image

    notes = []
    if isinstance(img, np.ndarray):
        a = img
        if a.dtype != np.uint8:
            if a.dtype.kind == "f" and a.size and a.max() <= 1.0:
                a = a * 255.0
            a = np.clip(a, 0, 255).astype(np.uint8)
        if a.ndim == 2:
            img = Image.fromarray(a, "L")
        elif a.ndim == 3 and a.shape[2] in (1, 3, 4):
            img = Image.fromarray(a[..., 0] if a.shape[2] == 1 else a, {1: "L", 3: "RGB", 4: "RGBA"}[a.shape[2]])
        else:
            raise ValueError(f"expected an image array (H, W[, 3|4]), got shape {a.shape}")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
        notes.append("the transparent parts were put on a white background")
    if img.mode in ("L", "1", "I", "I;16", "F"):
        notes.append("the grey image was turned into RGB (the same value in all three channels)")
    return np.asarray(img.convert("RGB")), notes


def fit_size(w: int, h: int, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """(w, h) scaled down (keeping the aspect ratio) so that w·h ≤ max_pixels."""
    if w * h <= max_pixels:
        return w, h
    s = math.sqrt(max_pixels / (w * h))
    return max(1, int(w * s)), max(1, int(h * s))


def open_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, list[str]]:
    """Read an image file safely: refuse non-images; downscale above ``max_pixels``
    *while decoding* (JPEG draft mode), so a 10000×10000 upload never fills memory."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        im = Image.open(path)
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"{path.name} is not an image that can be read (PNG, JPEG, WebP, …): {e}") from None
    except Image.DecompressionBombError as e:
        raise ValueError(f"{path.name} is too large to open safely: {e}") from None
    notes = []
    with im:
        w, h = im.size
        tw, th = fit_size(w, h, max_pixels)
        if (tw, th) != (w, h):
            im.draft("RGB", (tw, th))  # JPEG: decode at ½, ¼, ⅛ size directly
            notes.append(f"the image was {w}×{h} = {w * h / 1e6:.1f} MP, above the limit of "
                         f"{max_pixels / 1e6:.1f} MP, so it was downscaled to {tw}×{th}")
        try:
            im.load()
        except (OSError, Image.DecompressionBombError) as e:
            raise ValueError(f"{path.name} could not be decoded: {e}") from None
        if im.size != (tw, th):
            im = im.resize((tw, th), Image.LANCZOS)
        from PIL import ImageOps
        try:
            im = ImageOps.exif_transpose(im)  # phone photos: apply the EXIF rotation
        except Exception:  # noqa: BLE001 -- broken EXIF: keep the pixels as stored
            pass
        rgb, n2 = as_rgb(im)
    return rgb, notes + n2


def check_size(img: np.ndarray) -> None:
    h, w = img.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"the image is {w}×{h} pixels; CycleGAN needs at least {MIN_SIDE}×{MIN_SIDE} "
                         "(its generator halves the size twice and looks at 7×7 neighbourhoods)")


@torch.no_grad()
def translate(model: CycleGAN, img: np.ndarray, direction: str = "photo2monet", *,
              cycle: bool = False, tile: int = 512, overlap: int = 128, progress=None):
    """uint8 (H, W, 3) → translated uint8 (H, W, 3); with ``cycle`` also the reconstruction
    F(G(x)) (photo2monet) or G(F(y)) (monet2photo).  Raises ValueError on a too-small image."""
    check_size(img)
    fwd, back = model.nets(direction)
    x = image_to_tensor(img).to(model.device)
    y = run_net(fwd, x, tile=tile, overlap=overlap, progress=progress)
    out = tensor_to_image(y)
    if not cycle:
        return out
    rec = run_net(back, y, tile=tile, overlap=overlap, progress=progress)
    return out, tensor_to_image(rec)


# ------------------------------------------------------------------ weights


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None,
         with_D: bool = False, with_judge: bool = True) -> CycleGAN:
    """Both generators (and, optionally, the discriminators and the Monet-vs-photo judge)."""
    store = store or W.WeightStore(weights_dir)
    man = store.manifest_for_check()

    def one(key, build):
        net, cfg, _ = W.load_network(store.path(FILES[key]), build, CycleGANConfig, family=FAMILY,
                                     network=key, device=device, manifest=man)
        return net.requires_grad_(False), cfg

    G, cfg = one("G", ResnetGenerator)
    F, _ = one("F", ResnetGenerator)
    D_Y = D_X = judge = None
    if with_D:
        D_Y, _ = one("D_Y", make_discriminator)
        D_X, _ = one("D_X", make_discriminator)
    if with_judge:
        try:
            judge = load_judge(store=store, device=device)
        except W.WeightsError:
            judge = None  # optional: the tab works without it
    return CycleGAN(G, F, cfg, device, D_Y, D_X, judge)


def save(nets: dict[str, nn.Module], cfg: CycleGANConfig, out_dir) -> dict[str, str]:
    out_dir = Path(out_dir)
    return {FILES[k]: W.save_network(net, out_dir / FILES[k], family=FAMILY, network=k, config=cfg)
            for k, net in nets.items()}


# ------------------------------------------------------------------ the judge (for the metrics)


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


def load_judge(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None) -> MonetJudge:
    store = store or W.WeightStore(weights_dir)
    net, _, _ = W.load_network(store.path(JUDGE_FILE), MonetJudge, JudgeConfig, family=FAMILY,
                               network="judge", device=device, manifest=store.manifest_for_check())
    return net.requires_grad_(False).eval()


@torch.no_grad()
def judge_monet_prob(judge: MonetJudge, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """uint8 (N, H, W, 3) → P(Monet) per image (images resized to the judge's size)."""
    judge.eval()
    s = judge.cfg.size
    dev = next(judge.parameters()).device
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(np.ascontiguousarray(images[i:i + batch])).permute(0, 3, 1, 2).float() / 127.5 - 1
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


def resize_all(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, H, W, 3) → uint8 (N, size, size, 3), area-antialiased (once, before training)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    out = [Fn.interpolate(x[i:i + 64], size=(size, size), mode="bilinear", align_corners=False, antialias=True)
           for i in range(0, len(x), 64)]
    return torch.cat(out).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def judge_batches(photos: np.ndarray, monets: np.ndarray, size: int, batch: int, seed: int = 0):
    """Balanced batches (half photos, half Monets) of whole images resized to size² once;
    augmentation: random shifts (reflect-pad size/16, crop) and horizontal flips."""
    g = torch.Generator().manual_seed(seed)
    half, pad = batch // 2, max(1, size // 16)
    P = torch.from_numpy(resize_all(photos, size)).permute(0, 3, 1, 2).float() / 127.5 - 1
    M = torch.from_numpy(resize_all(monets, size)).permute(0, 3, 1, 2).float() / 127.5 - 1

    def take(arr, n):
        x = Fn.pad(arr[torch.randint(0, len(arr), (n,), generator=g)], (pad,) * 4, mode="reflect")
        t, l = torch.randint(0, 2 * pad + 1, (2,), generator=g).tolist()
        x = x[..., t:t + size, l:l + size]
        flip = torch.rand(n, generator=g) < 0.5
        return torch.where(flip[:, None, None, None], x.flip(-1), x)

    while True:
        yield torch.cat([take(P, half), take(M, half)]), torch.cat([torch.zeros(half), torch.ones(half)])


# ------------------------------------------------------------------ training recipe (CLI)

DEFAULT_STEPS = 6000


def add_args(p) -> None:
    p.add_argument("--data", default=None, help="folder with photo/ and monet/ (default ../shared/data)")
    p.add_argument("--ngf", type=int, default=None)
    p.add_argument("--n_blocks", type=int, default=None)
    p.add_argument("--ndf", type=int, default=None)
    p.add_argument("--n_layers_d", type=int, default=None)
    p.add_argument("--upsample", choices=UPSAMPLE, default=None,
                   help="G's upsampling: transposed convs (the paper) or resize + conv (no checkerboard)")
    p.add_argument("--d-scales", dest="d_scales", type=int, default=None,
                   help="discriminators at this many scales (pix2pixHD): the PatchGAN on the crop, then on "
                        "it average-pooled 2×, 4×, … (default 1: the paper's single PatchGAN)")
    p.add_argument("--colour-skip", dest="colour_skip", action="store_true", default=None,
                   help="give G and F the input's per-channel mean and std at their output (instance norm "
                        "hides them); with --init-from it is added zero-initialised, keeping the function")
    p.add_argument("--crop", type=int, default=96, help="training crop size (random crops + flips)")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--lambda-cyc", type=float, default=10.0)
    p.add_argument("--lambda-x", type=float, default=None,
                   help="weight of the photo cycle ‖F(G(x)) − x‖₁ and, times --lambda-id, of ‖F(x) − x‖₁ "
                        "(default --lambda-cyc; the CycleGAN repo's lambda_A)")
    p.add_argument("--lambda-y", type=float, default=None,
                   help="weight of the Monet cycle ‖G(F(y)) − y‖₁ and, times --lambda-id, of ‖G(y) − y‖₁ "
                        "(default --lambda-cyc; the repo's lambda_B)")
    p.add_argument("--lambda-id", type=float, default=0.5, help="identity weight as a fraction of λ")
    p.add_argument("--pool", type=int, default=50)
    p.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="export (and sample) exponential moving averages of G and F with this decay "
                        "(Yazıcı et al. 2019; 0.999 ≈ the last 1,000 steps; default 0: the raw nets, as the paper)")
    p.add_argument("--decay-from", type=float, default=0.5, help="LR decays linearly from this share of steps")
    p.add_argument("--init-from", default=None, metavar="DIR",
                   help="start G and F from the weights exported in DIR (fresh discriminators); the network "
                        "sizes come from those files (a larger --ngf widens them, keeping their function), "
                        "and the manifest records both runs' steps and commands")
    p.add_argument("--skip-lr", type=float, default=1.0, metavar="MULT",
                   help="learning-rate multiplier for the colour skip's parameters (they start at zero "
                        "and move at most ~lr per Adam step, so at the base rate they learn slowly)")
    p.add_argument("--hold-g", type=int, default=0, metavar="N",
                   help="hold G and F still (learning rate 0) for the first N steps, so that fresh "
                        "discriminators catch up before their gradients reach generators from --init-from")
    p.add_argument("--judge", action="store_true",
                   help="train the Monet-vs-photo judge (for the metrics) instead of CycleGAN")
    p.add_argument("--init-d-from", default=None, metavar="CKPT",
                   help="start D_Y and D_X from a CycleGAN run's checkpoint (a run folder or its "
                        "checkpoint.safetensors) instead of fresh ones; use with --init-from")


def _data_dir(args) -> Path:
    d = getattr(args, "data", None) or getattr(args, "data_dir", None)
    if d is None:
        raise SystemExit("CycleGAN needs its images: pass --data-dir FOLDER (holding photo/ and monet/)")
    d = Path(d)
    for sub in ("photo", "monet"):
        if not (d / sub).is_dir():
            raise SystemExit(f"{d / sub} not found: --data must point to a folder with photo/ and monet/")
    return d


def make_run(args):
    from ganmodels.training.loop import Run, config_from_args

    if args.judge:
        return _make_judge_run(args)
    d = _data_dir(args)
    dev = torch.device(args.device)
    cfg = config_from_args(CycleGANConfig, args)
    if cfg.d_scales < 1:
        raise SystemExit(f"--d-scales must be at least 1, not {cfg.d_scales}")
    if args.crop < smallest_crop(cfg):
        raise SystemExit(f"--crop {args.crop} is too small for {cfg.d_scales} discriminator scale(s): the "
                         f"coarsest PatchGAN would see fewer pixels than it needs; use --crop "
                         f"{smallest_crop(cfg)} or more, or fewer --d-scales")
    ema_decay = getattr(args, "ema", 0.0) or 0.0
    if not 0.0 <= ema_decay < 1.0:
        raise SystemExit(f"--ema is a decay in [0, 1) (0: off, 0.999: a ~1,000-step average), not {ema_decay}")
    (px, _), (py, _) = split_folder(d / "photo"), split_folder(d / "monet")
    X, Y = read_rgb(px), read_rgb(py)
    print(f"cyclegan: {len(X)} training photos, {len(Y)} training Monets "
          f"(held out: {HELDOUT_PERCENT}% of each by file-name hash)", file=sys.stderr)
    lineage = None
    if args.init_from:
        G, F, cfg, lineage = init_generators(args.init_from, cfg, args, dev)
    else:
        G, F = ResnetGenerator(cfg).to(dev), ResnetGenerator(cfg).to(dev)
    D_Y, D_X = make_discriminator(cfg).to(dev), make_discriminator(cfg).to(dev)
    if getattr(args, "init_d_from", None):
        init_discriminators(args.init_d_from, {"D_Y": D_Y, "D_X": D_X})
    emas = None
    if ema_decay > 0:
        from ganmodels.models.dcgan import EMA
        emas = {"G": EMA(G, ema_decay), "F": EMA(F, ema_decay)}
    obj = CycleGANObjective(G, F, D_Y, D_X, lambda_cyc=args.lambda_cyc, lambda_id=args.lambda_id,
                            lambda_x=getattr(args, "lambda_x", None), lambda_y=getattr(args, "lambda_y", None),
                            pool_size=args.pool, seed=args.seed, emas=emas)
    # what the run exports (and its sample sheets show): the moving averages when --ema is on
    out_G, out_F = (emas["G"].shadow, emas["F"].shadow) if emas else (G, F)
    betas = (args.beta1, 0.999)
    skip_lr = getattr(args, "skip_lr", 1.0)
    if skip_lr != 1.0 and not cfg.colour_skip:
        raise SystemExit("--skip-lr sets the colour skip's learning rate: it needs --colour-skip "
                         "(or --init-from generators that have one)")
    opt_g = torch.optim.Adam(generator_param_groups((G, F), args.lr, skip_lr), lr=args.lr, betas=betas)
    opt_d = torch.optim.Adam(list(D_Y.parameters()) + list(D_X.parameters()), lr=args.lr, betas=betas)
    steps = args.steps or DEFAULT_STEPS
    scheds = cyclegan_schedulers(opt_g, opt_d, steps, args.decay_from, getattr(args, "hold_g", 0) or 0)
    batch = args.batch or 1
    data = paired_stream(crops(X, args.crop, batch, args.seed), crops(Y, args.crop, batch, args.seed + 1), dev)
    # fixed sample sheet: 4 training photos and 4 training Monets, centre crops of 128² (or less)
    def centre(A):
        c = min(128, A.shape[1], A.shape[2]) // 4 * 4
        t, l = (A.shape[1] - c) // 2, (A.shape[2] - c) // 2
        return image_to_tensor(np.concatenate([A[i, t:t + c, l:l + c] for i in range(min(4, len(A)))], 1))
    sx, sy = centre(X), centre(Y)

    @torch.no_grad()
    def sample():
        out_G.eval(), out_F.eval()
        rows = []
        for a, fwd, back in ((sx, out_G, out_F), (sy, out_F, out_G)):
            b = fwd(a.to(dev))
            rows += [a, b.cpu(), back(b).cpu()]
        if not emas:
            G.train(), F.train()
        return tensor_to_image(torch.cat(rows, 2))

    def export(out: Path):  # the app needs only G and F; D_Y, D_X stay in the run's checkpoint
        return save({"G": out_G, "F": out_F}, cfg, out)

    desc = (f"../shared/data photo/ ({len(X)} files) and monet/ ({len(Y)} files): the Kaggle "
            f"'I'm Something of a Painter Myself' sets minus a {HELDOUT_PERCENT}% held-out split "
            f"(sha256 of the file name); random {args.crop}² crops + flips, batch {batch}")
    modules = {"G": G, "F": F, "D_Y": D_Y, "D_X": D_X}
    if emas:
        modules.update(G_ema=emas["G"].shadow, F_ema=emas["F"].shadow)
    return Run(modules=modules, optimizers={"G": opt_g, "D": opt_d},
               objective=obj, data=data, export=export, data_desc=desc, sample=sample, schedulers=scheds,
               lineage=lineage)


def generator_param_groups(nets, lr: float, skip_mult: float = 1.0) -> list[dict]:
    """Adam parameter groups for G and F: everything at ``lr``, the colour skips at ``skip_mult``·lr."""
    skip = [p for n in nets for name, p in n.named_parameters() if ".skip." in f".{name}"]
    ids = {id(p) for p in skip}
    rest = [p for n in nets for p in n.parameters() if id(p) not in ids]
    return [{"params": rest, "lr": lr}] + ([{"params": skip, "lr": lr * skip_mult}] if skip else [])


def cyclegan_schedulers(opt_g, opt_d, total_steps: int, decay_from: float, hold_g: int = 0) -> list:
    """The paper's schedule (constant, then linear decay to 0) for both optimizers; G and F's
    learning rate is 0 for the first ``hold_g`` steps (Adam's moments still warm up)."""
    f = linear_decay(total_steps, decay_from) if decay_from < 1 else (lambda step: 1.0)
    if hold_g <= 0 and decay_from >= 1:
        return []
    g = (lambda step: 0.0 if step < hold_g else f(step)) if hold_g > 0 else f
    return [torch.optim.lr_scheduler.LambdaLR(opt_g, g), torch.optim.lr_scheduler.LambdaLR(opt_d, f)]


def init_generators(folder, cfg: CycleGANConfig, args, device):
    """G and F (trainable) from the files exported in ``folder``, their config, and their lineage
    (steps, command) from that folder's manifest. A size given on the command line must agree."""
    folder = Path(folder)
    man = W.read_manifest(folder)
    nets = {}
    for key in ("G", "F"):
        path = folder / FILES[key]
        if not path.is_file():
            raise SystemExit(f"--init-from {folder}: {FILES[key]} not found")
        try:
            nets[key], file_cfg, _ = W.load_network(path, ResnetGenerator, CycleGANConfig, family=FAMILY,
                                                    network=key, device=device,
                                                    manifest=man if man.get("files") else None)
        except W.WeightsError as e:
            raise SystemExit(f"--init-from {folder}: {e}") from None
    ngf = getattr(args, "ngf", None)
    if ngf is not None and ngf > file_cfg.ngf:     # a wider net that starts as the same function
        print(f"--init-from {folder}: widening G and F from ngf {file_cfg.ngf} to {ngf} "
              f"(Net2WiderNet, function-preserving)", file=sys.stderr)
        nets = {key: widen_generator(net, ngf, seed=getattr(args, "seed", 0) + i).to(device)
                for i, (key, net) in enumerate(nets.items())}
        file_cfg = nets["G"].cfg
    if getattr(args, "colour_skip", None) and not file_cfg.colour_skip:
        print(f"--init-from {folder}: adding the colour skip to G and F (zero-initialised: the same "
              f"function to start with)", file=sys.stderr)
        file_cfg = dataclasses.replace(file_cfg, colour_skip=True)
        for key, net in list(nets.items()):
            new = ResnetGenerator(file_cfg).to(device)
            missing, unexpected = new.load_state_dict(net.state_dict(), strict=False)
            assert not unexpected and all(k.startswith("skip.") for k in missing), (missing, unexpected)
            nets[key] = new
    for f in ("ngf", "n_blocks"):
        given = getattr(args, f, None)
        if given is not None and given != getattr(file_cfg, f):
            raise SystemExit(f"--init-from {folder}: its generators have {f} {getattr(file_cfg, f)}, "
                             f"not {given}" + (" (a larger --ngf widens them)" if f == "ngf" else ""))
    cfg = dataclasses.replace(cfg, ngf=file_cfg.ngf, n_blocks=file_cfg.n_blocks, channels=file_cfg.channels,
                              upsample=file_cfg.upsample, colour_skip=file_cfg.colour_skip)
    entry = man.get("files", {}).get(FILES["G"], {})
    lineage = (int(entry.get("steps", 0)), entry.get("command") or f"(weights from {folder})")
    for net in nets.values():
        net.requires_grad_(True).train()
    return nets["G"], nets["F"], cfg, lineage


def init_discriminators(ckpt, nets: dict[str, nn.Module]) -> None:
    """Load D_Y and D_X in place from a CycleGAN run's checkpoint (its ``module.D_Y.*`` and
    ``module.D_X.*`` tensors), so that a continuation does not start against fresh discriminators."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(ckpt)
    if path.is_dir():
        path = path / "checkpoint.safetensors"
    if not path.is_file():
        raise SystemExit(f"--init-d-from {ckpt}: no checkpoint at {path}")
    try:
        sd = load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise SystemExit(f"--init-d-from {path}: not a readable safetensors checkpoint ({e})") from None
    for key, net in nets.items():
        pre = f"module.{key}."
        part = {k[len(pre):]: v for k, v in sd.items() if k.startswith(pre)}
        if not part:
            raise SystemExit(f"--init-d-from {path}: the checkpoint holds no {key} (not a CycleGAN run?)")
        try:
            net.load_state_dict(part)
        except RuntimeError as e:
            raise SystemExit(f"--init-d-from {path}: its {key} does not fit this run's discriminator "
                             f"(--ndf / --n_layers_d): {str(e).splitlines()[0]}") from None


def _make_judge_run(args):
    from ganmodels.training.loop import Run

    d = _data_dir(args)
    cfg = JudgeConfig()
    dev = torch.device(args.device)
    (px, _), (py, _) = split_folder(d / "photo"), split_folder(d / "monet")
    X, Y = read_rgb(px), read_rgb(py)
    net = MonetJudge(cfg).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    steps = args.steps or 400
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    stream = judge_batches(X, Y, cfg.size, args.batch or 32, args.seed)

    def data():
        for x, t in stream:
            yield x.to(dev), t.to(dev)

    def export(out: Path):
        net.eval()
        return {JUDGE_FILE: W.save_network(net, Path(out) / JUDGE_FILE, family=FAMILY, network="judge",
                                           config=cfg)}

    desc = (f"training split only of ../shared/data photo/ ({len(X)}) and monet/ ({len(Y)}); whole images "
            f"at {cfg.size}², balanced batches, random shifts + flips")
    return Run(modules={"judge": net}, optimizers={"G": opt}, objective=JudgeObjective(net), data=data(),
               export=export, data_desc=desc, schedulers=[sched])


# ------------------------------------------------------------------ CLI verbs


def translate_cli(args) -> int:
    """``python -m ganmodels translate --direction photo2monet IN OUT`` (file or folder)."""
    from PIL import Image

    from ganmodels.data import list_images

    src, dst = Path(args.input), Path(args.output)
    max_px = args.max_pixels or MAX_PIXELS
    if max_px < MIN_SIDE * MIN_SIDE:
        raise SystemExit(f"--max-pixels must be at least {MIN_SIDE * MIN_SIDE}")
    if not src.exists():
        raise SystemExit(f"{src} does not exist")
    if src.is_dir():
        files = list_images(src)
        if not files:
            raise SystemExit(f"no images in {src}")
        if dst.exists() and not dst.is_dir():
            raise SystemExit(f"{src} is a folder, so OUT must be a folder too ({dst} is a file)")
        dst.mkdir(parents=True, exist_ok=True)
        pairs = [(f, dst / f.relative_to(src)) for f in files]
    else:
        if dst.is_dir():
            dst = dst / src.name
        pairs = [(src, dst)]
    for _, o in pairs:
        if o.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"):
            raise SystemExit(f"{o}: the output must end in .png, .jpg, .webp, .bmp or .tif")
    model = load(args.weights, args.device, store=W.WeightStore(args.weights, args.hub_repo),
                 with_judge=False)
    failed = 0
    for f, o in pairs:
        try:
            img, notes = open_image(f, max_px)
            out = translate(model, img, args.direction)
        except ValueError as e:
            if len(pairs) == 1:
                raise SystemExit(f"error: {e}")
            print(f"skipped {f}: {e}", file=sys.stderr)
            failed += 1
            continue
        o.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(out).save(o)
        print(f"{f} → {o}" + (f" ({'; '.join(notes)})" if notes else ""), file=sys.stderr)
    return 1 if failed else 0


# ------------------------------------------------------------------ evaluation


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def evaluate(args) -> dict:
    """Held-out metrics for ``python -m ganmodels.evaluate cyclegan``.

    Uses the shipped judge (trained on the training split only) when present;
    otherwise trains one here with the same recipe.
    """
    d = _data_dir(args)
    store = W.WeightStore(args.weights)
    model = load(args.weights, args.device, store=store, with_judge=False)
    judge = load_judge(args.weights, args.device, store=store)
    _, hx = split_folder(d / "photo")
    _, hy = split_folder(d / "monet")
    X, Y = read_rgb(hx), read_rgb(hy)
    # judge on real held-out images
    px, py = judge_monet_prob(judge, X), judge_monet_prob(judge, Y)
    acc = float(((px < 0.5).sum() + (py >= 0.5).sum()) / (len(X) + len(Y)))
    # translations, cycles, identity
    gx, ps_x, idx_err = [], [], []
    for im in X:
        o, r = translate(model, im, "photo2monet", cycle=True)
        gx.append(o)
        ps_x.append(psnr(im, r))
        idx_err.append(np.abs(translate(model, im, "monet2photo").astype(np.float64) - im).mean() / 127.5)
    fy, ps_y, idy_err = [], [], []
    for im in Y:
        o, r = translate(model, im, "monet2photo", cycle=True)
        fy.append(o)
        ps_y.append(psnr(im, r))
        idy_err.append(np.abs(translate(model, im, "photo2monet").astype(np.float64) - im).mean() / 127.5)
    p_gx = judge_monet_prob(judge, np.stack(gx))
    p_fy = judge_monet_prob(judge, np.stack(fy))
    m = {
        "heldout_photos": len(X), "heldout_monets": len(Y),
        "split": f"{HELDOUT_PERCENT}% of each folder by sha256(file name), never trained on",
        "judge_heldout_accuracy": round(acc, 4),
        "judge_heldout_photo_accuracy": round(float((px < 0.5).mean()), 4),
        "judge_heldout_monet_accuracy": round(float((py >= 0.5).mean()), 4),
        "photo2monet_called_monet": round(float((p_gx >= 0.5).mean()), 4),
        "monet2photo_called_photo": round(float((p_fy < 0.5).mean()), 4),
        "cycle_psnr_photo_db": round(float(np.mean(ps_x)), 2),
        "cycle_psnr_monet_db": round(float(np.mean(ps_y)), 2),
        "cycle_psnr_db": round(float(np.mean(ps_x + ps_y)), 2),
        "identity_l1_F_on_photos": round(float(np.mean(idx_err)), 4),
        "identity_l1_G_on_monets": round(float(np.mean(idy_err)), 4),
        "identity_note": "mean |F(x) − x| and |G(y) − y| on the [-1, 1] scale (0 = untouched)",
        "judge": f"MonetJudge CNN ({judge.cfg.size}² whole-image input) trained on the training split only",
        "image_size": "256×256 held-out images, translated whole",
    }
    return {"files": [FILES["G"], FILES["F"], JUDGE_FILE], "metrics": m}
