"""Images in and out, one helper per job: PIL/uint8 ↔ tensors, checked uploads and files, grids, GIFs."""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganmodels.errors import InputError

if TYPE_CHECKING:   # torch is imported where it is used: the training tab's render process runs without it
    import torch


# ------------------------------------------------------------------ uint8 images ↔ tensors


def image_to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) → float (1, 3, H, W) in [-1, 1]."""
    import torch

    a = np.asarray(img, dtype=np.uint8)
    if not (a.flags.writeable and a.flags.c_contiguous):   # torch.from_numpy needs both
        a = np.array(a)
    return torch.from_numpy(a).permute(2, 0, 1)[None].float() / 127.5 - 1.0


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """float (1, 3, H, W) in [-1, 1] → uint8 (H, W, 3) (clamped, rounded)."""
    import torch

    return ((x[0].detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


# ------------------------------------------------------------------ checked uploads and files

DEFAULT_MAX_PIXELS = 50_000_000   # the app's --max-pixels default: the most pixels an image may have


def too_many_pixels(max_pixels: int) -> str:
    """The one message for an image above the server's pixel limit (every tab, every path)."""
    return (f"This image has more pixels than this server accepts: at most {max_pixels / 1e6:g} megapixels "
            "(the lecturer's --max-pixels). Shrink it and upload it again.")


