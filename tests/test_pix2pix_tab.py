"""The pix2pix tab (issue #32) on tiny untrained generators: the sketchpad → drawing conversion and
its refusals (empty, all ink, colour, not a photo), where drawings come from, the tab's HTTP endpoint,
the app without pix2pix weights, and a real browser drawing strokes.  Every image is made here."""
from __future__ import annotations

import json
import re
import urllib.request

import numpy as np
import pytest
from PIL import Image

import demo.pix2pix as T
from demo.common import InputError
from demo.context import AppContext
from ganmodels import edges as E
from ganmodels import weights as W
from ganmodels.models import faces as FM
from ganmodels.models import pix2pix as P

TITLE = "pix2pix sketch → face"


@pytest.fixture(scope="module")
def models(pix2pix_weights):
    store = W.WeightStore(pix2pix_weights)
    return P.load_l1(store=store), P.load(store=store)


def stroke_layer(rows=slice(100, 106), cols=slice(60, 260), colour=(0, 0, 0)) -> np.ndarray:
    """An RGBA layer as the sketchpad delivers it: transparent, with one opaque stroke."""
    layer = np.zeros((T.CANVAS, T.CANVAS, 4), np.uint8)
    layer[rows, cols] = (*colour, 255)
    return layer


def drawn(layers) -> dict:
    return {"background": T.sketch_value()["background"], "layers": layers, "composite": None}


# ---------------------------------------------------------------- sketchpad → drawing


def test_strokes_become_a_64px_drawing():
    d, share = T.sketch_to_drawing(drawn([stroke_layer()]))
    assert d.shape == (64, 64) and d.dtype == np.uint8
    assert E.ink(d[20]).sum() == 40 and E.ink(d).sum() == 40                 # rows 100–105 → cell row 20
    assert share == pytest.approx(40 / 4096)
    # the same through the composite gradio sends, and a preloaded drawing in the background
    comp = T.sketch_value()["background"].copy()
    comp[100:106, 60:260, :3] = 0
    assert np.array_equal(T.sketch_to_drawing({"background": None, "layers": [], "composite": comp})[0], d)
    assert np.array_equal(T.sketch_to_drawing(T.sketch_value(d))[0], d)
    # a white stroke over a loaded line removes it (the white pen as an eraser)
    white = stroke_layer(colour=(255, 255, 255))
    v = T.sketch_value(d)
    v["layers"] = [white, stroke_layer(slice(200, 205), slice(100, 150))]
    d2, _ = T.sketch_to_drawing(v)
    assert not E.ink(d2[20]).any() and E.ink(d2[40, 20:30]).all()


@pytest.mark.parametrize("value, message", [
    (None, "empty"),
    ({"background": None, "layers": [], "composite": None}, "empty"),
    (T.sketch_value(), "empty"),
    (drawn([stroke_layer(slice(0, 320), slice(0, 320))]), "100% ink"),
    (drawn([stroke_layer(slice(0, 200), slice(0, 320), (40, 40, 40))]), "ink: that is a filled sheet"),
    (drawn([stroke_layer(slice(100, 140), slice(60, 260), (255, 0, 0))]), "in colour"),
])
def test_bad_sketches_are_refused_with_a_message(value, message):
    with pytest.raises(InputError, match=message):
        T.sketch_to_drawing(value)


def test_translate_gives_both_faces_and_patch_maps(models):
    l1, cg = models
    r = T.translate(l1, cg, T.sketch_value(T.example_drawings()["a smiling face (drawn)"]))
    assert r["l1"].shape == r["cgan"].shape == (64, 64, 3) and not np.array_equal(r["l1"], r["cgan"])
    assert r["patches"].shape == (64, 2 * 64 + T.SEP, 3)
    assert "ink" in r["status"] and "L1 only" in r["status"]
    assert np.array_equal(r["cgan"], cg.translate(r["drawing"][None])[0])
    # a patch D finds fake is tinted red; a 'real' one is left as it was
    face = np.full((64, 64, 3), 100, np.uint8)
    scores = np.ones((30, 30), np.float32)
    scores[:15] = 0.0
    o = T.patch_overlay(face, scores)
    assert o.shape == (64, 64, 3) and (o[-3:] == 100).all() and (o[:10, :, 0] > 150).all()


