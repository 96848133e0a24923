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

Large images are translated in overlapping tiles (``ganmodels.inference.tiling``). Instance
norm normalises each image by *its own* statistics, so naive tiles would each get a
different normalisation (visible seams); ``InstanceNorm`` and ``ColourSkip`` can therefore
record the statistics of the whole image once and hold them while the tiles run.

The Monet-vs-photo judge that the metrics use is ``ganmodels.models.monet_judge``; the
training recipe is ``ganmodels.recipes.cyclegan``, the evaluation ``ganmodels.evaluation.cyclegan``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

from ganmodels import weights as W
from ganmodels.data import list_images
from ganmodels.errors import DataError, InputError
from ganmodels.models import monet_judge

FAMILY = "cyclegan"
FILES = {"G": "cyclegan_G_photo2monet.safetensors", "F": "cyclegan_F_monet2photo.safetensors",
         "D_Y": "cyclegan_D_Y_monet.safetensors", "D_X": "cyclegan_D_X_photo.safetensors"}
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
            raise InputError(f"upsample must be one of {', '.join(UPSAMPLE)}, not {cfg.upsample!r}")
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
        raise InputError(f"widen_generator: ngf {ngf} is narrower than the source's {k}")
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
        raise InputError(f"d_scales must be at least 1, not {cfg.d_scales}")
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


# ------------------------------------------------------------------ data: the held-out split


def is_heldout(path: str | Path, percent: int = HELDOUT_PERCENT) -> bool:
    """Deterministic held-out split by a hash of the file name (same on every machine)."""
    h = int(hashlib.sha256(Path(path).name.encode()).hexdigest()[:8], 16)
    return h % 100 < percent


def split_folder(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """(training files, held-out files) of an image folder, both sorted by name."""
    files = list_images(folder)
    return [p for p in files if not is_heldout(p)], [p for p in files if is_heldout(p)]


def data_root(folder: str | Path | None) -> Path:
    """The data folder, which holds photo/ and monet/ (DataError when it is missing or lacks them)."""
    if folder is None:
        raise DataError("CycleGAN needs its images: pass --data-dir FOLDER (holding photo/ and monet/)")
    d = Path(folder)
    for sub in ("photo", "monet"):
        if not (d / sub).is_dir():
            raise DataError(f"{d / sub} not found: --data must point to a folder with photo/ and monet/")
    return d


# ------------------------------------------------------------------ the loaded model


class CycleGAN:
    """Both directions, ready for inference (``ganmodels.inference.cyclegan.translate``)."""

    def __init__(self, G, F, cfg: CycleGANConfig, device="cpu", D_Y=None, D_X=None, judge=None):
        self.G, self.F, self.cfg, self.device = G, F, cfg, torch.device(device)
        self.D_Y, self.D_X, self.judge = D_Y, D_X, judge

    def nets(self, direction: str) -> tuple[nn.Module, nn.Module]:
        """(forward net, backward net) for a direction: photo2monet → (G, F)."""
        if direction == "photo2monet":
            return self.G, self.F
        if direction == "monet2photo":
            return self.F, self.G
        raise InputError(f"direction must be one of {DIRECTIONS}, got {direction!r}")


def set_norm_mode(net: nn.Module, mode: str) -> None:
    """Switch every InstanceNorm and ColourSkip of ``net`` to ``mode`` ("normal" forgets the statistics)."""
    for m in net.modules():
        if isinstance(m, (InstanceNorm, ColourSkip)):
            m.mode = mode
            if mode == "normal":
                m.stats = None


def check_size(img: np.ndarray) -> None:
    """InputError when uint8 (H, W, 3) ``img`` is too small for the generator."""
    h, w = img.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise InputError(f"the image is {w}×{h} pixels; CycleGAN needs at least {MIN_SIDE}×{MIN_SIDE} "
                         "(its generator halves the size twice and looks at 7×7 neighbourhoods)")


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
            judge = monet_judge.load(store=store, device=device)
        except W.WeightsError:
            judge = None  # optional: the tab works without it
    return CycleGAN(G, F, cfg, device, D_Y, D_X, judge)


def save(nets: dict[str, nn.Module], cfg: CycleGANConfig, out_dir) -> dict[str, str]:
    out_dir = Path(out_dir)
    return {FILES[k]: W.save_network(net, out_dir / FILES[k], family=FAMILY, network=k, config=cfg)
            for k, net in nets.items()}
