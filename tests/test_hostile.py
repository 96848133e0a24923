"""A hostile student on a lab server, through the HTTP API a browser uses (issue 35): decompression
bombs at 1.0–2.0× the pixel limit, uploads from another website and past the upload budget, unknown
endpoints, server paths in requests, and a second heavy job queued by one session."""
from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request
import uuid

import pytest
from PIL import Image

from bench.common import call_queue, upload
from tests.conftest import ROOT, serving_app

LIMIT = 1_000_000            # --max-pixels of the served app: bombs stay small and fast here
CLIENT_MB = 3                # --upload-mb-per-client


@pytest.fixture(scope="module")
def hostile_app(all_weights):
    """The app as a lab server runs it, with a small pixel limit and upload budget. Yields (url, app, ctx)."""
    with serving_app(all_weights, "--max-pixels", str(LIMIT), "--upload-mb-per-client", str(CLIENT_MB)) as served:
        yield served


def flat_png(w: int, h: int, mode: str = "L") -> bytes:
    """A flat-colour PNG: a few KB that decode to w·h pixels (the shape of a decompression bomb)."""
    im = Image.new(mode, (w, h), 255 if mode == "L" else (255, 255, 255, 255))
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=9)
    return buf.getvalue()


def side_for(factor: float) -> int:
    """The side of a square image with just over ``factor`` × LIMIT pixels (exactly LIMIT for 1.0)."""
    import math
    return math.isqrt(LIMIT) if factor == 1.0 else math.isqrt(int(LIMIT * factor)) + 1


