"""Helpers shared by the tabs: tensor ↔ image, grids, checked inputs, matplotlib figures."""
from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

# Bad input, from the tabs or from ganmodels (one class for both): the message says what to do.
# ``guard`` turns it into gr.Error, which the student sees.
from ganmodels.errors import InputError
from ganmodels.imageio import upscale_nearest

MAX_SEED = 2**31 - 1


def guard(fn, name: str | None = None, *, interactive: bool = False, background: bool = False):
    """Wrap an event handler: an InputError becomes gr.Error (the message shown to the user).

    ``interactive=True`` marks a quick request that a person is waiting on (a slider move, a
    poll): while it runs, background work (live training, an inpainting optimisation) gives
    way (``serving.priority``). ``background=True`` runs the handler in a low-priority thread
    instead (``priority.run_in_background``): for work that takes a while, so that slider moves
    go first when a class is busy. Not for generator handlers.
    """
    import gradio as gr
    from serving import priority

    def wrapped(*a, **kw):
        try:
            if interactive:
                with priority.interactive():
                    return fn(*a, **kw)
            if background:
                return priority.run_in_background(fn, *a, **kw)
            return fn(*a, **kw)
        except InputError as e:
            raise gr.Error(str(e)) from None
    wrapped.__name__ = name or fn.__name__
    return wrapped


# Event settings for a slider move (or a poll): no progress overlay, no concurrency limit, and outside
# Gradio's queue (``queue=False``): the browser then sends one ``POST /gradio_api/run/<api_name>`` instead
# of joining the queue and reading an event stream, which costs the server several ms of CPU per event
# (bench/latency.py) — with a class dragging sliders at once the server's CPU is the limit. Heavy jobs
# stay queued (their concurrency limit, queue position).
LIVE = dict(show_progress="hidden", concurrency_limit=None, queue=False)


def quick(fn, name: str | None = None):
    """``guard`` for a quick request a person is waiting on (background work gives way to it)."""
    return guard(fn, name, interactive=True)


def slow(fn, name: str | None = None):
    """``guard`` for a button whose work takes noticeably longer than a slider move (an
    interpolation, a figure of 100 digits): it runs at background priority, sliders go first."""
    return guard(fn, name, background=True)


