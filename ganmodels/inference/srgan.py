"""Super-resolving whole images with the trained SRResNet / SRGAN generators (or bicubic):
untiled up to 256² LR pixels, above that in tiles whose context border exceeds the
generator's receptive field (``ganmodels.inference.tiling.run_pasted``)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from ganmodels.errors import InputError
from ganmodels.imageio import image_to_tensor, tensor_to_image
from ganmodels.inference import tiling
from ganmodels.models import srgan
from ganmodels.models.srgan import METHODS, OVERLAP, SCALE, TILE


@torch.no_grad()
def run_tiled(G: nn.Module, lr: torch.Tensor, tile: int = TILE, overlap: int = OVERLAP,
              progress=None) -> torch.Tensor:
    """G over overlapping LR tiles, pasting each tile's centre: memory bounded by the tile size.

    With ``overlap`` ≥ the receptive field (≈ 23 LR pixels for the shipped nets),
    the result equals the untiled one up to float rounding.
    """
    return tiling.run_pasted(G, lr, scale=SCALE, tile=tile, overlap=overlap, progress=progress)


@torch.no_grad()
def super_resolve(G: nn.Module | None, lr: np.ndarray, *, tile: int | None = None, overlap: int = OVERLAP,
                  device="cpu", progress=None) -> np.ndarray:
    """uint8 LR (h,w,3) → uint8 SR (4h,4w,3). ``G=None`` → bicubic.

    ``tile=None`` picks the tiled path automatically when the input is larger than TILE×TILE.
    """
    x = image_to_tensor(lr).to(device)
    if G is None:
        return tensor_to_image(srgan.bicubic_up(x))
    G.eval()
    h, w = lr.shape[:2]
    if tile is None:
        tile = TILE if h * w > TILE * TILE else 0
    if tile and (h > tile or w > tile):
        return tensor_to_image(run_tiled(G, x, tile, overlap, progress))
    return tensor_to_image(G(x))


def upscale(model: srgan.SRModels, method: str, lr: np.ndarray, tile: int | None = None,
            progress=None) -> np.ndarray:
    """uint8 LR → uint8 4× by ``method``: "bicubic", "srresnet" or "srgan"."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return super_resolve(None if method == "bicubic" else model.nets[method], lr, tile=tile,
                         device=model.device, progress=progress)
