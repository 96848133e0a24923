"""Shared fixtures: tiny seeded models in a temp weights dir, and an app served in-process.

Tests never touch ../shared and never download anything.
"""
from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
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


def in_test_manifest(out: Path, names) -> Path:
    """Enter the files in out's manifest as the tests' own (no data, 0 steps): their hashes are checked."""
    from ganmodels import weights as W

    for name in names:
        W.update_manifest(out, name, data="none (test)", steps=0, command="tests/conftest.py")
    return out


def save_tiny_classifier(out: Path) -> str:
    """A tiny untrained MNIST classifier (weights from torch's current random state); its file name."""
    from ganmodels import weights as W
    from ganmodels.models import classifier as C

    cfg = C.ClassifierConfig(width=4, feat_dim=16)
    W.save_network(C.Classifier(cfg).eval(), out / C.FILE, family=C.FAMILY, network="C", config=cfg)
    return C.FILE


def save_tiny_reader(out: Path) -> str:
    """A tiny untrained masked reader (the inpainting search's class guidance); its file name."""
    from ganmodels.models import masked_reader as MR

    cfg = MR.ReaderConfig(width=4, feat_dim=16)
    MR.save(MR.Reader(cfg).eval(), out / MR.FILE)
    return MR.FILE


def make_tiny_weights(out: Path) -> Path:
    """Tiny, untrained DCGAN + classifier + masked reader saved like the shipped ones, with a manifest."""
    from ganmodels.models import dcgan

    torch.manual_seed(0)
    cfg = dcgan.DCGANConfig(z_dim=16, ngf=8, ndf=8)
    G, D = dcgan.Generator(cfg).eval(), dcgan.Discriminator(cfg).eval()
    dcgan.save(G, D, cfg, out)
    return in_test_manifest(out, (*dcgan.FILES.values(), save_tiny_classifier(out), save_tiny_reader(out)))


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


@contextlib.contextmanager
def launched(blocks, **launch_kw):
    """``blocks`` (queued already) served on a free local port: yields its URL, closes it after."""
    port = free_port()
    blocks.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kw)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        blocks.close()


@contextlib.contextmanager
def serve_tab(build, ctx, tab: str | None = None, **queue_kw):
    """One tab's ``build(ctx)`` alone in an app (inside ``gr.Tab(tab)`` when named), served on a
    free port with the app's CSS: yields (url, blocks)."""
    import gradio as gr

    import app as app_module

    with gr.Blocks() as blocks:
        if tab is None:
            build(ctx)
        else:
            with gr.Tab(tab):
                build(ctx)
    blocks.queue(**queue_kw)
    with launched(blocks, css=app_module.CSS) as url:
        yield url, blocks


@pytest.fixture(scope="session")
def served_app(tiny_weights):
    """The whole app on tiny models, served on a free port. Yields (url, app, ctx)."""
    import app as app_module

    ctx = app_module.load_context(tiny_weights, "cpu")
    demo = app_module.build_app(ctx)
    demo.queue(default_concurrency_limit=2)
    try:
        with launched(demo, css=app_module.CSS) as url:
            yield url, demo, ctx
    finally:
        ctx.close()              # stops background threads (the trainer)


def wait_until(cond, timeout: float = 30.0) -> bool:
    """Poll ``cond()`` every 20 ms: True as soon as it holds, False after ``timeout`` seconds."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return True
        time.sleep(0.02)
    return False


def trainer_threads() -> list:
    """The Live training tab's trainer threads still running (none should outlive their trainer)."""
    return [t for t in threading.enumerate() if t.name == "gan-live-trainer" and t.is_alive()]


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


# ---------------------------------------------------------------- tiny weights of the other families

INFOGAN_TINY = dict(fc_g=16, ngf=8, ndf=8, fc_d=16, fc_q=8)
CGAN_TINY = dict(ngf=8, ndf=8, fc_d=16)
SRGAN_TINY = dict(channels=8, blocks=1, head_kernel=3)
CYCLEGAN_TINY = dict(ngf=4, n_blocks=2, ndf=8)


