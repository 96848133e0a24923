"""pix2pix (Isola et al. 2017) for 64×64 faces: a line drawing x in, a face y out, learned from pairs.

    G* = arg min_G max_D  L_cGAN(G, D) + λ·L_L1(G)
    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_x[log(1 − D(x, G(x)))]       (D sees the drawing too)
    L_L1(G)      = E_{x,y}[‖y − G(x)‖₁],  λ = 100 (the paper's)

Two generators with the same U-Net, trained on the same pairs for the same steps: one with λ·L1
alone (``objective="l1"``: the blurry average of every face that fits the lines), one with the
conditional GAN term added (``objective="cgan"``: D's patches push the output towards real texture).

    G (U-Net, ``n_down`` = 6 for 64 px):
      x (B,1,64,64) → C(ngf) 32² → C(2ngf) 16² → C(4ngf) 8² → C(8ngf) 4² → C(8ngf) 2² → C(8ngf) 1²
      and back up with 4×4 transposed convolutions, each decoder block concatenating the encoder's
      feature map of its size (the skips that carry the lines' positions straight to the output);
      dropout 0.5 in the three innermost decoder blocks while training (the paper's only noise z)
      → tanh → y (B,3,64,64).  BatchNorm except on the outermost layers and the innermost encoder.
    D (conditional PatchGAN): cat(x, y) (B,4,64,64) → C(ndf, stride 2) → C(2ndf, stride 1) → 1 score
      per patch: (B,1,30,30) logits — the same 30×30 grid as the paper's 70×70 D on 256² images.

The receptive field: the paper's 70×70 D judges patches a quarter (27 %) of the side of a 256² image.
Scaled to 64², a quarter of the side is 16 px, which is the paper's own 16×16 PatchGAN
(``n_layers_d = 1``, the default here): it sees an eye, a mouth corner, a stretch of hairline — local
texture and sharpness, which is what L1 gets wrong — and leaves the layout of the face to L1.
``n_layers_d = 2`` gives 34×34 (half the face), 3 gives the paper's 70×70 (more than the whole image:
an "ImageGAN" here).  :func:`receptive_field` computes it from the layers; a test checks it by
back-propagating from one patch score.

The data: aligned CelebA — **non-commercial research and teaching only** — framed as the faces
family (``faces.frame_face``), with drawings made by ``ganmodels.edges``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ganmodels import edges as E
from ganmodels import weights as W
from ganmodels.data import to_uint8
from ganmodels.errors import InputError

SIZE = 64
# the two generators' families (one file each) and the cGAN's discriminator
FAMILY_L1, FAMILY = "pix2pix_l1", "pix2pix"
FILES_L1 = {"G": "pix2pix_l1_G.safetensors"}
FILES = {"G": "pix2pix_G.safetensors", "D": "pix2pix_D.safetensors"}
OBJECTIVES = ("l1", "cgan")
LAMBDA = 100.0


@dataclass
class Pix2PixConfig:
    ngf: int = 32          # U-Net width: channels of the first encoder layer (capped at max_mult·ngf)
    max_mult: int = 8      # the widest block has max_mult·ngf channels (the paper: 8)
    ndf: int = 32          # PatchGAN width
    n_down: int = 6        # encoder blocks: 64 px halves to 1 px at the bottleneck
    n_layers_d: int = 1    # PatchGAN depth: receptive field 16 (1), 34 (2), 70 (3) px
    dropout: float = 0.5   # in the three innermost decoder blocks, training only
    in_channels: int = 1   # the drawing
    out_channels: int = 3  # the face
    # the drawings it learnt from (ganmodels.edges.extract: Canny's σ and hysteresis quantiles); the tab,
    # ``python -m ganmodels edges`` and the evaluation draw the same way for it
    canny_sigma: float = E.CANNY_SIGMA
    canny_low: float = E.CANNY_QUANTILES[0]
    canny_high: float = E.CANNY_QUANTILES[1]


def drawing_settings(cfg: Pix2PixConfig) -> dict:
    """``edges.extract``'s keyword arguments for the drawings a model learnt from."""
    return {"sigma": float(cfg.canny_sigma), "quantiles": (float(cfg.canny_low), float(cfg.canny_high))}


def check_drawing_settings(sigma: float, low: float, high: float) -> None:
    if not (0 < sigma <= 5):
        raise InputError(f"Canny's σ must be in (0, 5] px, got {sigma}")
    if not (0 <= low < high <= 1):
        raise InputError(f"Canny's quantiles must satisfy 0 ≤ low < high ≤ 1, got {low}, {high}")


def _ch(cfg: Pix2PixConfig, i: int) -> int:
    """Channels of encoder block i (0 = outermost)."""
    return cfg.ngf * min(2 ** i, cfg.max_mult)