def open_header(source, max_pixels: int | None = DEFAULT_MAX_PIXELS, *, what: str = "This file"):
    """Open an image without decoding it → a PIL image whose pixels are not read yet.

    ``source`` is a path, a file object or bytes.  Only the header is read, so an image with more than
    ``max_pixels`` pixels (None: Pillow's own limit, for the command lines) is refused with :func:`too_many_pixels` — exactly at the limit: Pillow's own
    bomb check only warns up to twice its ``MAX_IMAGE_PIXELS`` — before a byte of it is decoded.
    Raises InputError for anything that is not a readable image."""
    import io
    import warnings

    from PIL import Image, UnidentifiedImageError

    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():      # between 1× and 2× Pillow's limit it only warns: ours is exact
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(source)
    except Image.DecompressionBombError:
        raise InputError(too_many_pixels(max_pixels or 2 * Image.MAX_IMAGE_PIXELS)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise InputError(f"{what} is not an image that can be read (broken, or not a picture): "
                         "upload a PNG or JPEG.") from None
    w, h = im.size
    if max_pixels is not None and w * h > max_pixels:
        im.close()
        raise InputError(too_many_pixels(max_pixels))
    return im


def open_checked(source, max_pixels: int = DEFAULT_MAX_PIXELS, *, max_side: int | None = None,
                 what: str = "This file"):
    """:func:`open_header`, then decode with a memory budget → a loaded PIL image, upright by its EXIF
    orientation.  With ``max_side``, a larger image is shrunk while it is decoded (JPEG: ``draft``
    decodes at ½, ¼ or ⅛ size directly) and then by ``reduce`` (block averages, in 8 bits: no
    full-size float copy), so a tab that shows 28×28 digits never holds a 50-megapixel float array."""
    import warnings

    from PIL import Image, ImageOps

    im = open_header(source, max_pixels, what=what)
    w, h = im.size
    try:
        if max_side and max(w, h) > max_side:
            f = max_side / max(w, h)
            im.draft(im.mode if im.mode in ("RGB", "L") else "RGB", (max(1, int(w * f)), max(1, int(h * f))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im.load()
        if max_side and max(im.size) > max_side:
            if im.mode not in ("RGB", "RGBA", "L", "LA", "I", "F"):
                im = im.convert("RGBA")
            im = im.reduce(-(-max(im.size) // max_side))        # ceil: the result is ≤ max_side
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        raise InputError(f"{what} could not be decoded (a broken or truncated image).") from None
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 -- broken EXIF data: keep the pixels as stored
        pass
    return im


def as_rgb(img, *, what: str = "the image") -> tuple[np.ndarray, list[str]]:
    """Any PIL image or array → uint8 RGB (H, W, 3), plus notes about what was converted.

    Grey is copied to the three channels; an alpha channel is composited on white; floats in
    [0, 1] are scaled to 0–255.  Raises InputError with a teaching message for non-images.
    """
    from PIL import Image

    notes: list[str] = []
    if isinstance(img, Image.Image):
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
        elif img.mode in ("1", "I", "I;16", "F"):      # grey at another bit depth
            img = img.convert("L")
        elif img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img = np.asarray(img)
    try:
        a = np.asarray(img)
    except Exception:  # noqa: BLE001 -- whatever it is, it is not an image
        raise InputError(f"{what} is not an image") from None
    if a.dtype == object or a.ndim not in (2, 3) or a.size == 0:
        raise InputError(f"{what} is not an image (got an array of shape {a.shape})")
    if a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating) and np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1:
            a = (a * 255).round().astype(np.uint8)
        elif np.issubdtype(a.dtype, np.integer) and a.min() >= 0 and a.max() <= 255:
            a = a.astype(np.uint8)
        else:
            raise InputError(f"{what} must hold 8-bit pixel values (0–255), got {a.dtype}")
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
        raise InputError(f"{what} has {a.shape[2]} channels; give an RGB, grey or RGBA image")
    return np.ascontiguousarray(a), notes


def fit_size(w: int, h: int, max_pixels: int | None) -> tuple[int, int]:
    """(w, h) scaled down (keeping the aspect ratio) so that w·h ≤ max_pixels (None: no limit)."""
    if max_pixels is None or w * h <= max_pixels:
        return w, h
    s = math.sqrt(max_pixels / (w * h))
    return max(1, int(w * s)), max(1, int(h * s))


def open_image(path: str | Path, max_pixels: int | None = None, *,
               limit: int | None = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, list[str]]:
    """Read an image file safely → uint8 RGB and notes (:func:`as_rgb`): refuse non-images and
    images above ``limit`` pixels (:func:`open_header`); downscale above ``max_pixels`` *while
    decoding* (JPEG draft mode), so a 10000×10000 upload never fills memory.  Phone photos are turned
    upright by their EXIF orientation."""
    from PIL import Image, ImageOps

    path = Path(path)
    im = open_header(path, limit, what=path.name)
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
            raise InputError(f"{path.name} could not be decoded: {e}") from None
        if im.size != (tw, th):
            im = im.resize((tw, th), Image.LANCZOS)
        try:
            im = ImageOps.exif_transpose(im)
        except Exception:  # noqa: BLE001 -- broken EXIF: keep the pixels as stored
            pass
        rgb, more = as_rgb(im, what=path.name)
    return rgb, notes + more


def read_rgb(paths, size: int | None = None) -> np.ndarray:
    """Image files as uint8 (N, H, W, 3) (alpha dropped); resized to size×size when given."""
    from PIL import Image

    out = []
    for p in paths:
        with Image.open(p) as im:
            im = im.convert("RGB")
            if size is not None and im.size != (size, size):
                im = im.resize((size, size), Image.BICUBIC)
            out.append(np.asarray(im))
    return np.stack(out)


def skimage_image(name: str) -> np.ndarray:
    """A named scikit-image sample picture (``skimage.data``), plus the two halves of its stereo pair
    (``motorcycle_left``, ``motorcycle_right``)."""
    import skimage.data as sd

    if name == "motorcycle_left":
        return sd.stereo_motorcycle()[0]
    if name == "motorcycle_right":
        return sd.stereo_motorcycle()[1]
    return getattr(sd, name)()


# ------------------------------------------------------------------ showing small images: upscales, GIFs


def upscale_nearest(img: np.ndarray, scale: int, *, batch: bool = False) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor: each pixel becomes a scale×scale block, so
    28×28 digits stay crisp on screen.  ``img`` (H, W[, C]), or (N, H, W[, C]) with ``batch``."""
    if scale <= 1:
        return img
    h = 1 if batch else 0
    return np.repeat(np.repeat(img, scale, axis=h), scale, axis=h + 1)


_GREY_PALETTE = [v for i in range(256) for v in (i, i, i)]


def write_gif(frames, path: str | Path, duration_ms: int = 80, loop: bool = True) -> Path:
    """Frames (uint8 (H, W) grey or (H, W, 3), or PIL images) → an animated GIF at ``path``.

    Grey frames go in as palette images with the 256 greys as their palette and without Pillow's
    frame optimisation: the same pixels, written several times faster (Pillow would otherwise fit a
    palette to and diff every frame in Python, under the interpreter lock that a UI needs).  The file
    is written beside ``path`` and renamed, so a reader never sees half a GIF."""
    from PIL import Image

    path = Path(path)
    if not frames:
        raise InputError("no frames to write")
    arrays = [f if isinstance(f, Image.Image) else np.asarray(f) for f in frames]
    if all(not isinstance(f, Image.Image) and f.ndim == 2 for f in arrays):
        ims = []
        for f in arrays:
            f = np.ascontiguousarray(f, dtype=np.uint8)
            im = Image.frombytes("P", (f.shape[1], f.shape[0]), f.tobytes())
            im.putpalette(_GREY_PALETTE)
            ims.append(im)
        extra = {"optimize": False}
    else:
        ims, extra = [f if isinstance(f, Image.Image) else Image.fromarray(f) for f in arrays], {}
    tmp = path.with_name(f".{path.name}.tmp")
    ims[0].save(tmp, format="GIF", save_all=True, append_images=ims[1:], duration=duration_ms,
                loop=0 if loop else 1, **extra)
    tmp.replace(path)
    return path