def test_examples_and_uploads(tmp_path):
    ex = T.example_drawings()
    assert len(ex) == 3 and all(d.shape == (64, 64) and 0.02 < E.ink(d).mean() < 0.3 for d in ex.values())
    # a photo: the edges of its centred square
    yy, xx = np.mgrid[:90, :120]
    photo = np.full((90, 120, 3), (90, 120, 200), np.uint8)
    photo[(yy - 45) ** 2 + (xx - 60) ** 2 < 30 ** 2] = (230, 180, 150)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    v, note = T.load_upload(str(tmp_path / "photo.png"))
    d, _ = T.sketch_to_drawing(v)
    assert "edges of your photo" in note and "90×90" in note
    assert np.array_equal(d, E.extract(np.asarray(Image.fromarray(photo[:, 15:105]).resize((64, 64), Image.LANCZOS)))[0])
    # a line drawing: used as it is
    sheet = np.full((128, 128, 3), 255, np.uint8)
    sheet[40:44, 20:100] = 0
    Image.fromarray(sheet).save(tmp_path / "drawing.png")
    v, note = T.load_upload(str(tmp_path / "drawing.png"))
    assert "line drawing already" in note and E.ink(T.sketch_to_drawing(v)[0][20:22, 10:50]).all()
    # not a photo, too small, too big
    (tmp_path / "x.png").write_text("not a photo")
    with pytest.raises(InputError, match="not an image"):
        T.load_upload(str(tmp_path / "x.png"))
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "tiny.png")
    with pytest.raises(InputError, match="too small"):
        T.load_upload(str(tmp_path / "tiny.png"))
    with pytest.raises(InputError, match="more pixels than this server accepts"):
        T.load_upload(str(tmp_path / "photo.png"), limit=5000)
    with pytest.raises(InputError, match="No file"):
        T.load_upload(None)


# ---------------------------------------------------------------- the tab over HTTP