def make_tiny_infogan_weights(out: Path) -> Path:
    """Tiny untrained InfoGAN, cGAN and classifier saved like the shipped ones, with a manifest.

    Seeded with 0, InfoGAN's G first: ``IG.Generator(InfoGANConfig(**INFOGAN_TINY))`` right after
    ``torch.manual_seed(0)`` has the saved G's weights."""
    from ganmodels.models import cgan as CG
    from ganmodels.models import infogan as IG

    torch.manual_seed(0)
    cfg = IG.InfoGANConfig(**INFOGAN_TINY)
    IG.save(IG.Generator(cfg).eval(), IG.Discriminator(cfg).eval(), cfg, out)
    ccfg = CG.CGANConfig(**CGAN_TINY)
    CG.save(CG.Generator(ccfg).eval(), CG.Discriminator(ccfg).eval(), ccfg, out)
    return in_test_manifest(out, (*IG.FILES.values(), *CG.FILES.values(), save_tiny_classifier(out)))


def tiny_srgan_G(seed=0, **kw):
    """A tiny SR generator whose output is NOT just bicubic (the tail is re-initialised)."""
    from ganmodels.models import srgan as S

    torch.manual_seed(seed)
    G = S.Generator(S.SRConfig(**{**SRGAN_TINY, **kw}))
    torch.nn.init.normal_(G.tail.weight, 0, 0.05)
    return G.eval()


def make_tiny_srgan_weights(out: Path) -> Path:
    """Tiny SRResNet and SRGAN generators (seeds 0 and 1) and an SRGAN D, with a manifest."""
    from ganmodels.models import srgan as S

    S.save_G(tiny_srgan_G(0), "srresnet", out)
    S.save_G(tiny_srgan_G(1), "srgan", out)
    S.save_D(S.Discriminator(S.SRDConfig(ndf=4, dense=8)).eval(), out)
    return in_test_manifest(out, S.FILES.values())


def tiny_cyclegan_nets(cfg=None, seed=0):
    """Seeded tiny CycleGAN networks (``CYCLEGAN_TINY`` unless cfg is given): (G, F, D_Y, D_X)."""
    from ganmodels.models import cyclegan as C

    cfg = cfg or C.CycleGANConfig(**CYCLEGAN_TINY)
    torch.manual_seed(seed)
    return (C.ResnetGenerator(cfg), C.ResnetGenerator(cfg),
            C.PatchDiscriminator(cfg), C.PatchDiscriminator(cfg))


def make_tiny_cyclegan_weights(out: Path, judge: bool = False) -> Path:
    """Tiny G and F (+ the Monet judge with ``judge``) saved like the shipped files, with a manifest."""
    from ganmodels.models import cyclegan as C
    from ganmodels.models import monet_judge as J

    G, F, _, _ = tiny_cyclegan_nets()
    C.save({"G": G.eval(), "F": F.eval()}, C.CycleGANConfig(**CYCLEGAN_TINY), out)
    names = [C.FILES["G"], C.FILES["F"]]
    if judge:
        torch.manual_seed(0)
        J.save(J.MonetJudge(J.JudgeConfig(width=4, size=32)).eval(), out)
        names.append(J.FILE)
    return in_test_manifest(out, names)