def as_int(value, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """A whole number in [lo, hi], or InputError saying what was wrong."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a whole number, got {value!r}") from None
    if not math.isfinite(f) or f != int(f):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    v = int(f)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InputError(f"{name} must be between {lo} and {hi}, got {v}")
    return v


def as_float(value, name: str, lo: float, hi: float, clamp: bool = False) -> float:
    """A finite number in [lo, hi] (clamped into it when ``clamp``), or InputError."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(f):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    if f < lo or f > hi:
        if clamp:
            return min(max(f, lo), hi)
        raise InputError(f"{name} must be between {lo} and {hi}, got {f:g}")
    return f


class LRU:
    """A small least-recently-used cache that a tab owns (thread-safe: handlers run in parallel)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make):
        """The value for ``key``, made by ``make()`` (outside the lock) if it is not kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            value = self._items.setdefault(key, value)    # another thread may have made it first
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def digit_image(img: np.ndarray, scale: int = 8) -> np.ndarray:
    """uint8 (28,28) → enlarged uint8 image (white digit on black, as MNIST)."""
    return upscale_nearest(np.asarray(img, dtype=np.uint8), scale)


def grid(images: np.ndarray, nrow: int, scale: int = 1, pad: int = 2, pad_value: int = 40) -> np.ndarray:
    from ganmodels.data import image_grid

    return image_grid(upscale_nearest(images, scale, batch=True), nrow=nrow, pad=pad, pad_value=pad_value)


def fig_to_close(fig):
    """Return a matplotlib figure for gr.Plot and release pyplot's reference to it."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    return fig


def error_markdown(title: str, err: Exception | str) -> str:
    return (f"### {title} is not available\n\n"
            f"**Why:** {err}\n\n"
            "The other tabs work. To fix this tab, restore the weight file "
            "(`git checkout weights/`) or retrain it with the command in `weights/manifest.json`.")


def _checked(base):
    """A gradio input component that answers a non-number payload with a clear message.

    Stock components raise a bare TypeError on e.g. ``"abc"`` sent through the API
    (the client sees no explanation); out-of-range values already get gradio's own
    "Value X is greater than maximum value Y." message.
    """
    import gradio as gr

    class Checked(base):
        def get_block_name(self) -> str:
            return base.__name__.lower()

        def preprocess(self, payload):
            if payload is None and base is gr.Number:
                return None
            if isinstance(payload, bool) or not isinstance(payload, (int, float)):
                raise gr.Error(f"{self.label or 'This field'} must be a number, got {payload!r}")
            if not math.isfinite(payload):
                raise gr.Error(f"{self.label or 'This field'} must be a finite number, got {payload!r}")
            return super().preprocess(payload)

    Checked.__name__ = f"Checked{base.__name__}"
    return Checked


def gate_image_file(f, max_pixels: int, max_side: int | None, cache_dir) -> None:
    """One uploaded image of a request (a FileData, with a path or a ``data:`` URL), checked in place
    before Gradio decodes it: above ``max_pixels`` it is refused from its header alone
    (``imageio.too_many_pixels``: one limit, one message in every tab); larger than ``max_side`` it is
    shrunk while decoding (``imageio.open_checked``) into a small PNG that replaces it, so that a
    component that converts to numpy never holds a full-size copy.  Raises InputError."""
    import base64
    import binascii
    import uuid
    from pathlib import Path

    from ganmodels import imageio

    if f is None:
        return
    url = getattr(f, "url", None)
    if url and str(url).startswith("data:"):
        try:
            src = base64.b64decode(str(url).split(",", 1)[1], validate=False)
        except (IndexError, binascii.Error, ValueError):
            raise InputError("This image could not be read (a broken data: URL).") from None
    elif getattr(f, "path", None):
        src = f.path
    else:
        return
    im = imageio.open_header(src, max_pixels)
    big = max_side is not None and max(im.size) > max_side
    im.close()
    if not big and not isinstance(src, bytes):
        return
    small = imageio.open_checked(src, max_pixels, max_side=max_side)
    out = Path(cache_dir) / f"checked_{uuid.uuid4().hex}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    small.save(out)
    f.path, f.url = str(out), None
    if getattr(f, "orig_name", None):
        f.orig_name = Path(f.orig_name).stem + ".png"


class BoundedBlobs(OrderedDict):
    """An image editor's blob store (an id → the canvas's pieces, uploaded before the event that
    reads them): at most ``size`` ids, the oldest forgotten first.  Gradio's own is a plain dict that
    keeps every id no event ever consumed."""

    def __init__(self, size: int = 64):
        super().__init__()
        self.size = size

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


def _checked_image_component(base, block: str, *, editor: bool = False):
    """``base`` (gr.Image, gr.ImageEditor or gr.Sketchpad) whose uploads pass :func:`gate_image_file`
    before Gradio decodes them, and whose decoding errors become clear messages (the stock component
    lets PIL's exception through: the client sees no explanation)."""
    import gradio as gr
    from gradio.components.base import server

    from ganmodels import imageio

    class Checked(base):
        # no __init__ of its own: Gradio builds a component's config from its __init__'s parameters.
        # The factories below set these two after construction.
        max_pixels: int = imageio.DEFAULT_MAX_PIXELS
        max_side: int | None = None

        def get_block_name(self) -> str:
            return block

        def _gate(self, payload):
            if payload is None:
                return
            parts = ([payload.background, *(payload.layers or []), payload.composite] if editor else [payload])
            for part in parts:
                gate_image_file(part, self.max_pixels, self.max_side, self.GRADIO_CACHE)
            if editor and getattr(payload, "id", None) is not None and payload.id in self.blob_storage:
                blobs = self.blob_storage[payload.id]
                for part in [blobs.background, *blobs.layers, blobs.composite]:
                    if part is not None:
                        _check_blob(part, self.max_pixels, self.max_side)

        def preprocess(self, payload):
            from PIL import Image as PILImage
            try:
                self._gate(payload)
                return super().preprocess(payload)
            except InputError as e:
                raise gr.Error(str(e)) from None
            except PILImage.DecompressionBombError:
                from ganmodels.imageio import too_many_pixels
                raise gr.Error(too_many_pixels(self.max_pixels)) from None
            except (OSError, ValueError, SyntaxError, EOFError):   # UnidentifiedImageError is an OSError
                raise gr.Error("This file is not an image that can be read (broken, or not a picture): "
                               "upload a PNG or JPEG.") from None

        if editor:
            @server
            def accept_blobs(self, data):
                # the browser sends the canvas's pieces here before an event reads them: bound the
                # layer index (Gradio grows a list to it) and check each piece like an upload
                try:
                    index = data.data.get("index")
                    if index not in (None, "null", "") and not 0 <= int(index) < 8:
                        raise InputError("an image editor has at most 8 layers here")
                    _check_blob(data.files[0][1], self.max_pixels, self.max_side)
                except (InputError, ValueError, TypeError, IndexError, KeyError) as e:
                    raise gr.Error(str(e) if isinstance(e, InputError) else "a malformed canvas upload") from None
                return super().accept_blobs(data)

    Checked.__name__ = f"Checked{base.__name__}"
    return Checked


def _check_blob(data: bytes, max_pixels: int, max_side: int | None) -> None:
    """A canvas piece (PNG bytes): refused above the pixel limit, or larger than ``max_side`` × 2."""
    from ganmodels import imageio

    im = imageio.open_header(bytes(data), max_pixels)
    w, h = im.size
    im.close()
    if max_side is not None and max(w, h) > 2 * max_side:
        raise InputError(f"the canvas is {w}×{h}; this editor's canvas is {max_side}×{max_side}")


def _make_checked(kind, args, kwargs, max_pixels: int, max_side: int | None):
    comp = kind(*args, **kwargs)
    comp.max_pixels, comp.max_side = max_pixels, max_side
    if hasattr(comp, "blob_storage"):
        comp.blob_storage = BoundedBlobs()
    return comp


def ImageInput(*args, max_pixels: int, max_side: int | None = None, **kwargs):
    """A gr.Image whose uploads are checked before they are decoded (:func:`gate_image_file`)."""
    import gradio as gr
    return _make_checked(_checked_image_component(gr.Image, "image"), args, kwargs, max_pixels, max_side)


def ImageEditorInput(*args, max_pixels: int, max_side: int | None = None, **kwargs):
    """A gr.ImageEditor whose canvas pieces are checked before they are decoded."""
    import gradio as gr
    return _make_checked(_checked_image_component(gr.ImageEditor, "imageeditor", editor=True), args, kwargs,
                    max_pixels, max_side)


def SketchpadInput(*args, max_pixels: int, max_side: int | None = None, **kwargs):
    """A gr.Sketchpad whose drawing is checked before it is decoded."""
    import gradio as gr
    return _make_checked(_checked_image_component(gr.Sketchpad, "imageeditor", editor=True), args, kwargs,
                    max_pixels, max_side)


def Number(*args, **kwargs):
    import gradio as gr
    return _checked(gr.Number)(*args, **kwargs)


def Slider(*args, **kwargs):
    import gradio as gr
    return _checked(gr.Slider)(*args, **kwargs)