class UNetGenerator(nn.Module):
    """The pix2pix U-Net: encoder–decoder with a skip from each encoder block to its mirror."""

    def __init__(self, cfg: Pix2PixConfig):
        super().__init__()
        if not 2 <= cfg.n_down or 2 ** cfg.n_down > SIZE:
            raise InputError(f"n_down must be in 2..{int(np.log2(SIZE))} for {SIZE}-px images, got {cfg.n_down}")
        self.cfg = cfg
        n = cfg.n_down
        # activations are not in place: each encoder output is also a skip, passed on unchanged
        down = [nn.Conv2d(cfg.in_channels, _ch(cfg, 0), 4, 2, 1)]      # (B, ngf, 32, 32): no norm
        for i in range(1, n):
            innermost = i == n - 1
            block = [nn.LeakyReLU(0.2), nn.Conv2d(_ch(cfg, i - 1), _ch(cfg, i), 4, 2, 1, bias=innermost)]
            if not innermost:                                              # (B, ch_i, 64/2^(i+1), …)
                block.append(nn.BatchNorm2d(_ch(cfg, i)))
            down.append(nn.Sequential(*block))
        self.down = nn.ModuleList(down)
        # decoder block i mirrors encoder block i: it takes (ch_i, or 2·ch_i with the skip) → ch_{i−1}
        up = []
        for i in range(n - 1, -1, -1):
            cin = _ch(cfg, i) * (1 if i == n - 1 else 2)
            if i == 0:       # outermost: → the face
                up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, cfg.out_channels, 4, 2, 1), nn.Tanh()))
                continue
            block = [nn.ReLU(), nn.ConvTranspose2d(cin, _ch(cfg, i - 1), 4, 2, 1, bias=False),
                     nn.BatchNorm2d(_ch(cfg, i - 1))]
            if n - 1 - i < 3:          # the three innermost decoder blocks
                block.append(nn.Dropout(cfg.dropout))
            up.append(nn.Sequential(*block))
        self.up = nn.ModuleList(up)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, 1, 64, 64) in [-1, 1], −1 = line
        skips = []
        h = x
        for block in self.down:
            h = block(h)
            skips.append(h)            # (B, ngf, 32²), (B, 2ngf, 16²), …, (B, 8ngf, 1²)
        h = self.up[0](skips[-1])      # (B, 8ngf, 2, 2)
        for block, skip in zip(self.up[1:], reversed(skips[:-1])):
            h = block(torch.cat([h, skip], 1))   # the skip: the encoder's map of the same size
        return h                       # (B, 3, 64, 64) in [-1, 1]


class PatchDiscriminator(nn.Module):
    """Conditional PatchGAN: D(x, y) → one logit per overlapping patch, (B, 1, P, P)."""

    def __init__(self, cfg: Pix2PixConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.ndf
        layers: list[nn.Module] = [nn.Conv2d(cfg.in_channels + cfg.out_channels, d, 4, 2, 1),
                                   nn.LeakyReLU(0.2, True)]          # (B, ndf, 32, 32)
        ch = d
        for i in range(1, cfg.n_layers_d + 1):
            nxt = d * min(2 ** i, 8)
            stride = 2 if i < cfg.n_layers_d else 1
            layers += [nn.Conv2d(ch, nxt, 4, stride, 1, bias=False), nn.BatchNorm2d(nxt), nn.LeakyReLU(0.2, True)]
            ch = nxt
        # n_layers_d = 1: (B, 2ndf, 31, 31)
        layers.append(nn.Conv2d(ch, 1, 4, 1, 1))                      # (B, 1, 30, 30): one logit per patch
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, y], 1))


def init_weights(m: nn.Module) -> None:
    """The paper's initialisation: weights ~ N(0, 0.02); batchnorm scales ~ N(1, 0.02)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def receptive_field(D: PatchDiscriminator | Pix2PixConfig) -> int:
    """The side, in input pixels, of the patch that one of D's scores sees: walking its convolutions
    from the input, r grows by (kernel − 1) × the product of the strides before (16 for n_layers_d 1)."""
    net = D if isinstance(D, PatchDiscriminator) else PatchDiscriminator(D)
    r, jump = 1, 1
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            r += (m.kernel_size[0] - 1) * jump
            jump *= m.stride[0]
    return r


def patch_grid(cfg: Pix2PixConfig, size: int = SIZE) -> int:
    """The side of D's score map for a size² image (30 for 64² and n_layers_d 1)."""
    with torch.no_grad():
        D = PatchDiscriminator(cfg).eval()
        return int(D(torch.zeros(1, cfg.in_channels, size, size), torch.zeros(1, cfg.out_channels, size, size)).shape[-1])


# ---------------------------------------------------------------- the objective


