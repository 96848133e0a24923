"""GAN Classroom: an interactive app for teaching Generative Adversarial Networks.

    python app.py                         # http://127.0.0.1:7860, shipped weights, no network
    python app.py --device cuda --port 8000
    python app.py --hub-repo USER/REPO    # opt-in: weights from the Hugging Face hub

Flags → an ``AppContext`` (demo/context.py: the models, loaded once, and the serving
settings) → one tab per module of demo/, each built by its ``build(ctx)`` → serve.  A model
whose weights are missing or corrupt only disables the tabs that need it: those tabs
explain what is wrong; the others work.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no outbound calls at start-up

# the page header's promise: numbers from the papers (SRGAN's Set5 table, CycleGAN's λ = 10, …) are marked
# "quoted from the paper" where they appear; every other number is measured by this app or its benchmarks
HEADER_NUMBERS = "Every number shown is measured unless marked *quoted from the paper*."

# (tab title, module in demo/): the order of the tabs in the app
TABS = [
    ("Latent space", "latent"),
    ("InfoGAN codes", "infogan"),
    ("Inpainting", "inpaint"),
    ("pix2pix sketch → face", "pix2pix"),
    ("CycleGAN photo ↔ Monet", "cyclegan"),
    ("SRGAN zoom", "srgan"),
    ("Live training", "training"),
    ("Theory & metrics", "theory"),
]

CSS = """
.pixelated img, img.pixelated { image-rendering: pixelated; }
.fit img { object-fit: contain; }  /* a small image fills its box (gradio's default, scale-down, never enlarges) */
.formula { font-size: 0.95em; }
footer { display: none !important; }
.units-table th:last-child, .units-table td:last-child { white-space: nowrap; word-break: normal; }
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


def load_context(weights_dir=None, device: str = "cpu", hub_repo: str | None = None,
                 verify_hashes: bool = True, *, heavy_limit: int = 2, data_dirs=(),
                 max_pixels: int = 50_000_000):
    """Load every model the tabs need, once, into an AppContext (a model that fails to load is
    listed in ``ctx.errors`` with the reason)."""
    from demo.context import AppContext
    from ganmodels import MODELS
    from ganmodels import weights as W

    store = W.WeightStore(weights_dir or W.DEFAULT_DIR, hub_repo, verify_hashes=verify_hashes)
    ctx = AppContext(device=device, store=store, heavy_limit=heavy_limit, data_dirs=tuple(data_dirs),
                     max_pixels=max_pixels)
    needed: list[str] = []
    for _, mod in _tab_modules():
        for name in getattr(mod, "REQUIRES", ()) + getattr(mod, "OPTIONAL", ()):
            if name not in needed:
                needed.append(name)
    for name in needed:
        t0 = time.time()
        try:
            ctx.models[name] = MODELS[name](device=device, store=store)
            print(f"  loaded {name} ({time.time() - t0:.1f} s)", file=sys.stderr)
        except Exception as e:  # noqa: BLE001 -- any failure disables only the tabs that need it
            ctx.errors[name] = f"{type(e).__name__}: {e}" if not isinstance(e, W.WeightsError) else str(e)
            print(f"  could not load {name}: {ctx.errors[name]}", file=sys.stderr)
    return ctx


def build_app(ctx):
    """The Blocks app: one tab per use case, each built by its module's ``build(ctx)``."""
    import gradio as gr

    from demo.common import error_markdown

    # uploads and generated files older than an hour are deleted every 10 minutes (the upload budget
    # of serving.guard counts the same hour)
    with gr.Blocks(title="GAN Classroom", delete_cache=(600, UPLOAD_WINDOW_S)) as app:
        gr.Markdown("# GAN Classroom\nWhat Generative Adversarial Networks do — live, "
                    "one tab per idea. " + HEADER_NUMBERS)
        for title, mod in _tab_modules():
            with gr.Tab(title):
                missing = [n for n in getattr(mod, "REQUIRES", ()) if n not in ctx.models]
                if missing:
                    gr.Markdown(error_markdown(title, "; ".join(ctx.errors.get(n, f"{n} not loaded")
                                                                for n in missing)))
                    continue
                mod.build(ctx)
    return app


