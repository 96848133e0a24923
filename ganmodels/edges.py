"""Faces as pen drawings: the project's edge extractor, and what makes a hand drawing look like one.

pix2pix (Isola et al. 2017) needs *pairs*: a line drawing and the photo it was drawn from.  We make
the drawings ourselves from the 64×64 faces:

* :func:`extract` — Canny (scikit-image) on the grey face: smoothing σ = 1 px, hysteresis
  thresholds at the 75th and 90th percentile of the gradient magnitude (so every face gets about
  the same amount of ink, whatever its contrast); 1-px black lines on white paper, as a pen draws.
  uint8 (N, 64, 64): **255 = paper, 0 = line** (the format of ``python -m ganmodels edges``).
* :func:`augment` — the training drawings are varied so that a person's drawing falls inside
  what the generator has seen: strokes thickened (a wider pen), moved by up to a pixel (a hand is
  not a Canny detector), and pieces of strokes dropped (people leave lines out).
* :func:`thicken` and :func:`drop_segments` — the same changes, deterministic, for the evaluation's
  "hand-drawn" edges (strokes thickened by 1 px, 20 % of the stroke segments dropped).

A *stroke segment* is a connected piece of ink inside one 8×8 cell of the 64×64 grid: a long contour
is several segments, so dropping segments leaves gaps in lines, as a hurried pen does.
"""
from __future__ import annotations

import numpy as np

from ganmodels.errors import InputError

SIZE = 64
PAPER, INK = 255, 0
CANNY_SIGMA = 1.0
CANNY_QUANTILES = (0.75, 0.90)     # low, high hysteresis thresholds as quantiles of the gradient magnitude
SEGMENT_CELL = 8                   # stroke segments are cut at the borders of an 8×8 grid


def describe(sigma: float = CANNY_SIGMA, quantiles: tuple[float, float] = CANNY_QUANTILES) -> str:
    """The description that travels with the training data and the evaluation's numbers."""
    return (f"Canny edges (scikit-image, σ = {sigma:g} px, hysteresis thresholds at the "
            f"{quantiles[0]:.0%}/{quantiles[1]:.0%} quantiles of the gradient) of the grey "
            "64×64 face: black 1-px lines on white")


DESCRIPTION = describe()


def _check_faces(images: np.ndarray) -> np.ndarray:
    a = np.asarray(images)
    if a.ndim == 3 and a.shape[-1] == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[-1] != 3 or a.dtype != np.uint8:
        raise InputError(f"faces must be uint8 RGB (N, H, W, 3), got {a.dtype} {a.shape}")
    return a


def extract(images: np.ndarray, *, sigma: float = CANNY_SIGMA,
            quantiles: tuple[float, float] = CANNY_QUANTILES) -> np.ndarray:
    """Faces uint8 (N, H, W, 3) RGB (or one (H, W, 3)) → line drawings uint8 (N, H, W), 255 = paper, 0 = line.
    ``sigma`` and ``quantiles`` (low, high): Canny's smoothing and hysteresis thresholds; the defaults are the
    drawings every shipped model is trained and evaluated on."""
    from skimage.color import rgb2gray
    from skimage.feature import canny

    a = _check_faces(images)
    out = np.full(a.shape[:3], PAPER, np.uint8)
    lo, hi = quantiles
    for i, im in enumerate(a):
        grey = rgb2gray(im)
        if np.ptp(grey) < 1e-6:       # a flat image has no edges (Canny's quantiles would be 0)
            continue
        out[i][canny(grey, sigma=sigma, low_threshold=lo, high_threshold=hi, use_quantiles=True)] = INK
    return out


def ink(edges: np.ndarray) -> np.ndarray:
    """Drawings uint8 (…, H, W) → bool, True where there is a line (darker than mid-grey)."""
    return np.asarray(edges) < 128


def from_ink(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, INK, PAPER).astype(np.uint8)


def thicken(edges: np.ndarray, px: int = 1) -> np.ndarray:
    """Every line made ``px`` pixels wider (grown to the right and down: a 1-px line becomes
    1 + px pixels wide), as drawn with a wider pen."""
    m = ink(edges)
    out = m.copy()
    h, w = m.shape[-2:]
    for dy in range(max(0, px) + 1):
        for dx in range(max(0, px) + 1):
            out[..., dy:, dx:] |= m[..., :h - dy, :w - dx]
    return from_ink(out)


