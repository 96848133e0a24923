"""Shared fixtures: tiny seeded models in a temp weights dir, and an app served in-process.

Tests never touch ../shared and never download anything.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_tiny_weights(out: Path) -> Path:
    """Tiny, untrained DCGAN + classifier saved like the shipped ones, with a manifest."""
    from ganmodels.models import classifier as C
    from ganmodels.models import dcgan
    from ganmodels import weights as W

    torch.manual_seed(0)
    cfg = dcgan.DCGANConfig(z_dim=16, ngf=8, ndf=8)
    G, D = dcgan.Generator(cfg).eval(), dcgan.Discriminator(cfg).eval()
    dcgan.save(G, D, cfg, out)
    ccfg = C.ClassifierConfig(width=4, feat_dim=16)
    W.save_network(C.Classifier(ccfg).eval(), out / C.FILE, family=C.FAMILY, network="C", config=ccfg)
    for name in (*dcgan.FILES.values(), C.FILE):
        W.update_manifest(out, name, data="none (test)", steps=0, command="tests/conftest.py")
    return out


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    return make_tiny_weights(tmp_path_factory.mktemp("weights"))


@pytest.fixture(scope="session")
def shipped_weights() -> Path:
    """The real shipped weights (skips if they are not in this checkout)."""
    d = ROOT / "weights"
    if not (d / "manifest.json").exists():
        pytest.skip("no shipped weights in this checkout")
    return d


@pytest.fixture(scope="session")
def served_app(tiny_weights):
    """The whole app on tiny models, served on a free port. Yields (url, app, ctx)."""
    import app as app_module

    ctx = app_module.load_context(tiny_weights, "cpu")
    demo = app_module.build_app(ctx)
    demo.queue(default_concurrency_limit=2)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                css=app_module.CSS)
    try:
        yield f"http://127.0.0.1:{port}", demo, ctx
    finally:
        demo.close()
        ctx.close()              # stops background threads (the trainer)


def api_call(url: str, api_name: str, data: list, timeout: float = 60.0):
    """POST /gradio_api/run/<api_name> (the raw HTTP API). Returns (status, json)."""
    import json
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"{url}/gradio_api/run/{api_name}",
                                 data=json.dumps({"data": data}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, {"raw": body.decode(errors="replace")}


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium through Playwright (skips when either is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    pw = pytest.importorskip("playwright.sync_api")
    import tempfile

    with pw.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(), executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--disable-dev-shm-usage"])
        try:
            yield ctx
        finally:
            ctx.close()


def make_all_tiny_weights(out: Path) -> Path:
    """Tiny weights for every family the app loads: DCGAN + classifier, InfoGAN/cGAN, SRGAN, CycleGAN."""
    from ganmodels import weights as W
    from ganmodels.models import cyclegan as C
    from tests.test_cyclegan import TINY, tiny_nets
    from tests.test_infogan import make_weights as infogan_weights
    from tests.test_srgan import make_weights as srgan_weights

    make_tiny_weights(out)
    infogan_weights(out)
    srgan_weights(out)
    G, F, _, _ = tiny_nets()
    C.save({"G": G.eval(), "F": F.eval()}, TINY, out)
    for name in (C.FILES["G"], C.FILES["F"]):
        W.update_manifest(out, name, data="none (test)", steps=0, command="tests/conftest.py")
    return out


@pytest.fixture(scope="session")
def all_weights(tmp_path_factory) -> Path:
    return make_all_tiny_weights(tmp_path_factory.mktemp("all_weights"))