class Pix2PixObjective:
    """λ·L1 alone (``objective="l1"``, no D) or the paper's cGAN + λ·L1, for the shared loop.

    A batch is (x, y): drawings (B, 1, 64, 64) and their faces (B, 3, 64, 64), both in [-1, 1].
    D and G see the same batch in a step (``reuse_batch``), as in the paper's code.
    """

    reuse_batch = True

    def __init__(self, G: UNetGenerator, D: PatchDiscriminator | None, *, objective: str = "cgan",
                 lam: float = LAMBDA):
        if objective not in OBJECTIVES:
            raise InputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
        if objective == "cgan" and D is None:
            raise InputError("the cGAN objective needs a discriminator")
        if lam < 0:
            raise InputError(f"λ must be ≥ 0, got {lam}")
        self.G, self.D, self.objective, self.lam = G, D, objective, float(lam)
        self.has_d = objective == "cgan"

    def d_loss(self, batch):
        # (1) Update D: maximise log D(x, y) + log(1 − D(x, G(x)))  — halved, as the paper does, to slow D
        x, y = batch
        with torch.no_grad():
            fake = self.G(x)
        real, f = self.D(x, y), self.D(x, fake)
        loss = 0.5 * (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                      + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
        return loss, {"d_loss": loss.item(), "d_real": torch.sigmoid(real).mean().item(),
                      "d_fake": torch.sigmoid(f).mean().item()}

    def g_loss(self, batch):
        # (2) Update G: minimise −log D(x, G(x)) + λ‖y − G(x)‖₁   (cgan; "l1": λ‖y − G(x)‖₁ alone)
        x, y = batch
        fake = self.G(x)
        l1 = (fake - y).abs().mean()
        loss = self.lam * l1
        logs = {"l1": l1.item()}
        if self.has_d:
            f = self.D(x, fake)
            adv = F.binary_cross_entropy_with_logits(f, torch.ones_like(f))
            loss = loss + adv
            logs["g_adv"] = adv.item()
        logs["g_loss"] = loss.item()
        return loss, logs


# ---------------------------------------------------------------- the loaded model, load/save


class Pix2Pix:
    """A loaded generator (eval mode: dropout off, so the same drawing gives the same face) and, for
    the cGAN, its discriminator."""

    def __init__(self, G: UNetGenerator, D: PatchDiscriminator | None, cfg: Pix2PixConfig, device="cpu",
                 objective: str = "cgan"):
        self.G, self.D, self.cfg, self.device, self.objective = G, D, cfg, device, objective

    def _run(self, net, *xs):
        with torch.inference_mode():
            return net(*(x.to(self.device) for x in xs)).float().cpu()

    def drawings(self, faces_u8: np.ndarray) -> np.ndarray:
        """Faces uint8 (N, 64, 64, 3) → the drawings this generator learnt from (``edges.extract``)."""
        return E.extract(faces_u8, **drawing_settings(self.cfg))

    @property
    def drawing_description(self) -> str:
        return E.describe(**drawing_settings(self.cfg))

    def translate(self, drawings: np.ndarray, batch: int = 250) -> np.ndarray:
        """Drawings uint8 (N, 64, 64) (255 = paper, 0 = line) → faces uint8 (N, 64, 64, 3)."""
        x = E.to_input(drawings)
        if x.shape[-2:] != (SIZE, SIZE):
            raise InputError(f"drawings must be {SIZE}×{SIZE}, got {tuple(x.shape[-2:])}")
        out = [to_uint8(self._run(self.G, x[i:i + batch])) for i in range(0, len(x), batch)]
        return np.concatenate(out) if out else np.zeros((0, SIZE, SIZE, 3), np.uint8)

    def patch_scores(self, drawings: np.ndarray, faces_u8: np.ndarray) -> np.ndarray:
        """D's probability that each patch of each (drawing, face) pair is real: float (N, P, P)."""
        if self.D is None:
            raise InputError("this pix2pix model has no discriminator (the L1-only generator has none)")
        x = E.to_input(drawings)
        y = torch.from_numpy(np.ascontiguousarray(faces_u8)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return torch.sigmoid(self._run(self.D, x, y))[:, 0].numpy()


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None,
         with_D: bool = True) -> Pix2Pix:
    """The cGAN + L1 generator and its discriminator."""
    G, D, cfg = W.load_g_and_d(store or W.WeightStore(weights_dir), family=FAMILY, files=FILES,
                               generator=UNetGenerator, discriminator=PatchDiscriminator,
                               config_cls=Pix2PixConfig, device=device, with_D=with_D)
    return Pix2Pix(G, D, cfg, device, "cgan")


def load_l1(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None) -> Pix2Pix:
    """The L1-only generator (no discriminator)."""
    store = store or W.WeightStore(weights_dir)
    G, cfg, _ = W.load_network(store.path(FILES_L1["G"]), UNetGenerator, Pix2PixConfig, family=FAMILY_L1,
                               network="G", device=device, manifest=store.manifest_for_check())
    G.requires_grad_(False)
    W.cpu_layout(device, G)
    return Pix2Pix(G, None, cfg, device, "l1")


def save(G: nn.Module, D: nn.Module | None, cfg: Pix2PixConfig, out_dir: str | Path, *,
         objective: str = "cgan") -> dict[str, str]:
    """Write the files of one objective: ``l1`` → pix2pix_l1_G; ``cgan`` → pix2pix_G and pix2pix_D."""
    if objective == "l1":
        name = FILES_L1["G"]
        return {name: W.save_network(G, Path(out_dir) / name, family=FAMILY_L1, network="G", config=cfg)}
    return W.save_g_and_d(G, D, cfg, out_dir, family=FAMILY, files=FILES)
