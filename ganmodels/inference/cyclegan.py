"""Translating whole images with a trained CycleGAN: any size, tiled above 512² with the whole
image's instance-norm statistics (``ganmodels.inference.tiling``)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from ganmodels.imageio import image_to_tensor, tensor_to_image
from ganmodels.inference import tiling
from ganmodels.models import cyclegan


def run_net(net: nn.Module, x: torch.Tensor, *, tile: int = 512, overlap: int = 128,
            stats_pixels: int = 1024 * 1024, progress=None) -> torch.Tensor:
    """net(x) for x (1, 3, H, W) in [-1, 1], any H, W ≥ 1: padded to multiples of 4 (G halves the
    size twice), tiled when larger than ``tile`` (:func:`tiling.run_blended`)."""
    return tiling.run_blended(net, x, tile=tile, overlap=overlap, multiple=4, stats_pixels=stats_pixels,
                              set_stat_mode=cyclegan.set_norm_mode, progress=progress)


@torch.no_grad()
def translate(model: cyclegan.CycleGAN, img: np.ndarray, direction: str = "photo2monet", *,
              cycle: bool = False, tile: int = 512, overlap: int = 128, progress=None):
    """uint8 (H, W, 3) → translated uint8 (H, W, 3); with ``cycle`` also the reconstruction
    F(G(x)) (photo2monet) or G(F(y)) (monet2photo).  Raises InputError on a too-small image."""
    cyclegan.check_size(img)
    fwd, back = model.nets(direction)
    x = image_to_tensor(img).to(model.device)
    y = run_net(fwd, x, tile=tile, overlap=overlap, progress=progress)
    out = tensor_to_image(y)
    if not cycle:
        return out
    rec = run_net(back, y, tile=tile, overlap=overlap, progress=progress)
    return out, tensor_to_image(rec)
