"""Whole-image inference in overlapping tiles: memory bounded by the tile size, not the image's.

Both ways of tiling here are one weighted overlap-add (:func:`overlap_add`): every tile's output
is multiplied by a weight map, the products are summed, and the sum is divided by the summed
weights.  They differ only in the weights, because the networks differ:

* :func:`run_blended` (CycleGAN): tiles overlap by ``overlap`` pixels; in each overlap the first
  3/8 is context only (weight 0: those outputs saw reflection padding instead of the neighbours)
  and the weight then ramps linearly to 1, so neighbouring weights sum to 1 and no seam shows.
  A net with per-image normalisation (instance norm) would normalise every tile by that tile's
  own statistics; ``set_stat_mode`` lets it measure them once on the whole image and hold them.
* :func:`run_pasted` (SRGAN, output ``scale``× larger): each tile is cut with a context border of
  ``overlap`` input pixels on every side, and only its core is kept (weight 1 in the core, 0 in
  the border: pasting).  With a border at least the receptive field the result equals the
  untiled one up to float rounding, so there is nothing to blend.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

# (start, stop, weights) along one axis: input pixels start:stop, weights for the output pixels
Window = tuple[int, int, torch.Tensor]


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    """Reflect-pad H and W of (B, C, H, W) up to multiples of ``multiple``; returns (x, H, W before)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"   # reflection needs more pixels than the pad
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, h, w


def starts(size: int, tile: int, stride: int) -> list[int]:
    """Tile starts every ``stride`` pixels; the last tile is shifted back to end at ``size``."""
    if size <= tile:
        return [0]
    s = list(range(0, size - tile, stride)) + [size - tile]
    return sorted(set(s))


def ramp(n: int, overlap: int, first: bool, last: bool) -> torch.Tensor:
    """1-D blending weights for one tile of length n.

    On each side that touches another tile, the first ``margin`` = 3/8 of the overlap
    is context only (weight 0), then the weight ramps linearly to 1 over the remaining
    quarter.  The neighbour's ramp is the mirror image, so the weights of two tiles sum to 1.
    """
    w = torch.ones(n)
    margin = overlap * 3 // 8
    rise = overlap - 2 * margin
    if overlap > 0:
        r = torch.cat([torch.zeros(margin), (torch.arange(rise, dtype=torch.float32) + 0.5) / rise])
        if not first:
            w[:margin + rise] = r
        if not last:
            w[-(margin + rise):] = r.flip(0)
    return w


def blend_windows(size: int, tile: int, overlap: int) -> list[Window]:
    """Overlapping tiles of ``tile`` pixels (stride tile − overlap) with :func:`ramp` weights."""
    ss = starts(size, tile, tile - overlap)
    out = []
    for i, t in enumerate(ss):
        n = min(tile, size - t)
        out.append((t, t + n, ramp(n, overlap, i == 0, i == len(ss) - 1)))
    return out


def paste_windows(size: int, tile: int, overlap: int, scale: int = 1) -> list[Window]:
    """Cores of ``tile`` pixels, each cut with ``overlap`` pixels of context on both sides (inside
    the image); weight 1 on the core's ``scale``× output, 0 on the context's."""
    out = []
    for c0 in range(0, size, tile):
        c1 = min(c0 + tile, size)
        a, b = max(c0 - overlap, 0), min(c1 + overlap, size)
        w = torch.zeros((b - a) * scale)
        w[(c0 - a) * scale:(c1 - a) * scale] = 1
        out.append((a, b, w))
    return out


@torch.no_grad()
def overlap_add(net: Callable, x: torch.Tensor, rows: list[Window], cols: list[Window], *, scale: int = 1,
                progress: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """Σ w·net(tile) / Σ w over the tiles rows × cols of x (1, C, H, W); net's output is ``scale``× x's
    size.  ``progress(done, total)`` after every tile."""
    H, W = x.shape[-2] * scale, x.shape[-1] * scale
    out = None
    wsum = torch.zeros(1, 1, H, W, device=x.device)
    n_done, n_all = 0, len(rows) * len(cols)
    for t, b, wy in rows:
        for l, r, wx in cols:
            y = net(x[..., t:b, l:r])
            if out is None:
                out = torch.zeros(1, y.shape[1], H, W, device=x.device)
            wgt = (wy[:, None] * wx[None, :]).to(x.device)[None, None]
            out[..., t * scale:b * scale, l * scale:r * scale] += y * wgt
            wsum[..., t * scale:b * scale, l * scale:r * scale] += wgt
            n_done += 1
            if progress is not None:
                progress(n_done, n_all)
    return out / wsum


@torch.no_grad()
def run_blended(net: torch.nn.Module, x: torch.Tensor, *, tile: int = 512, overlap: int = 128, multiple: int = 4,
                stats_pixels: int = 1024 * 1024, set_stat_mode: Callable[[torch.nn.Module, str], None] | None = None,
                progress=None) -> torch.Tensor:
    """net(x) for x (1, C, H, W), any H, W ≥ 1, padded to multiples of ``multiple``; tiled when
    larger than ``tile``.

    Tiled path: (1) with ``set_stat_mode``, the net's normalisation statistics are recorded on the
    whole image (downscaled to ≤ ``stats_pixels`` when larger) and frozen — ``set_stat_mode(net,
    mode)`` switches them between "normal", "record" and "frozen"; (2) overlapping tiles (stride
    tile − overlap) run; (3) their outputs are blended (:func:`blend_windows`).
    """
    xp, h, w = pad_to_multiple(x, multiple)
    H, W = xp.shape[-2:]
    if H <= tile and W <= tile:
        return net(xp)[..., :h, :w]
    try:
        if set_stat_mode is not None:
            scale = min(1.0, math.sqrt(stats_pixels / (H * W)))
            small = xp if scale >= 1.0 else F.interpolate(
                xp, size=(max(multiple, int(H * scale) // multiple * multiple),
                          max(multiple, int(W * scale) // multiple * multiple)),
                mode="bilinear", align_corners=False, antialias=True)
            set_stat_mode(net, "record")
            net(small)
            set_stat_mode(net, "frozen")
        tile = tile - tile % multiple
        overlap = min(overlap, tile // 2) // multiple * multiple
        out = overlap_add(net, xp, blend_windows(H, tile, overlap), blend_windows(W, tile, overlap),
                          progress=progress)
    finally:
        if set_stat_mode is not None:
            set_stat_mode(net, "normal")
    return out[..., :h, :w]


@torch.no_grad()
def run_pasted(net: torch.nn.Module, x: torch.Tensor, *, scale: int, tile: int, overlap: int,
               progress=None) -> torch.Tensor:
    """net(x) for a net whose output is ``scale``× its input, over ``tile``² tiles of x (1, C, H, W)
    with ``overlap`` pixels of context (:func:`paste_windows`)."""
    h, w = x.shape[-2:]
    return overlap_add(net, x, paste_windows(h, tile, overlap, scale), paste_windows(w, tile, overlap, scale),
                       scale=scale, progress=progress)
