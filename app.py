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
import os
import sys
import time

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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--weights", default=None, help="folder with the weight files (default: weights/)")
    p.add_argument("--hub-repo", default=None, help="opt-in: download weights from this Hugging Face repo")
    p.add_argument("--max-threads", type=int, default=40, help="worker threads serving requests")
    p.add_argument("--concurrency", type=int, default=2, help="heavy jobs (inpainting, CycleGAN, SR) run at once")
    p.add_argument("--max-file-size", default="20mb", help="largest upload accepted")
    args = p.parse_args(argv)

    import torch

    device = pick_device(args.device)
    if device == "cpu":
        torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    if args.share:
        print("WARNING: --share exposes this app (and this machine's CPU/GPU) to anyone with the "
              "link, through Gradio's public tunnel. Use it only for a class you trust.", file=sys.stderr)
    print(f"GAN Classroom: loading models on {device}…", file=sys.stderr)
    models, errors = load_models(args.weights, device, args.hub_repo)
    models["_heavy_limit"] = args.concurrency
    app = build_app(models, errors)
    app.queue(default_concurrency_limit=args.concurrency)
    app.launch(server_name=args.host, server_port=args.port, share=args.share, css=CSS,
               max_threads=args.max_threads, max_file_size=args.max_file_size, show_error=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