def celeba(root):
    """A fake celeba/ folder with held-out faces 8001 and 8002 (a dark disc on a light ground)."""
    img = root / FM.CELEBA_IMAGES
    img.mkdir(parents=True)
    yy, xx = np.mgrid[:109, :89]
    rows = []
    for n in (1, 8001, 8002):
        a = np.full((109, 89, 3), (200, 190, 180), np.uint8)
        a[(yy - 57) ** 2 + (xx - 44) ** 2 < 20 ** 2] = (50, 40, 30)
        Image.fromarray(a).save(img / f"{n:06d}.jpg", quality=95)
        rows.append(f"{n:06d}.jpg " + " ".join(["-1"] * 40))
    (root / FM.CELEBA_ATTRS).write_text("3\n" + " ".join(FM.ATTRIBUTES) + "\n" + "\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def served(models, tmp_path_factory):
    from tests.conftest import serve_tab

    root = celeba(tmp_path_factory.mktemp("data"))
    l1, cg = models
    ctx = AppContext(models={"pix2pix_l1": l1, "pix2pix": cg}, data_dirs=(root,), max_pixels=250_000)
    with serve_tab(T.build, ctx, TITLE) as (url, _):
        yield url


@pytest.fixture
def client(served, tmp_path):
    from gradio_client import Client
    return Client(served, verbose=False, analytics_enabled=False, download_files=str(tmp_path / "dl"))


def _png(path):
    return np.asarray(Image.open(path["path"] if isinstance(path, dict) else path).convert("RGB"))


def test_endpoint_draws_both_faces(served, client, tmp_path):
    from gradio_client import handle_file

    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/pix2pix_sketch", "/pix2pix_load_heldout", "/pix2pix_load_upload"} <= set(names)
    Image.fromarray(T.sketch_value()["background"]).save(tmp_path / "bg.png")
    Image.fromarray(stroke_layer()).save(tmp_path / "layer.png")
    value = {"background": handle_file(str(tmp_path / "bg.png")), "layers": [handle_file(str(tmp_path / "layer.png"))],
             "composite": None}
    a, b, patches, status = client.predict(value, api_name="/pix2pix_sketch")
    a, b, patches = _png(a), _png(b), _png(patches)
    assert a.shape == b.shape == (64, 64, 3) and patches.shape == (64, 2 * 64 + T.SEP, 3) and not np.array_equal(a, b)
    assert "1.0% ink" in status
    empty = {"background": handle_file(str(tmp_path / "bg.png")), "layers": [], "composite": None}
    with pytest.raises(Exception, match="sketchpad is empty"):
        client.predict(empty, api_name="/pix2pix_sketch")
    Image.fromarray(stroke_layer(slice(0, 320), slice(0, 320))).save(tmp_path / "ink.png")
    ink = {**empty, "layers": [handle_file(str(tmp_path / "ink.png"))]}
    with pytest.raises(Exception, match="filled sheet"):
        client.predict(ink, api_name="/pix2pix_sketch")
    colour = np.full((T.CANVAS, T.CANVAS, 3), 255, np.uint8)
    colour[50:200, 50:200] = (30, 200, 60)
    Image.fromarray(colour).save(tmp_path / "colour.png")
    with pytest.raises(Exception, match="in colour"):
        client.predict({"background": handle_file(str(tmp_path / "colour.png")), "layers": [], "composite": None},
                       api_name="/pix2pix_sketch")


def test_latency_request_is_answered_through_the_queue(served):
    """bench/latency.py's sketch request (uploaded composite, the queue's route) gets both faces back."""
    from bench.common import call_queue, upload

    data = T.sketch_request(lambda name, b: upload(served, name, b))
    assert data[0]["composite"]["path"] and data[0]["background"] is None
    assert call_queue(served, "pix2pix_sketch", data, timeout=60, session="t") == ("ok", "")
    assert T.UPLOAD_LATENCY_ENDPOINTS == {"pix2pix_sketch": T.sketch_request}


def test_endpoint_sources_and_page(served, client, tmp_path):
    from gradio_client import handle_file

    value, note = client.predict(8001, api_name="/pix2pix_load_heldout")
    assert "008001.jpg" in note
    bg = _png(value["background"])
    assert bg.shape == (T.CANVAS, T.CANVAS, 3) and (bg[::T.SCALE, ::T.SCALE, 0] < 128).any()
    with pytest.raises(Exception, match="less than minimum value 8001"):
        client.predict(5, api_name="/pix2pix_load_heldout")
    (tmp_path / "x.png").write_text("not a photo")
    with pytest.raises(Exception, match="not an image"):
        client.predict(handle_file(str(tmp_path / "x.png")), api_name="/pix2pix_load_upload")
    Image.new("RGB", (600, 600), (200, 200, 200)).save(tmp_path / "huge.png")      # above the served limit
    with pytest.raises(Exception, match="more pixels than this server accepts"):
        client.predict(handle_file(str(tmp_path / "huge.png")), api_name="/pix2pix_load_upload")
    with urllib.request.urlopen(f"{served}/config", timeout=30) as r:
        cfg = json.loads(r.read())
    text = "\n".join(str(c.get("props", {}).get("value")) for c in cfg["components"] if c["type"] == "markdown")
    assert r"G^* = \arg\min_G\max_D\ \mathcal{L}_{cGAN}(G,D) + \lambda\,\mathcal{L}_{L1}(G)" in text
    assert "Paired vs unpaired" in text and "CycleGAN" in text and "Perception vs distortion" in text
    assert "non-commercial research and teaching only" in text and "16×16" in text
    sketch = next(c for c in cfg["components"] if c.get("props", {}).get("elem_id") == "pix2pix_sketch")
    assert sketch["props"]["brush"]["colors"][0] == "#000000" and sketch["props"]["eraser"] is not None
    deps = [d for d in cfg["dependencies"] if d.get("api_name") == "pix2pix_sketch"]
    assert deps and deps[0]["trigger_mode"] == "always_last"


def test_tradeoff_note_reads_the_manifest(pix2pix_weights, tmp_path):
    import shutil

    w = tmp_path / "w"
    shutil.copytree(pix2pix_weights, w)
    assert "appear here once" in T.perception_distortion_note(W.WeightStore(w))
    gen = {"classifier_fid": 50.0, "l1_grey_levels": 20.0, "psnr_db": 18.5,
           "agreement_Male": 0.9, "agreement_Smiling": 0.86}
    W.update_manifest(w, P.FILES["G"], metrics={"pix2pix": {"clean": {"l1": gen, "cgan": {**gen, "psnr_db": 17.25}}}})
    note = T.perception_distortion_note(W.WeightStore(w))
    assert "| PSNR, dB (higher = closer) | 18.50 | 17.25 |" in note


def test_app_without_pix2pix_weights_says_so(tiny_weights):
    import app as A

    assert (TITLE, "pix2pix") in A.TABS
    assert [m for _, m in A.TABS].index("pix2pix") + 1 == [m for _, m in A.TABS].index("cyclegan")
    ctx = A.load_context(tiny_weights, "cpu")
    try:
        assert "pix2pix" in ctx.errors and "pix2pix_l1" in ctx.errors and "dcgan" in ctx.models
        from demo.common import error_markdown
        md = error_markdown(TITLE, ctx.errors["pix2pix_l1"])
        assert "pix2pix_l1_G.safetensors" in md and "not available" in md
    finally:
        ctx.close()


# ---------------------------------------------------------------- a real browser


@pytest.mark.browser
def test_browser_draw_strokes_and_get_both_faces(served, browser):
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(served)
    canvases = page.locator("#pix2pix_sketch canvas")
    canvases.first.wait_for(timeout=30000)
    status = page.locator("#pix2pix_status")
    status.get_by_text("ink").first.wait_for(timeout=30000)
    # an example put on the sketchpad by the app is redrawn (the browser fires no change event for it)
    first = status.inner_text().split("Drawing: ")[1].split("%")[0]
    page.get_by_label("Examples").click()
    page.get_by_role("option").filter(has_text="astronaut").click()
    page.wait_for_function("b => { const s = document.querySelector('#pix2pix_status'); "
                           "const m = s && s.innerText.match(/Drawing: ([0-9.]+)% ink/); "
                           "return m && m[1] !== b; }", arg=first, timeout=60000)
    assert "astronaut" in page.locator("#pix2pix_note").inner_text()
    before = status.inner_text()
    img_before = page.locator("#pix2pix_cgan img").get_attribute("src")
    page.locator("#pix2pix_sketch button[aria-label=Brush]").click()
    boxes = [c.bounding_box() for c in canvases.all()]
    box = max((b for b in boxes if b), key=lambda b: b["width"] * b["height"])
    for frac in (0.2, 0.45, 0.7):                          # three horizontal strokes
        y = box["y"] + box["height"] * frac
        page.mouse.move(box["x"] + box["width"] * 0.15, y)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.85, y, steps=12)
        page.mouse.up()
        page.wait_for_timeout(150)
    # the answer to the strokes: a new ink share (while a request runs, the status also shows a timer)
    page.wait_for_function("b => { const s = document.querySelector('#pix2pix_status'); "
                           "const m = s && s.innerText.match(/Drawing: ([0-9.]+)% ink/); "
                           "return m && m[1] !== b; }", arg=before.split("Drawing: ")[1].split("%")[0],
                           timeout=60000)
    share = float(re.search(r"Drawing: ([0-9.]+)% ink", status.inner_text()).group(1))
    assert share > float(before.split("Drawing: ")[1].split("%")[0])      # more ink than the example had
    for sel in ("#pix2pix_l1 img", "#pix2pix_cgan img", "#pix2pix_patches img"):
        assert page.locator(sel).get_attribute("src")
        # the 64-px outputs are drawn enlarged (app.CSS .fit), not at their own size in the middle of the box
        shown = page.eval_on_selector(sel, "i => [i.naturalWidth, i.getBoundingClientRect().width, "
                                           "getComputedStyle(i).objectFit, getComputedStyle(i).imageRendering]")
        assert shown[0] <= 2 * 64 + T.SEP and shown[1] >= 3 * 64 and shown[2:] == ["contain", "pixelated"], shown
    assert page.locator("#pix2pix_cgan img").get_attribute("src") != img_before
    page.close()
