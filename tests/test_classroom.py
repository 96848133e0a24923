"""Classroom-ready: hostile input on every API endpoint, faults, security, no outbound network.

The whole app (every tab that exists) is served on tiny untrained models of every family,
with the same serving settings as ``python app.py`` (``app.serve``).  The endpoints are
found at run time (GET /config), so a new tab is fuzzed without touching this file.

    pytest tests/test_classroom.py                 # moderate fuzz (FUZZ_EXAMPLES per endpoint, default 6)
    pytest tests/test_classroom.py -m slow         # the long fuzz (60 per endpoint)
"""
from __future__ import annotations

import errno
import io
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bench import classroom as B
from demo.context import AppContext
from tests.conftest import ROOT, api_call, free_port, serving_app

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SLOW_FUZZ_EXAMPLES = 60
TIMEOUT = 120          # a request that takes longer than this counts as a hang


# the served app's --max-pixels: small, so that the fuzz's decompression bombs (1.0–2.0× it) are cheap
FUZZ_MAX_PIXELS = 2_000_000


@pytest.fixture(scope="module")
def classroom_app(all_weights):
    """The whole app served as ``python app.py --open-api`` would serve it. Yields (url, app, ctx)."""
    with serving_app(all_weights, "--open-api", "--max-pixels", str(FUZZ_MAX_PIXELS)) as served:
        yield served


@pytest.fixture(scope="module")
def eps(classroom_app):
    return B.endpoints(classroom_app[0])


# Gradio's own checks of a request, before any tab code runs (wrong type, a value not among the
# choices, out of range, a file the user never uploaded): with show_error=True their text is sent.
GRADIO_REJECTS = ("Could not preprocess input component", "Cannot move ", "Dotfiles located",
                  "File not allowed", "is not in the list of choices", "is greater than maximum",
                  "is less than minimum", "validation error")


def classify(status: int, body: dict) -> str:
    """"result", "message" (a gr.Error raised by the tab), "rejected" (Gradio refused the input with
    a message) or "server error" (an exception escaped the tab's code, or no message at all).

    app.py serves with show_error=True, so any exception's text reaches the user; a gr.Error is told
    apart by the fields Gradio adds to it ("title", "duration")."""
    if status == 200 and "data" in body:
        return "result"
    msg = body.get("error") if isinstance(body, dict) else None
    if 400 <= status < 500 and isinstance(msg, str) and msg.strip():    # refused by serving.guard, with why
        return "rejected"
    if status == 500 and isinstance(msg, str) and msg.strip():
        if "title" in body:
            return "message"
        if msg.startswith(GRADIO_REJECTS) or any(r in msg for r in GRADIO_REJECTS[4:]):
            return "rejected"
    return "server error"


def answered_clearly(status: int, body: dict) -> bool:
    return classify(status, body) != "server error"


# ------------------------------------------------------------------ hostile values, by component type


