"""Yeh et al.'s semantic inpainting on 64×64 faces: the paper's masks, photos framed like the
training faces, and the face model's default search settings.

The search itself is :func:`ganmodels.inference.inpaint.inpaint` (colour images are (N, 3, H, W);
the mask stays (N, 1, H, W) and weighs the three channels alike).  This module never imports gradio.
"""
from __future__ import annotations

import numpy as np
import torch

from ganmodels.errors import InputError
from ganmodels.inference import inpaint as I
from ganmodels.models.faces import SIZE

# The face model's search: fewer restarts than the digits' (a face G step costs ~10× a digit G step
# on a CPU), a smaller pool, and the digits' λ.  The contextual sum is far larger here (3 channels,
# 64² pixels), so the perceptual term weighs less: on faces λ from 0.03 to 30 changed the completions
# little (bench/faces_choices.py --inpaint); Yeh et al. used λ = 0.003 with their own scaling.  The time
# is measured by bench/inpaint_faces.py.
STEPS = 30
RESTARTS = 8
POOL = 128
LAM = 0.1
LR = 0.05

# The paper's masks, placed on the 64×64 frame (eyes at rows ≈ 30, mouth at ≈ 48: the landmarks of
# aligned CelebA after the crop (7, 20, 82, 95) and the resize).
MASK_KINDS = ("center", "eyes", "mouth", "left", "random")
MASK_LABELS = {"center": "centre 32×32 square", "eyes": "eyes band (rows 22–37)",
               "mouth": "mouth band (rows 40–55)", "left": "left half", "random": "random 80 % of pixels"}
MIN_SIDE = 32          # photos below this many pixels on a side are refused


def face_mask(kind: str, *, seed: int = 0) -> np.ndarray:
    """A preset known-pixel mask for a 64×64 face: float (64, 64), 1 = known."""
    m = np.ones((SIZE, SIZE), np.float32)
    if kind == "center":
        m[16:48, 16:48] = 0
    elif kind == "eyes":
        m[22:38, 8:56] = 0
    elif kind == "mouth":
        m[40:56, 16:48] = 0
    elif kind == "left":
        m[:, :SIZE // 2] = 0
    elif kind == "random":
        m = I.make_mask("random", SIZE, seed=seed)
    else:
        raise InputError(f"unknown face mask {kind!r}; choose one of {', '.join(MASK_KINDS)}")
    return m


def photo_to_face(rgb: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Any RGB photo uint8 (H, W, 3) → a 64×64 face frame, plus what was done to it: the largest
    centred square is cut out and resized with Lanczos.  Tiny photos are refused."""
    from PIL import Image

    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise InputError(f"a photo must be uint8 RGB (H, W, 3), got {a.dtype} {a.shape}")
    h, w = a.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise InputError(f"the photo is {w}×{h} pixels: too small to hold a face — give one at least "
                         f"{MIN_SIDE}×{MIN_SIDE} (it is resized to {SIZE}×{SIZE})")
    notes = []
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    if (h, w) != (s, s):
        notes.append(f"cut the centred {s}×{s} square out of the {w}×{h} photo")
    img = Image.fromarray(a[top:top + s, left:left + s])
    if s != SIZE:
        img = img.resize((SIZE, SIZE), Image.LANCZOS)
        notes.append(f"resized it to {SIZE}×{SIZE} (Lanczos)")
    notes.append("the model knows aligned, face-centred CelebA photos: a face framed like them "
                 "completes best")
    return np.asarray(img, dtype=np.uint8), notes


def to_nchw(images_u8: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) → float (N, 3, H, W) in [-1, 1]."""
    a = np.asarray(images_u8)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[-1] != 3:
        raise InputError(f"faces must be uint8 (N, H, W, 3), got shape {a.shape}")
    return torch.from_numpy(np.array(a, dtype=np.uint8)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_uint8_hwc(x: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [-1, 1] → uint8 (N, H, W, 3)."""
    return ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()


def check_mask(known: np.ndarray) -> None:
    """An empty mask (nothing missing) has nothing to fill; a full one (nothing known) is plain generation."""
    kn = np.asarray(known) > 0.5
    if kn.all():
        raise InputError("the mask marks no pixel as missing: nothing to fill (paint the part to complete, "
                         "or pick a mask preset)")
    if not kn.any():
        raise InputError("the mask covers the whole face: with no known pixel there is nothing to "
                         "match — that is plain generation (the Latent space tab)")


def inpaint_faces(G, D, images_u8: np.ndarray, known: np.ndarray, **kw):
    """The live search on faces: uint8 (N, 64, 64, 3) and known (N, 64, 64) (1 = known) →
    :func:`ganmodels.inference.inpaint.inpaint`'s generator, with the face defaults."""
    x = to_nchw(images_u8)
    m = torch.as_tensor(np.asarray(known, dtype=np.float32))
    if m.ndim == 2:
        m = m[None]
    if tuple(m.shape) != (x.shape[0], x.shape[2], x.shape[3]):
        raise InputError(f"masks {tuple(m.shape)} do not fit faces {tuple(x.shape)}: one (64, 64) mask per face")
    opts = dict(steps=STEPS, restarts=RESTARTS, pool=POOL, lam=LAM, lr=LR)
    opts.update({k: v for k, v in kw.items() if v is not None})
    return I.inpaint(G, D, x, m[:, None], **opts)


def complete_faces(G, D, images_u8: np.ndarray, known: np.ndarray, **kw) -> np.ndarray:
    """Run :func:`inpaint_faces` to the end → the blended completions, uint8 (N, 64, 64, 3)."""
    return to_uint8_hwc(I.drain(inpaint_faces(G, D, images_u8, known, frame_every=10**9, **kw)).image)
