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


def _image_checked():
    """gr.Image whose upload decoding answers a broken, unknown or oversized file with a clear
    message (the stock component lets PIL's exception through: the client sees no explanation)."""
    import gradio as gr

    class CheckedImage(gr.Image):
        def get_block_name(self) -> str:
            return "image"

        def preprocess(self, payload):
            from PIL import Image as PILImage
            try:
                return super().preprocess(payload)
            except PILImage.DecompressionBombError as e:
                raise gr.Error(f"This image has too many pixels to open safely ({e}).") from None
            except (OSError, ValueError, SyntaxError, EOFError):   # UnidentifiedImageError is an OSError
                raise gr.Error("This file is not an image that can be read (broken, or not a picture): "
                               "upload a PNG or JPEG.") from None

    return CheckedImage


def ImageInput(*args, **kwargs):
    """A checked gr.Image (see _image_checked)."""
    return _image_checked()(*args, **kwargs)


def Number(*args, **kwargs):
    import gradio as gr
    return _checked(gr.Number)(*args, **kwargs)


def Slider(*args, **kwargs):
    import gradio as gr
    return _checked(gr.Slider)(*args, **kwargs)