def png_bytes(w: int, h: int, mode: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
    im = Image.fromarray(arr, "RGBA").convert(mode) if mode != "RGBA" else Image.fromarray(arr, "RGBA")
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@st.composite
def file_bytes(draw, big: bool = False):
    """(name, bytes): valid images of odd sizes/modes, truncated and garbage files, empty files."""
    kind = draw(st.sampled_from(["png", "png", "truncated", "garbage", "empty", "jpeg", "gif", "text", "npy",
                                 "bomb"]))
    side = st.integers(1, 900 if big else 160)
    w, h = draw(side), draw(side)
    seed = draw(st.integers(0, 2**16))
    name = draw(st.sampled_from(["x.png", "photo.jpg", "a b.webp", "../../evil.png", "noext", "ü.png", ".hidden.png"]))
    if kind == "png":
        return name, png_bytes(w, h, draw(st.sampled_from(["L", "RGB", "RGBA", "P", "1", "I", "LA"])), seed)
    if kind == "bomb":      # flat PNGs at 1.0–2.0× the served app's --max-pixels (a few KB each)
        f = draw(st.sampled_from([1.0, 1.01, 1.5, 2.0]))
        s = math.isqrt(int(FUZZ_MAX_PIXELS * f)) + (f > 1)
        buf = io.BytesIO()
        Image.new(draw(st.sampled_from(["L", "RGBA"])), (s, s)).save(buf, "PNG", compress_level=9)
        return name, buf.getvalue()
    if kind == "truncated":
        data = png_bytes(w, h, "RGB", seed)
        return name, data[:draw(st.integers(0, max(0, len(data) - 1)))]
    if kind == "garbage":
        return name, draw(st.binary(min_size=1, max_size=2048))
    if kind == "empty":
        return name, b""
    if kind == "jpeg":
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)).save(buf, "JPEG")
        return name, buf.getvalue()
    if kind == "gif":
        buf = io.BytesIO()
        frames = [Image.new("P", (w, h), i) for i in range(3)]
        frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
        return name, buf.getvalue()
    if kind == "npy":
        buf = io.BytesIO()
        np.save(buf, np.full((h, w), np.nan, dtype=np.float32))
        return name, buf.getvalue()
    return name, draw(st.text(max_size=200)).encode("utf-8", "replace")


ESCAPES = ["../../../../etc/passwd", "/etc/passwd", "/proc/self/environ", str(ROOT / "app.py"),
           str(ROOT / "weights" / "manifest.json"), "..", "", "/", "~/.ssh/id_rsa"]

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-2**70, 2**70),
    st.sampled_from([0, 1, -1, 1e308, -1e308, 1e-320, float("nan"), float("inf"), -float("inf")]),
    st.text(max_size=8), st.none(), st.booleans(), st.lists(st.integers(), max_size=2))
