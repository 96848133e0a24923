"""GAN Classroom: an interactive app for teaching Generative Adversarial Networks.

    python app.py                         # http://127.0.0.1:7860, shipped weights, no network
    python app.py --device cuda --port 8000
    python app.py --hub-repo USER/REPO    # opt-in: weights from the Hugging Face hub

Models are loaded once, here, and passed to each tab's ``build(models)``.  A model
whose weights are missing or corrupt only disables the tabs that need it: those
tabs explain what is wrong; the others work.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no outbound calls at start-up

# (tab title, module in demo/): the order of the tabs in the app
TABS = [
    ("Latent space", "latent"),
    ("InfoGAN codes", "infogan"),
    ("Inpainting", "inpaint"),
    ("CycleGAN photo ↔ Monet", "cyclegan"),
    ("SRGAN zoom", "srgan"),
    ("Live training", "training"),
]

CSS = """
.pixelated img, img.pixelated { image-rendering: pixelated; }
.formula { font-size: 0.95em; }
footer { display: none !important; }
"""


def pick_device(name: str = "auto") -> str:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU is visible to PyTorch (use --device cpu)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise SystemExit("--device mps: Apple's MPS backend is not available (use --device cpu)")
    return name


def _tab_modules():
    mods = []
    for title, name in TABS:
        try:
            mods.append((title, importlib.import_module(f"demo.{name}")))
        except ModuleNotFoundError as e:
            if e.name != f"demo.{name}":
                raise
    return mods


def load_models(weights_dir=None, device: str = "cpu", hub_repo: str | None = None,
                verify_hashes: bool = True):
    """Load every model the tabs need, once.  Returns (models, errors): name → model / message."""
    from ganmodels import MODELS
    from ganmodels import weights as W

    store = W.WeightStore(weights_dir or W.DEFAULT_DIR, hub_repo, verify_hashes=verify_hashes)
    needed: list[str] = []
    for _, mod in _tab_modules():
        for name in getattr(mod, "REQUIRES", ()) + getattr(mod, "OPTIONAL", ()):
            if name not in needed:
                needed.append(name)
    models, errors = {}, {}
    for name in needed:
        t0 = time.time()
        try:
            models[name] = MODELS[name](device=device, store=store)
            print(f"  loaded {name} ({time.time() - t0:.1f} s)", file=sys.stderr)
        except Exception as e:  # noqa: BLE001 -- any failure disables only the tabs that need it
            errors[name] = f"{type(e).__name__}: {e}" if not isinstance(e, W.WeightsError) else str(e)
            print(f"  could not load {name}: {errors[name]}", file=sys.stderr)
    models["_device"] = device
    models["_store"] = store
    return models, errors


def build_app(models: dict, errors: dict | None = None):
    """The Blocks app: one tab per use case."""
    import gradio as gr

    from demo.common import error_markdown

    errors = errors or {}
    with gr.Blocks(title="GAN Classroom") as app:
        gr.Markdown("# GAN Classroom\nWhat Generative Adversarial Networks do — live, "
                    "one tab per idea. Every number shown is measured, not quoted.")
        for title, mod in _tab_modules():
            with gr.Tab(title):
                missing = [n for n in getattr(mod, "REQUIRES", ()) if n not in models]
                if missing:
                    gr.Markdown(error_markdown(title, "; ".join(errors.get(n, f"{n} not loaded")
                                                                for n in missing)))
                    continue
                mod.build(models)
    return app


SHARE_WARNING = ("WARNING: --share exposes this app (and this machine's CPU/GPU) to anyone with the "
                 "link, through Gradio's public tunnel (a connection to gradio.live). Uploaded images "
                 "pass through that tunnel. Use it only for a class you trust, and stop it after the class.")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # GRADIO_SERVER_NAME/PORT: set by hosts such as Hugging Face Spaces (0.0.0.0:7860 inside its container)
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                   help="address to bind (default: this machine only; 0.0.0.0 = every network interface)")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--weights", default=None, help="folder with the weight files (default: weights/)")
    p.add_argument("--hub-repo", default=None, help="opt-in: download weights from this Hugging Face repo")
    # -- serving a class (see docs/DEPLOY.md)
    p.add_argument("--max-threads", type=int, default=40, help="worker threads serving requests")
    cores = os.cpu_count() or 2
    p.add_argument("--concurrency", type=int, default=max(1, min(4, cores // 2)),
                   help="heavy jobs (inpainting, CycleGAN, SR) that run at once; the others wait in the "
                        "queue and see their position (slider events never wait). Default: half the CPU "
                        "cores (at most 4), so that sliders keep the rest")
    p.add_argument("--queue-size", type=int, default=256,
                   help="requests that may wait in the queue; beyond it a student gets a clear 'busy' message")
    p.add_argument("--max-file-size", default="20mb", help="largest upload accepted (e.g. 5mb, 1gb)")
    p.add_argument("--max-pixels", type=int, default=50_000_000,
                   help="images with more pixels are refused before they are decoded (decompression bombs)")
    p.add_argument("--data-dir", action="append", default=[],
                   help="let the Live training tab train on image folders inside DIR (repeatable; "
                        "off by default: a path typed in a browser never reaches the rest of the disk)")
    p.add_argument("--open-api", action="store_true",
                   help="also accept direct POST /gradio_api/run/<name> calls, which skip the queue and its "
                        "limits (for scripts and benchmarks; off by default, as on Hugging Face Spaces)")
    p.add_argument("--torch-threads", type=int, default=None,
                   help="CPU threads per PyTorch operation (default on CPU: cores / (concurrency + 1), at "
                        "least 1 — many requests run at once, each on few threads)")
    return p.parse_args(argv)


def lazy_session_config() -> bool:
    """Make Gradio's per-session state skip the component configs it keeps for deep links.

    On a session's first event Gradio creates a ``SessionState`` and there renders the config of
    *every* component of the app (229 here, ≈ 15 ms of one core under the interpreter lock), then
    writes each event's input and output values into those configs — all of it for "deep links"
    only, which this app does not offer.  Here a session starts with none rendered, and values and
    replaced components (an update, gr.skip() included) go only into configs that exist.
    Measured with 30 students: the first event of a session answers in 18–23 ms (p95), was 41–45.
    Returns whether the change applies; it is skipped if Gradio's SessionState changes shape.
    """
    from gradio import state_holder

    cls = state_holder.SessionState
    if getattr(cls, "_lazy_config", False):
        return True
    original = cls.__init__
    if list(inspect.signature(original).parameters) != ["self", "blocks"] \
            or not hasattr(cls, "_update_value_in_config"):
        return False

    class _NoEagerConfigs:           # what SessionState.__init__ reads from the app
        def __init__(self, blocks):
            self.default_config = blocks.default_config
            self.blocks = {}          # "render these configs now": none

    def __init__(self, blocks):
        original(self, _NoEagerConfigs(blocks))

    update_value = cls._update_value_in_config

    def _update_value_in_config(self, key, value):
        # an event's inputs and outputs: only what is already kept (deep-link bookkeeping only)
        if key in self.config_values:
            update_value(self, key, value)

    # An update — gr.skip() too, which the training poll and the inpainting stream send for each
    # output that has not changed — makes Gradio build the component anew and render its config,
    # twice (≈ 0.6 ms of the training poll's 3.6): rendered here only where a config is kept already.
    set_item, update_config = cls.__setitem__, cls._update_config
    if _setitem_is_gradio6(set_item):
        def __setitem__(self, key, value):
            if key in self.config_values:
                set_item(self, key, value)
            else:
                _set_without_config(self, key, value)

        def _update_config(self, key):
            if key in self.config_values:
                update_config(self, key)

        cls.__setitem__ = __setitem__
        cls._update_config = _update_config
    cls.__init__ = __init__
    cls._update_value_in_config = _update_value_in_config
    cls._lazy_config = True
    return True


def _setitem_is_gradio6(set_item) -> bool:
    """Whether SessionState.__setitem__ is still the one _set_without_config repeats (Gradio 6)."""
    try:
        src = inspect.getsource(set_item)
    except (OSError, TypeError):
        return False
    return all(k in src for k in ("isinstance(block, State)", "self._state_ttl[key]", "self.state_data[key] = value",
                                  "self.blocks_config.blocks[key] = value", "config_for_block"))


def _set_without_config(state, key, value) -> None:
    """Gradio's ``SessionState.__setitem__`` minus rendering the component's config (deep links only)."""
    import datetime

    from gradio.components import State

    block = state.blocks_config.blocks.get(key)
    if isinstance(block, State):
        state._state_ttl[key] = (block.time_to_live, datetime.datetime.now())
        state.state_data[key] = value
    else:
        state.blocks_config.blocks[key] = value


def serve(args: argparse.Namespace, *, block: bool = True):
    """Load the models, build the app and launch it with the serving settings in ``args``.

    With ``block=False`` it returns ``(app, models)`` with the server running in the
    background (tests and bench/classroom.py use this; call ``app.close()``).
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"   # no usage reports, no version check: nothing outbound
    # Gradio's local monitoring table is rebuilt with pandas after *every* event by default (O(events)
    # on the event loop): with a class of 30 that was 12 % of the app's CPU. Refresh it every 500 events.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "500")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "2000")
    if not args.hub_repo:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")   # the hub is contacted only when asked
    import torch
    from PIL import Image

    if args.data_dir:
        os.environ["GAN_CLASSROOM_DATA_DIRS"] = os.pathsep.join(str(Path(d).resolve()) for d in args.data_dir)
    Image.MAX_IMAGE_PIXELS = args.max_pixels          # PIL refuses bigger images before decoding them
    device = pick_device(args.device)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    elif device == "cpu":   # requests run side by side: few threads each, no oversubscribed cores
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // (args.concurrency + 1)))
    if args.share:
        print(SHARE_WARNING, file=sys.stderr)
    print(f"GAN Classroom: loading models on {device}…", file=sys.stderr)
    models, errors = load_models(args.weights, device, args.hub_repo)
    models["_heavy_limit"] = args.concurrency
    lazy_session_config()
    app = build_app(models, errors)
    app.queue(default_concurrency_limit=args.concurrency, max_size=args.queue_size,
              api_open=args.open_api)
    app.launch(server_name=args.host, server_port=args.port, share=args.share, css=CSS,
               max_threads=args.max_threads, max_file_size=args.max_file_size, show_error=True,
               prevent_thread_lock=not block, quiet=not block)
    return app, models


def close(app, models: dict) -> None:
    """Stop the server and the models' background threads (the live trainer)."""
    app.close()
    for m in models.values():
        stop = getattr(m, "close", None)
        if callable(stop):
            stop()


def main(argv=None) -> int:
    serve(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