UPLOAD_WINDOW_S = 3600     # uploads are kept (and counted against the budgets) this long


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
    p.add_argument("--upload-mb-per-client", type=float, default=200,
                   help="MB one client address may upload per hour (beyond it: a message to wait)")
    p.add_argument("--upload-mb-total", type=float, default=2000,
                   help="MB all students together may upload per hour (uploads are deleted after an hour)")
    p.add_argument("--max-pixels", type=int, default=50_000_000,
                   help="images with more pixels are refused from their header, before they are decoded "
                        "(decompression bombs); every tab uses this one limit")
    p.add_argument("--data-dir", action="append", default=[],
                   help="a folder the app may read data from (repeatable): the Live training tab trains on "
                        "image folders inside it, the Inpainting tab takes held-out digits from its "
                        "mnist/mnist_test_first5000.npz. None by default: a path typed in a browser never "
                        "reaches the disk")
    # -- Live training for a class (docs/DEPLOY.md, "Live training for a class")
    p.add_argument("--lecturer-key", default=os.environ.get("GAN_LECTURER_KEY"),
                   help="the key that lets a browser drive the shared (lecturer's) training run and train image "
                        "models; students each get a private 2-D run. Without it, on this machine only "
                        "(--host 127.0.0.1) every browser drives the shared run; served to a network, nobody does")
    p.add_argument("--max-private-runs", type=int, default=40,
                   help="private 2-D training runs at once (one per browser session); the next is refused with a message")
    p.add_argument("--run-idle-minutes", type=float, default=10,
                   help="a private run whose browser tab stopped polling for this long is stopped and freed")
    p.add_argument("--toy-threads", type=int, default=1,
                   help="threads that train all private 2-D runs, round-robin in small slices (default 1)")
    p.add_argument("--toy-batch", type=int, choices=(0, 1), default=1,
                   help="1 (default): private runs that share their networks and settings are trained as one "
                        "batched computation; 0: each in its own slices")
    p.add_argument("--open-api", action="store_true",
                   help="also accept direct POST /gradio_api/run/<name> calls, which skip the queue and its "
                        "limits (for scripts and benchmarks; off by default, as on Hugging Face Spaces)")
    p.add_argument("--torch-threads", type=int, default=None,
                   help="CPU threads per PyTorch operation (default on CPU: cores / (concurrency + 1), at "
                        "least 1 — many requests run at once, each on few threads)")
    return p.parse_args(argv)


def serve(args: argparse.Namespace, *, block: bool = True):
    """Load the models, build the app and launch it with the serving settings in ``args``.

    With ``block=False`` it returns ``(app, ctx)`` with the server running in the background
    (tests and bench/latency.py use this; stop it with ``close(app, ctx)``).
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"   # no usage reports, no version check: nothing outbound
    # Gradio rebuilds its local monitoring table with pandas after every event by default, on the
    # event loop, at a cost that grows with the events served: refresh it every 500 events instead.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "500")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "2000")
    if not args.hub_repo:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")   # the hub is contacted only when asked
    import torch
    from PIL import Image

    from serving import perf
    from serving.gradio_session import lazy_session_config

    Image.MAX_IMAGE_PIXELS = args.max_pixels          # PIL refuses bigger images before decoding them
    device = pick_device(args.device)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    elif device == "cpu":
        torch.set_num_threads(perf.torch_threads(args.concurrency))
    if args.share:
        print(SHARE_WARNING, file=sys.stderr)
    print(f"GAN Classroom: loading models on {device}…", file=sys.stderr)
    ctx = load_context(args.weights, device, args.hub_repo, heavy_limit=args.concurrency,
                       data_dirs=args.data_dir, max_pixels=args.max_pixels)
    ctx.lecturer_key = args.lecturer_key or None
    ctx.everyone_lecturer = ctx.lecturer_key is None and args.host in ("127.0.0.1", "localhost", "::1")
    ctx.max_private_runs, ctx.run_idle_s = args.max_private_runs, 60.0 * args.run_idle_minutes
    ctx.toy_threads = args.toy_threads
    ctx.toy_batch = bool(args.toy_batch)
    lazy_session_config()
    app = build_app(ctx)
    app.queue(default_concurrency_limit=args.concurrency, max_size=args.queue_size,
              api_open=args.open_api)
    from starlette.middleware import Middleware

    from serving.guard import Guard, parse_size

    guard = Middleware(Guard, blocks=app, client_mb=args.upload_mb_per_client, server_mb=args.upload_mb_total,
                       window_s=UPLOAD_WINDOW_S, max_body=parse_size(args.max_file_size))
    app.launch(server_name=args.host, server_port=args.port, share=args.share, css=CSS,
               max_threads=args.max_threads, max_file_size=args.max_file_size, show_error=True,
               prevent_thread_lock=not block, quiet=not block, app_kwargs={"middleware": [guard]})
    return app, ctx


def close(app, ctx) -> None:
    """Stop the server and what runs in the background (the live trainer and its drawing process)."""
    app.close()
    ctx.close()


def main(argv=None) -> int:
    serve(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