def request(url: str, path: str, body: bytes | None = None, headers: dict | None = None, method=None):
    req = urllib.request.Request(url + path, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def too_many() -> str:
    """The one message for an image above the limit (written out here, so that the test pins it)."""
    return ("This image has more pixels than this server accepts: at most 1 megapixels (the lecturer's "
            "--max-pixels). Shrink it and upload it again.")


# every endpoint that decodes an uploaded image: (api name, how its image goes in, other inputs)
IMAGE_ENDPOINTS = {
    "cyclegan_translate": lambda fd: [fd, "photo2monet"],
    "srgan_upscale": lambda fd: [fd, "simulate", 50, 50, "128"],
    "inpaint_load_upload": lambda fd: [fd],
    "inpaint_load_drawing": lambda fd: [{"background": fd, "layers": [], "composite": fd, "id": None}],
    "inpaint_preview": lambda fd: [{"background": fd, "layers": [], "composite": fd, "id": None},
                                   "centre square 14×14", 0],
}


@pytest.mark.parametrize("factor", [1.01, 1.5, 2.0])
@pytest.mark.parametrize("endpoint", sorted(IMAGE_ENDPOINTS))
def test_bombs_above_the_limit_are_refused_with_one_message(hostile_app, endpoint, factor):
    """Above --max-pixels (also between 1× and 2×, where Pillow itself only warns) every tab refuses
    the image with the same message, before decoding it."""
    url = hostile_app[0]
    s = side_for(factor)
    fd = upload(url, f"bomb_{factor}.png", flat_png(s, s))
    status, msg = call_queue(url, endpoint, IMAGE_ENDPOINTS[endpoint](fd), session=uuid.uuid4().hex)
    assert status == "error" and msg == too_many(), (endpoint, factor, status, msg)


@pytest.mark.parametrize("endpoint", sorted(IMAGE_ENDPOINTS))
def test_an_image_at_the_limit_is_not_refused_for_its_size(hostile_app, endpoint):
    url = hostile_app[0]
    s = side_for(1.0)
    fd = upload(url, "at_limit.png", flat_png(s, s, "RGBA"))
    status, msg = call_queue(url, endpoint, IMAGE_ENDPOINTS[endpoint](fd), session=uuid.uuid4().hex)
    assert msg != too_many(), (endpoint, status, msg)
    assert status in ("ok", "error"), msg       # a tab may still explain (e.g. a blank digit): not lost


def test_uploads_from_another_website_are_refused(hostile_app):
    url = hostile_app[0]
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + flat_png(8, 8) + f"\r\n--{boundary}--\r\n".encode()
    ct = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, text = request(url, "/gradio_api/upload", body, {**ct, "Origin": "https://evil.example"})
    assert status == 403 and b"other websites" in text
    host = url.split("//")[1]
    status, _ = request(url, "/gradio_api/upload", body, {**ct, "Origin": f"http://{host}"})
    assert status == 200                       # the app's own page may upload
    status, _ = request(url, "/gradio_api/queue/join", json.dumps({"data": [], "fn_index": 0}).encode(),
                        {"Content-Type": "application/json", "Origin": "https://evil.example"})
    assert status == 403


def test_uploads_past_the_budget_get_a_message(hostile_app):
    url = hostile_app[0]
    blob = bytes(900_000)
    answers = []
    for i in range(5):                        # 4.5 MB against a budget of 3 MB per client
        try:
            upload(url, f"f{i}.bin", blob)
            answers.append("ok")
        except urllib.error.HTTPError as e:
            answers.append((e.code, e.read().decode()))
    assert answers[0] == "ok"
    refused = [a for a in answers if a != "ok"]
    assert refused and all(code == 429 and "limit per student" in text for code, text in refused), answers


@pytest.mark.parametrize("path,body", [
    ("/gradio_api/run/does_not_exist", {"data": []}),
    ("/gradio_api/call/nope", {"data": []}),
    ("/gradio_api/queue/join", {"data": [], "fn_index": 9999, "session_hash": "x"}),
    ("/gradio_api/queue/join", {"data": [], "fn_index": -1, "session_hash": "x"}),
    ("/gradio_api/queue/join", {"data": [], "fn_index": "7", "session_hash": "x"}),
])
def test_unknown_endpoints_answer_404(hostile_app, path, body):
    status, text = request(hostile_app[0], path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    assert status == 404, (status, text[:200])
    assert len(text) < 200 and b"Traceback" not in text


def test_private_events_outside_the_queue_reach_the_app(hostile_app):
    """The browser posts an event without an api_name (e.g. the Latent tab's Digits/Faces switch,
    queue=False) to /run/predict with its fn_index: the guard must let a known one through."""
    url, app, _ = hostile_app
    private = [(i, f) for i, f in app.fns.items() if not f.queue and f.api_visibility == "private"]
    assert private, "the app has no private event outside the queue to try"
    i, f = private[0]
    data = [getattr(b, "value", None) for b in f.inputs]
    status, text = request(url, "/gradio_api/run/predict",
                           json.dumps({"data": data, "fn_index": i, "session_hash": "p1"}).encode(),
                           {"Content-Type": "application/json"})
    assert status == 200, (status, text[:300])
    for body in ({"data": [], "fn_index": 99999, "session_hash": "p1"}, {"data": [], "session_hash": "p1"},
                 {"data": [], "fn_index": True, "session_hash": "p1"}):
        status, text = request(url, "/gradio_api/run/predict", json.dumps(body).encode(),
                               {"Content-Type": "application/json"})
        assert status == 404, (body, status, text[:200])


@pytest.mark.parametrize("path", ["app.py", "../app.py", str(ROOT / "app.py"), "/etc/passwd"])
def test_server_paths_are_refused_without_naming_a_folder(hostile_app, path):
    url = hostile_app[0]
    fd = {"path": path, "orig_name": "x.png", "meta": {"_type": "gradio.FileData"}}
    status, msg = call_queue(url, "cyclegan_translate", [fd, "photo2monet"], session=uuid.uuid4().hex)
    assert status in ("error", "lost")
    assert str(ROOT) not in msg and "/etc" not in msg and "work" not in msg, msg


def digit_png() -> bytes:
    """A 280×280 canvas with a white stroke on black (a digit-like image the inpainting tab accepts)."""
    im = Image.new("L", (280, 280), 0)
    im.paste(255, (110, 40, 170, 240))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def test_one_heavy_job_per_session(hostile_app):
    """Two heavy jobs sent at once by one session: one runs, the other gets a message; another
    student is not affected, and after the result the session may send the next one."""
    url = hostile_app[0]
    fd = upload(url, "digit.png", digit_png())
    editor = {"background": fd, "layers": [], "composite": fd, "id": None}
    from demo.inpaint import MAX_RESTARTS, MAX_STEPS
    job = [editor, "centre square 14×14", 0.1, MAX_STEPS, MAX_RESTARTS, 0, "poisson", True]   # True: class guidance
    session = uuid.uuid4().hex
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(call_queue(url, "inpaint", job, session=session)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    busy = [a for a in answers if "already have a heavy job" in a[1]]
    assert len(busy) == 1 and any(a[0] == "ok" for a in answers), answers
    assert call_queue(url, "inpaint", job, session=uuid.uuid4().hex)[0] == "ok"     # another student
    assert call_queue(url, "inpaint", job, session=session)[0] == "ok"              # the next one


def test_heavy_settings_are_bounded():
    """The heaviest settings a student may choose fit a few seconds (measured in bench/hostile.py)."""
    from demo.common import InputError
    from demo.inpaint import settings

    with pytest.raises(InputError, match="Steps must be between 1 and 100"):
        settings(0.1, 500, 8, 0)
    with pytest.raises(InputError, match="Restarts must be between 1 and 32"):
        settings(0.1, 30, 64, 0)


def test_every_event_with_an_image_input_refuses_a_bomb(hostile_app):
    """Every event of the app that takes an image (private ones too, called by fn_index as a hostile
    student would: the training tab's drawing canvas, the inpainting editor's stroke events…)."""
    from bench.hostile import image_endpoints, queue_call, value_for

    url = hostile_app[0]
    s = side_for(1.5)
    fd = upload(url, "bomb.png", flat_png(s, s))
    eps = {fn: ep for fn, ep in image_endpoints(url).items()
           if ep["name"] != "training_load"}          # a file input for .safetensors checkpoints, not images
    assert len(eps) >= 8, sorted(e["name"] for e in eps.values())
    answers = {ep["name"] + f"#{fn}": queue_call(url, fn, [value_for(c, fd) for c in ep["inputs"]], uuid.uuid4().hex)
               for fn, ep in eps.items()}
    wrong = {k: v for k, v in answers.items() if too_many() not in v[1]}
    assert not wrong, wrong


@pytest.mark.parametrize("route", ["/gradio_api/queue/join", "/gradio_api/run/latent_edit",
                                   "/gradio_api/call/inpaint", "/gradio_api/component_server"])
def test_malformed_requests_get_a_client_error_not_a_server_error(hostile_app, route):
    """Bodies a fuzzer or a hostile script sends to the routes serving.guard reads itself."""
    deep = "[" * 100_000 + "]" * 100_000
    bodies = [b"", b"not json", b"[]", b"null", b'{"data": "x"}', deep.encode(),
              json.dumps({"data": [{"path": "x", "meta": "not a dict"}], "fn_index": 0, "session_hash": ["a"]}).encode(),
              json.dumps({"data": [], "fn_index": True, "session_hash": {"a": 1}}).encode(),
              json.dumps({"component_id": [1], "fn_name": "accept_blobs", "data": {}, "session_hash": "s"}).encode()]
    for body in bodies:
        status, text = request(hostile_app[0], route, body, {"Content-Type": "application/json"})
        assert status < 500, (route, body[:60], status, text[:200])