weird = st.one_of(st.none(), st.integers(-10, 10**9), st.floats(), st.text(max_size=30),
                  st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def not_a_folder(s: str) -> bool:
    # Pointing a text box at a real folder of the server is not random input (reported separately);
    # random text never walks the server's disk here.
    try:
        return not (s.strip() and Path(s.strip()).expanduser().exists())
    except (OSError, ValueError):
        return True


texts = st.text(max_size=300).filter(not_a_folder)


@st.composite
def file_value(draw, url: str, big: bool = False):
    """A FileData for an uploaded hostile file, a path the user never uploaded, or junk."""
    how = draw(st.sampled_from(["upload", "upload", "upload", "escape", "junk", "none"]))
    if how == "upload":
        name, data = draw(file_bytes(big))
        return B.upload(url, name, data)
    if how == "escape":
        return {"path": draw(st.sampled_from(ESCAPES)), "meta": {"_type": "gradio.FileData"}}
    if how == "none":
        return None
    return draw(weird)


@st.composite
def value_for(draw, comp: dict, url: str, big: bool = False):
    t, props = comp["type"], comp["props"]
    if t == "state":
        return None
    valid = draw(st.booleans())
    if t in B.NUMBER_TYPES:
        if valid and props.get("minimum") is not None and props.get("maximum") is not None:
            return draw(st.floats(props["minimum"], props["maximum"]))
        return draw(numbers)
    if t in B.CHOICE_TYPES:
        choices = B.choice_values(props)
        if valid and choices:
            return draw(st.sampled_from(choices))
        return draw(st.one_of(texts, weird))
    if t == "textbox":
        return draw(texts)
    if t == "checkbox":
        return draw(st.one_of(st.booleans(), weird))
    if t in ("image", "file"):
        return draw(file_value(url, big))
    if t == "imageeditor":
        if draw(st.integers(0, 5)) == 0:
            return draw(weird)
        layers = draw(st.lists(file_value(url, big), max_size=2))
        return {"background": draw(file_value(url, big)), "layers": layers,
                "composite": draw(file_value(url, big))}
    return draw(weird)


def fuzz_all(url: str, eps: dict, n_per_endpoint: int, big: bool = False) -> dict:
    """Hypothesis over every endpoint; returns {api_name: inputs tried}. Fails on a server error."""
    tried, failures, kinds = {}, [], {}
    for name, comps in sorted(eps.items()):
        tried[name] = 0

        @settings(max_examples=n_per_endpoint, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def one(data):
            values = [data.draw(value_for(c, url, big), label=f"{name}[{i}]") for i, c in enumerate(comps)]
            status, body = api_call(url, name, values, timeout=TIMEOUT)
            tried[name] += 1
            kinds[classify(status, body)] = kinds.get(classify(status, body), 0) + 1
            assert answered_clearly(status, body), \
                f"{name}: server error (HTTP {status}, {str(body)[:300]}) for inputs {str(values)[:600]}"

        try:
            one()
        except AssertionError as e:      # keep fuzzing the other endpoints; report every failing one
            failures.append(str(e).split("\n")[0])
    if "training_pause" in eps:          # a fuzzed training_start leaves the live run going
        api_call(url, "training_pause", [None] * len(eps["training_pause"]))
    assert not failures, "server errors:\n" + "\n".join(failures)
    tried["_answers"] = kinds
    return tried


def still_answers(url: str, eps: dict) -> None:
    name = next(n for n in sorted(eps) if B.is_slider(eps[n], n))
    values = [B.value_for(c, __import__("random").Random(0), []) for c in eps[name]]
    status, body = api_call(url, name, values)
    assert status == 200, (name, body)


def test_every_tab_has_public_endpoints(eps):
    """The fuzz covers every tab that loaded: each contributes endpoints (a guard against fuzzing nothing)."""
    import app as A
    prefixes = {"latent": "latent_", "infogan": "infogan_", "inpaint": "inpaint", "cyclegan": "cyclegan_",
                "srgan": "srgan_", "training": "training_"}
    for _, tab in A.TABS:
        assert any(n.startswith(prefixes.get(tab, tab)) for n in eps), f"no public endpoint for tab {tab}: {sorted(eps)}"


def test_fuzz_every_endpoint(classroom_app, eps, capsys):
    url = classroom_app[0]
    tried = fuzz_all(url, eps, FUZZ_EXAMPLES)
    still_answers(url, eps)
    kinds = tried.pop("_answers")
    total = sum(tried.values())
    with capsys.disabled():
        print(f"\nfuzz: {total} hostile inputs over {len(tried)} endpoints, 0 server errors; answers {kinds}; "
              f"per endpoint {json.dumps(tried)}")
    assert total >= len(eps) * FUZZ_EXAMPLES * 0.5


@pytest.mark.slow
def test_fuzz_every_endpoint_long(classroom_app, eps, capsys):
    url = classroom_app[0]
    tried = fuzz_all(url, eps, SLOW_FUZZ_EXAMPLES, big=True)
    still_answers(url, eps)
    kinds = tried.pop("_answers")
    with capsys.disabled():
        print(f"\nlong fuzz: {sum(tried.values())} hostile inputs, 0 server errors; answers {kinds}; "
              f"per endpoint {json.dumps(tried)}")


# ------------------------------------------------------------------ security


def http_get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_server_runs_on_the_fast_http_parser_and_event_loop(classroom_app):
    """requirements.txt brings httptools and uvloop; uvicorn then parses HTTP in C and runs uvloop,
    which takes less server CPU per request than its pure-Python parser and asyncio loop."""
    import sys as _sys

    config = classroom_app[1].server.config
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    if _sys.platform != "win32":
        assert "uvloop" in config.get_loop_factory().__module__


def test_defaults_bind_localhost_and_keep_the_queue(monkeypatch):
    import app as A
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    args = A.parse_args([])
    assert args.host == "127.0.0.1" and not args.share and not args.open_api
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")          # what Hugging Face Spaces sets
    assert A.parse_args([]).host == "0.0.0.0"
    assert args.queue_size > 0 and args.concurrency >= 1


def test_share_warns_and_launch_gets_the_limits(monkeypatch, capsys):
    """--share prints a warning; the serving flags reach queue() and launch() (no real launch here)."""
    import app as A

    calls = {}

    class FakeApp:
        def queue(self, **kw):
            calls["queue"] = kw

        def launch(self, **kw):
            calls["launch"] = kw

    seen = {}

    def load_context(*a, **kw):
        seen.update(kw)
        return AppContext(**{k: v for k, v in kw.items() if k in ("heavy_limit", "data_dirs")})

    monkeypatch.setattr(A, "load_context", load_context)
    monkeypatch.setattr(A, "build_app", lambda ctx: FakeApp())
    max_pixels = Image.MAX_IMAGE_PIXELS
    try:
        _, ctx = A.serve(A.parse_args(["--share", "--max-file-size", "3mb", "--max-threads", "7", "--concurrency",
                                       "3", "--queue-size", "11", "--max-pixels", "1234", "--device", "cpu",
                                       "--data-dir", "/srv/a", "--data-dir", "/srv/b"]), block=False)
        assert Image.MAX_IMAGE_PIXELS == 1234
    finally:
        Image.MAX_IMAGE_PIXELS = max_pixels
    err = capsys.readouterr().err
    assert "WARNING" in err and "--share" in err
    assert calls["launch"]["share"] is True and calls["launch"]["server_name"] == "127.0.0.1"
    assert calls["launch"]["max_file_size"] == "3mb" and calls["launch"]["max_threads"] == 7
    assert calls["queue"] == {"default_concurrency_limit": 3, "max_size": 11, "api_open": False}
    # the serving settings the tabs need reach them through the AppContext, not the environment
    assert seen["heavy_limit"] == 3 and list(seen["data_dirs"]) == ["/srv/a", "/srv/b"]
    assert ctx.heavy_limit == 3 and ctx.data_dirs == (Path("/srv/a").resolve(), Path("/srv/b").resolve())
    assert not any(k.startswith("GAN_CLASSROOM_DATA") for k in os.environ)


def test_dotdot_upload_name_stays_in_the_upload_folder(classroom_app, tmp_path):
    url = classroom_app[0]
    from gradio.utils import get_upload_folder

    target = Path("/tmp") / f"escaped_{uuid.uuid4().hex}.png"
    fd = B.upload(url, f"../../../../..{target}", png_bytes(8, 8, "RGB", 0))
    stored = Path(fd["path"]).resolve()
    assert stored.is_relative_to(Path(get_upload_folder()).resolve()), stored
    assert ".." not in Path(fd["path"]).parts and not target.exists()


def test_paths_in_requests_never_reach_the_filesystem(classroom_app, eps):
    """A FileData naming a file the user did not upload is refused with a message, never read."""
    url = classroom_app[0]
    secret = (ROOT / "app.py").read_text()[:200]
    file_eps = [(n, c) for n, c in eps.items() if any(x["type"] in ("image", "file") for x in c)]
    assert file_eps
    for name, comps in file_eps:
        for bad in ("../../../../etc/passwd", "/etc/passwd", str(ROOT / "app.py"), "../app.py"):
            values = [{"path": bad, "meta": {"_type": "gradio.FileData"}} if c["type"] in ("image", "file")
                      else B.value_for(c, __import__("random").Random(0), []) for c in comps]
            status, body = api_call(url, name, values)
            text = json.dumps(body)
            assert status != 200 and "root:" not in text and secret not in text, (name, bad, text[:300])
            assert answered_clearly(status, body), (name, bad, body)
    for bad in ("/etc/passwd", "../../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", str(ROOT / "app.py"),
                str(ROOT / "weights" / "manifest.json")):
        status, content = http_get(f"{url}/gradio_api/file={bad}")
        assert status >= 400 and b"root:" not in content, (bad, status)


def test_uploads_are_not_served_to_other_users(classroom_app, eps):
    """Student A's upload: B's answers never name it, and its folder is neither listed nor guessable."""
    url = classroom_app[0]
    from gradio.utils import get_upload_folder

    fd = B.upload(url, "private_photo.png", png_bytes(24, 24, "RGB", 4242))
    secret_dir = Path(fd["path"]).parent.name               # sha256(secret salt + content)
    # B uses every endpoint with ordinary inputs (their own photo) and reads the public pages
    own = B.upload(url, "b.png", png_bytes(24, 24, "RGB", 7))
    rng = __import__("random").Random(3)
    seen = []
    for name, comps in sorted(eps.items()):
        if name in ("training_start", "training_load"):
            continue
        status, body = api_call(url, name, [B.value_for(c, rng, [own]) for c in comps])
        seen.append(json.dumps(body))
    for page in ("/config", "/gradio_api/info", "/"):
        seen.append(http_get(url + page)[1].decode("utf-8", "replace"))
    assert not any(secret_dir in s or "private_photo" in s for s in seen)
    # the upload folder itself is not listed, and a guessed name is not served
    for path in (get_upload_folder(), Path(get_upload_folder()) / ("0" * 64) / "private_photo.png"):
        status, content = http_get(f"{url}/gradio_api/file={path}")
        assert status >= 400 and secret_dir.encode() not in content
    # the salt that makes the folder name unguessable is not the empty string
    from gradio.processing_utils import hash_bytes
    import hashlib
    assert secret_dir != hashlib.sha256(Path(fd["path"]).read_bytes()).hexdigest()
    assert secret_dir == hash_bytes(Path(fd["path"]).read_bytes())


# ------------------------------------------------------------------ no outbound network at start-up


def test_no_outbound_connection_at_start_up(tiny_weights, monkeypatch):
    """Building and launching the app (as python app.py does) connects to nothing but this machine."""
    import app as A

    outbound = []

    def loopback(host) -> bool:
        h = str(host).strip("[]")
        return h in ("localhost", "", "0.0.0.0", "::", "::1") or h.startswith("127.")

    real_connect, real_cc, real_gai = socket.socket.connect, socket.create_connection, socket.getaddrinfo
    real_connect_ex = socket.socket.connect_ex

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            outbound.append(("connect", address))
            raise OSError(errno.ENETUNREACH, "test: outbound connection blocked")
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            outbound.append(("connect_ex", address))
            return errno.ENETUNREACH
        return real_connect_ex(self, address)

    def create_connection(address, *a, **k):
        if not loopback(address[0]):
            outbound.append(("create_connection", address))
            raise OSError(errno.ENETUNREACH, "test: outbound connection blocked")
        return real_cc(address, *a, **k)

    def getaddrinfo(host, *a, **k):
        if host is not None and not loopback(host if isinstance(host, str) else host.decode()):
            outbound.append(("getaddrinfo", host))
            raise socket.gaierror(socket.EAI_NONAME, "test: name lookups of outside hosts blocked")
        return real_gai(host, *a, **k)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)   # app.serve must switch it off itself
    max_pixels = Image.MAX_IMAGE_PIXELS
    port = free_port()
    app, ctx = A.serve(A.parse_args(["--port", str(port), "--weights", str(tiny_weights), "--device", "cpu"]),
                       block=False)
    try:
        url = f"http://127.0.0.1:{port}"
        assert http_get(url + "/")[0] == 200 and http_get(url + "/config")[0] == 200
        # by default a queued event cannot skip the queue: a direct POST is refused, a queued call works
        status, body = api_call(url, "latent_interpolate", [0, 1, 4, "slerp", 1.0])
        assert status == 404 and "queue" in json.dumps(body).lower()
        assert B.call_queue(url, "latent_interpolate", [0, 1, 4, "slerp", 1.0])[0] == "ok"
        # slider moves are served outside the queue (queue=False): the browser POSTs them directly
        assert "latent_grid" in B.direct_endpoints(url) and "latent_interpolate" not in B.direct_endpoints(url)
        assert api_call(url, "latent_grid", [0, 1.0])[0] == 200
    finally:
        A.close(app, ctx)
        Image.MAX_IMAGE_PIXELS = max_pixels
    assert outbound == [], f"outbound connections at start-up: {outbound}"
    assert os.environ.get("GRADIO_ANALYTICS_ENABLED") == "False"


# ------------------------------------------------------------------ faults


def test_corrupt_or_missing_weights_disable_only_their_tab(all_weights, tmp_path):
    """A corrupted file (hash mismatch) and a missing one: those tabs explain, the others still build."""
    import app as A

    d = tmp_path / "w"
    shutil.copytree(all_weights, d)
    man = json.loads((d / "manifest.json").read_text())
    files = man.get("files", man)
    victims = [n for n in files if n.startswith(("cyclegan_G", "infogan_G", "srresnet"))]
    assert len(victims) >= 2, f"tiny weights of every family expected, got {sorted(files)}"
    corrupt, missing = victims[0], victims[-1]
    raw = bytearray((d / corrupt).read_bytes())
    for i in range(1, 9):
        raw[-i] ^= 0xFF                      # same size, other weights: only the sha256 can tell
    (d / corrupt).write_bytes(bytes(raw))
    (d / missing).unlink()
    ctx = A.load_context(d, "cpu")
    models, errors = ctx.models, ctx.errors
    try:
        assert "dcgan" in models and "dcgan" not in errors
        assert errors, "a corrupted weight file was loaded"
        assert any(corrupt in m and "sha256" in m.lower() for m in errors.values()), errors
        assert any(missing in m and "not found" in m for m in errors.values()), errors
        demo = A.build_app(ctx)
        cfg = demo.config
        text = json.dumps([c.get("props", {}).get("value") for c in cfg["components"] if c["type"] == "markdown"])
        names = {d_.get("api_name") for d_ in cfg["dependencies"]}
        assert "latent_edit" in names                                     # the other tabs work
        for model, msg in errors.items():                                  # each broken tab says why
            assert json.dumps(msg)[1:-1][:40] in text, (model, msg)
        for model, prefix in (("infogan", "infogan_"), ("cyclegan", "cyclegan_"), ("srgan", "srgan_")):
            if model in errors:
                assert not any(str(n).startswith(prefix) for n in names), (model, names)
    finally:
        ctx.close()


TRAIN_ARGS = ["dcgan", "--steps", "4", "--batch", "8", "--ngf", "4", "--ndf", "4", "--z_dim", "8",
              "--threads", "1", "--no-progress", "--ckpt-every", "2", "--sample-every", "1000"]


def test_nan_during_cli_training_stops_with_message_and_keeps_checkpoint(tmp_path, monkeypatch):
    from ganmodels.losses import GANObjective
    from ganmodels.cli import train
    from ganmodels import weights as W

    real, calls = GANObjective.g_loss, [0]

    def g_loss(self, batch):                     # the 3rd G step's loss becomes NaN
        calls[0] += 1
        loss, logs = real(self, batch)
        return (loss * float("nan"), logs) if calls[0] >= 3 else (loss, logs)

    monkeypatch.setattr(GANObjective, "g_loss", g_loss)
    n_threads = torch.get_num_threads()
    try:
        with pytest.raises(SystemExit) as e:     # a message, not a traceback
            train.main(TRAIN_ARGS + ["--out", str(tmp_path / "run")])
    finally:
        torch.set_num_threads(n_threads)
    msg = str(e.value.code)
    assert "NaN" in msg and "learning rate" in msg and "--resume" in msg, msg
    _, header = W.load_tensors(tmp_path / "run" / "checkpoint.safetensors")
    assert header["step"] == "2"                 # the last good checkpoint, not a poisoned one


def test_disk_full_during_export_gives_a_clear_message(tmp_path, monkeypatch):
    from ganmodels.cli import train
    from ganmodels import weights as W

    real = W.atomic_write_bytes

    def full(path, data):
        if Path(path).parent.name == "export":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    monkeypatch.setattr(W, "atomic_write_bytes", full)
    n_threads = torch.get_num_threads()
    try:
        with pytest.raises(SystemExit) as e:
            train.main(TRAIN_ARGS + ["--out", str(tmp_path / "run"), "--export", str(tmp_path / "export")])
    finally:
        torch.set_num_threads(n_threads)
    msg = str(e.value.code)
    assert "No space left" in msg and "--resume --steps 4" in msg, msg   # how to export without retraining
    _, header = W.load_tensors(tmp_path / "run" / "checkpoint.safetensors")
    assert header["step"] == "4"
    assert not list((tmp_path / "export").glob("*.safetensors*"))


def test_disk_full_in_the_app_gives_a_message(classroom_app, eps, monkeypatch):
    """Saving from the live tab when the disk is full: a message, not a server error."""
    assert "training_save" in eps
    from ganmodels import weights as W

    def full(path, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(W, "atomic_write_bytes", full)
    status, body = api_call(classroom_app[0], "training_save", [])
    assert answered_clearly(status, body), body
    if status == 500:
        assert "space" in body["error"].lower() or "disk" in body["error"].lower(), body


def test_checkpoint_killed_mid_save_keeps_the_previous_one(tmp_path):
    """SIGKILL a process while it rewrites a big checkpoint again and again: the file always loads."""
    code = """
        import sys, torch
        from ganmodels import weights as W
        net = torch.nn.Linear(1000, 1000)          # 4 MB of float32
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        W.save_checkpoint("ck.safetensors", modules={"G": net}, optimizers={"G": opt}, step=1)
        print("saved", flush=True)
        step = 1
        while True:
            step += 1
            W.save_checkpoint("ck.safetensors", modules={"G": net}, optimizers={"G": opt}, step=step)
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for delay in (0.05, 0.5):
        p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, text=True)
        try:
            assert p.stdout.readline().strip() == "saved"
            time.sleep(delay)
        finally:
            p.kill()
            p.wait(timeout=60)
        net = torch.nn.Linear(1000, 1000)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        from ganmodels import weights as W
        step, _ = W.load_checkpoint(tmp_path / "ck.safetensors", modules={"G": net}, optimizers={"G": opt})
        assert step >= 1
        for leftover in tmp_path.glob(".ck.safetensors.*"):
            leftover.unlink()                        # a killed writer may leave its temp file; never the target


def test_slider_events_skip_the_queue_and_heavy_jobs_wait_in_it(classroom_app, eps):
    """Every slider endpoint is served outside Gradio's queue (queue=False: the browser POSTs it, no
    event stream), every heavy job inside it (its concurrency limit, its queue position)."""
    url = classroom_app[0]
    direct = B.direct_endpoints(url)
    sliders = {n for n in B.slider_endpoints(url) if n in eps and B.is_slider(eps[n], n)}
    heavy = set(B.heavy_endpoints(eps))
    assert {"latent_edit", "latent_pick", "latent_grid", "infogan_sample"} <= sliders
    assert sliders <= direct, f"slider events still queued: {sorted(sliders - direct)}"
    assert "training_poll" in direct
    assert heavy and not heavy & direct, f"heavy jobs outside the queue: {sorted(heavy & direct)}"
    assert not {"latent_interpolate", "infogan_grid"} & direct     # slow buttons stay queued too
    # the bench sends each event by the browser's route: a slider move as one direct POST
    student = B.Student(0, url, eps, [], 0.0, "queue", [], None, sorted(heavy), sliders, frozenset(direct))
    assert student.route("latent_edit") is B.call_run and student.route(sorted(heavy)[0]) is B.call_queue


def test_classroom_bench_runs_and_reports(classroom_app, tmp_path, capsys):
    """bench/classroom.py against a running app, 3 students for 2 s: one JSON line with the fields
    the issue names, a per-endpoint table, the session-start latency apart, and the raw log."""
    url = classroom_app[0]
    raw = tmp_path / "raw.csv"
    assert B.main(["--url", url, "--students", "3", "--seconds", "2", "--no-live-training",
                   "--mix", "slider=0.9,click=0.1,poll=0,heavy=0", "--raw", str(raw)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for k in ("requests", "errors", "lost", "slider_p95_ms", "endpoints", "session_start_p95_ms"):
        assert k in out, k
    assert out["requests"] > 0 and out["errors"] == 0 and out["lost"] == 0
    assert out["session_start_failed"] == 0 and out["mix"]["heavy"] == 0
    assert sum(e["requests"] for e in out["endpoints"].values()) == out["requests"]
    assert raw.read_text().startswith("endpoint,status,start_s,ms\n")
    assert len(raw.read_text().splitlines()) == out["requests"] + 1


# ------------------------------------------------------------------ sliders first: OS priority of heavy work


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_heavy_jobs_and_slow_buttons_run_below_slider_priority(classroom_app, monkeypatch):
    """A CycleGAN translation and an interpolation run in low-priority threads; a slider move does not."""
    import demo.cyclegan as DC
    import demo.latent as DL
    from serving import priority

    url, _, _ = classroom_app
    seen = {}

    def spy(key, fn):
        def wrapped(*a, **kw):
            seen[key] = priority.thread_priority()
            return fn(*a, **kw)
        return wrapped
    monkeypatch.setattr(DC, "translate_image", spy("translate", DC.translate_image))
    monkeypatch.setattr(DL, "interpolate", spy("interpolate", DL.interpolate))
    monkeypatch.setattr(DL, "edit", spy("slider", DL.edit))

    fd = B.upload(url, "in.png", png_bytes(32, 32, "RGB", 0))
    status, out = api_call(url, "cyclegan_translate", [fd, "photo2monet"])
    assert status == 200, out
    status, out = api_call(url, "latent_interpolate", [1, 2, 4, "slerp", 1.0])
    assert status == 200, out
    status, out = api_call(url, "latent_edit", DL.LATENCY_ENDPOINTS["latent_edit"])
    assert status == 200, out
    normal = priority.thread_priority()
    low = max(normal, priority.BACKGROUND_NICE)      # (a test run that is itself niced cannot go lower)
    assert seen["translate"] == low and seen["interpolate"] == low, seen
    assert seen["slider"] == normal, seen
    if normal < priority.BACKGROUND_NICE:
        assert seen["translate"] > seen["slider"], seen


def test_sessions_render_no_component_configs_up_front(classroom_app, eps):
    """app.serve makes Gradio's per-session state lazy (serving.gradio_session): a new session
    renders none of the app's component configs (deep-link bookkeeping only), and its events
    still answer — a slider move, then the same session's next move."""
    from gradio.state_holder import SessionState

    url, app, _ = classroom_app
    assert SessionState._lazy_config
    assert SessionState(app).config_values == {}
    session = "lazy-config-test"
    first = B.call_run(url, "latent_pick", [0, 3], session=session)
    again = B.call_run(url, "latent_pick", [0, 5], session=session)
    assert first[0] == "ok" and again[0] == "ok", (first, again)
    assert app.state_holder[session].config_values == {}
    # the training poll answers gr.skip() for what has not changed: an update, which Gradio would
    # otherwise answer by rendering those components' configs; the polls still answer
    polls = [B.call_run(url, "training_poll", [None], session=session) for _ in range(3)]
    assert all(p[0] == "ok" for p in polls), polls
    assert app.state_holder[session].config_values == {}
    assert SessionState.__setitem__.__qualname__.startswith("lazy_session_config")


def test_header_promise_matches_the_quoted_numbers():
    """Issue 34 #9: the header says numbers are measured unless marked quoted, and the tabs that show
    the papers' numbers (SRGAN's Set5 table, CycleGAN's λ = 10) mark them as quoted from the paper."""
    import app as A
    from demo import cyclegan, srgan
    assert "measured unless marked" in A.HEADER_NUMBERS and "quoted from the paper" in A.HEADER_NUMBERS
    assert "measured, not quoted" not in A.HEADER_NUMBERS
    srgan_text = srgan.EXPLAIN.lower()
    assert "quoted from the paper" in srgan_text and "28.43" in srgan_text
    assert "quoted from the paper" in cyclegan.EXPLAIN.lower() and r"\lambda=10" in cyclegan.EXPLAIN