def make_tiny_face_weights(out: Path) -> Path:
    """Tiny, untrained face DCGAN + face classifier, and the attribute vectors they give, saved like
    the shipped ones (z_dim 16, ngf = ndf = 4; pool of 200 samples)."""
    from ganmodels.inference import face_attributes as FA
    from ganmodels.models import face_classifier as FC
    from ganmodels.models import faces

    torch.manual_seed(0)
    cfg = faces.FacesConfig(z_dim=16, ngf=4, ndf=4)
    G, D = faces.Generator(cfg).eval(), faces.Discriminator(cfg).eval()
    faces.save(G, D, cfg, out)
    ccfg = FC.FaceClassifierConfig(width=4, feat_dim=16)
    C = FC.FaceClassifier(ccfg).eval()
    FC.save(C, out / FC.FILE)
    with torch.no_grad():
        attrs = FA.compute(G, lambda x: torch.sigmoid(C(x)), cfg.z_dim, n=400, pool=200)
    FA.save(attrs, out / FA.FILE)
    return in_test_manifest(out, (*faces.FILES.values(), FC.FILE, FA.FILE))


@pytest.fixture(scope="session")
def face_weights(tmp_path_factory) -> Path:
    return make_tiny_face_weights(tmp_path_factory.mktemp("face_weights"))


PIX2PIX_TINY = dict(ngf=4, ndf=4, n_down=6, n_layers_d=1)


def make_tiny_pix2pix_weights(out: Path) -> Path:
    """Tiny, untrained pix2pix generators (L1-only: seed 0; cGAN + L1: seed 1) and the cGAN's D, saved
    like the shipped ones (``PIX2PIX_TINY``), with a manifest."""
    from ganmodels.models import pix2pix as P

    cfg = P.Pix2PixConfig(**PIX2PIX_TINY)
    torch.manual_seed(0)
    hashes = P.save(P.UNetGenerator(cfg).eval(), None, cfg, out, objective="l1")
    torch.manual_seed(1)
    hashes.update(P.save(P.UNetGenerator(cfg).eval(), P.PatchDiscriminator(cfg).eval(), cfg, out))
    return in_test_manifest(out, hashes)


@pytest.fixture(scope="session")
def pix2pix_weights(tmp_path_factory) -> Path:
    return make_tiny_pix2pix_weights(tmp_path_factory.mktemp("pix2pix_weights"))


def make_all_tiny_weights(out: Path) -> Path:
    """Tiny weights for every family the app loads: DCGAN + classifier, InfoGAN/cGAN, SRGAN, CycleGAN,
    faces + face classifier, pix2pix."""
    make_tiny_weights(out)
    make_tiny_infogan_weights(out)
    make_tiny_srgan_weights(out)
    make_tiny_face_weights(out)
    make_tiny_pix2pix_weights(out)
    return make_tiny_cyclegan_weights(out)


@pytest.fixture(scope="session")
def all_weights(tmp_path_factory) -> Path:
    return make_all_tiny_weights(tmp_path_factory.mktemp("all_weights"))


@pytest.fixture(scope="session")
def infogan_weights(tmp_path_factory) -> Path:
    return make_tiny_infogan_weights(tmp_path_factory.mktemp("igweights"))


@pytest.fixture(scope="session")
def srgan_weights(tmp_path_factory) -> Path:
    return make_tiny_srgan_weights(tmp_path_factory.mktemp("srweights"))


@pytest.fixture(scope="session")
def cyclegan_weights(tmp_path_factory) -> Path:
    return make_tiny_cyclegan_weights(tmp_path_factory.mktemp("cg_weights"), judge=True)


@contextlib.contextmanager
def serving_app(weights: Path, *flags: str):
    """``python app.py --weights WEIGHTS --device cpu --torch-threads 1 FLAGS…`` served in this process
    on a free port (``app.serve``): yields (url, app, ctx); restores what serving changed globally."""
    import app as A
    from PIL import Image

    max_pixels, n_threads = Image.MAX_IMAGE_PIXELS, torch.get_num_threads()
    args = A.parse_args(["--port", str(free_port()), "--weights", str(weights), "--device", "cpu",
                         "--torch-threads", "1", *flags])
    app, ctx = A.serve(args, block=False)
    try:
        yield f"http://127.0.0.1:{args.port}", app, ctx
    finally:
        A.close(app, ctx)
        Image.MAX_IMAGE_PIXELS = max_pixels
        torch.set_num_threads(n_threads)