def segments(edges: np.ndarray, cell: int = SEGMENT_CELL) -> tuple[np.ndarray, int]:
    """The stroke segments of drawings (N, H, W): (labels int (N, H, W), 0 = paper, 1…count; count).

    A segment is a connected piece of ink (8-neighbours) inside one ``cell``×``cell`` cell."""
    from scipy.ndimage import label

    m = ink(edges)
    single = m.ndim == 2
    if single:
        m = m[None]
    n, h, w = m.shape
    if h % cell or w % cell:
        raise InputError(f"drawings must be a multiple of {cell} pixels on a side, got {h}×{w}")
    # (N, H/c, c, W/c, c) → (N·H/c·W/c, c, c): one 2-D picture per cell, labelled without crossing cells
    tiles = m.reshape(n, h // cell, cell, w // cell, cell).transpose(0, 1, 3, 2, 4).reshape(-1, cell, cell)
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True
    lab, count = label(tiles, structure=structure)
    lab = lab.reshape(n, h // cell, w // cell, cell, cell).transpose(0, 1, 3, 2, 4).reshape(n, h, w)
    return (lab[0] if single else lab), int(count)


def drop_segments(edges: np.ndarray, share: float, seed: int | np.random.Generator = 0,
                  cell: int = SEGMENT_CELL) -> np.ndarray:
    """Drawings with a random ``share`` of their stroke segments (see :func:`segments`) erased."""
    if not 0 <= share <= 1:
        raise InputError(f"the share of segments to drop must be in [0, 1], got {share}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    lab, count = segments(edges, cell)
    drop = np.zeros(count + 1, bool)
    k = int(round(share * count))
    if k:
        drop[1 + rng.choice(count, size=k, replace=False)] = True
    m = ink(edges) & ~drop[lab]
    return from_ink(m)


def hand_drawn(edges: np.ndarray, *, thicken_px: int = 1, drop: float = 0.2, seed: int = 0) -> np.ndarray:
    """The evaluation's stand-in for a hand drawing: ``drop`` of the stroke segments dropped, then
    the strokes made ``thicken_px`` px wider."""
    return thicken(drop_segments(edges, drop, seed), thicken_px)


# ---------------------------------------------------------------- training augmentation (torch, per batch)


def augment(x, *, generator=None, p_thick: float = 0.5, p_jitter: float = 0.5, jitter_px: float = 1.0,
            max_drop: float = 0.25):
    """Random hand-drawing changes of a batch of drawings as the networks see them: float (B, 1, H, W)
    in [−1, 1] with −1 = line, +1 = paper.  Per drawing, independently:

    * pieces dropped: each stroke segment erased with a probability drawn from U(0, ``max_drop``);
    * jitter (probability ``p_jitter``): the lines moved by a smooth random displacement of up to
      ``jitter_px`` pixels (a 4×4 field, upsampled), as a hand wobbles;
    * a wider pen (probability ``p_thick``): lines 1 px wider (as :func:`thicken`) or grown by 1 px
      on every side (3×3 square), half and half.

    The paired photo is not changed: the generator learns to draw the face the lines *mean*.
    """
    import torch
    import torch.nn.functional as F

    b, _, h, w = x.shape
    g = generator
    m = (x < 0).float()                                        # (B, 1, H, W): 1 = ink
    # (1) dropped segments (labels on the CPU, in numpy)
    lab, count = segments(from_ink(m[:, 0].cpu().numpy() > 0.5))
    if count:
        share = (torch.rand(b, generator=g) * max_drop).numpy()  # per drawing
        u = torch.rand(count + 1, generator=g).numpy()           # per segment
        owner = np.zeros(count + 1, np.int64)                    # labels run over the batch: whose is each
        owner[lab.ravel()] = np.repeat(np.arange(b), h * w)
        drop = u < share[owner]
        drop[0] = False
        m = m * torch.from_numpy(~drop[lab]).float()[:, None].to(m.device)
    # (2) jitter: a smooth displacement field of at most jitter_px pixels, nearest-neighbour resampling
    if jitter_px > 0 and p_jitter > 0:
        on = (torch.rand(b, generator=g) < p_jitter).float().view(b, 1, 1, 1)
        field = (torch.rand(b, 2, 4, 4, generator=g) * 2 - 1) * jitter_px * on
        field = F.interpolate(field, size=(h, w), mode="bilinear", align_corners=True)   # (B, 2, H, W) in px
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        grid = torch.stack([xs + field[:, 0] * 2 / (w - 1), ys + field[:, 1] * 2 / (h - 1)], dim=-1)
        m = F.grid_sample(m, grid.to(m.device), mode="nearest", padding_mode="zeros", align_corners=True)
    # (3) a wider pen
    if p_thick > 0:
        pick = torch.rand(b, generator=g)
        full = F.max_pool2d(m, 3, 1, 1)                                       # grown by 1 px all round
        half = F.max_pool2d(F.pad(m, (1, 0, 1, 0)), 2, 1)                     # 2-px lines
        thick = torch.where((pick < p_thick / 2).view(b, 1, 1, 1), full, m)
        m = torch.where(((pick >= p_thick / 2) & (pick < p_thick)).view(b, 1, 1, 1), half, thick)
    return 1.0 - 2.0 * m                                          # back to −1 = line, +1 = paper


def to_input(edges: np.ndarray):
    """Drawings uint8 (N, H, W) (255 = paper) → float (N, 1, H, W) in [−1, 1], −1 = line."""
    import torch

    a = np.asarray(edges)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.dtype != np.uint8:
        raise InputError(f"drawings must be uint8 (N, H, W) with 255 = paper, 0 = line; got {a.dtype} {a.shape}")
    return torch.from_numpy(np.ascontiguousarray(a)).float()[:, None] / 127.5 - 1.0
