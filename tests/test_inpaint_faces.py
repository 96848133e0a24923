"""Inpainting faces (issue #30): the face half of the Inpainting tab on tiny face models — the pure
functions (masks, canvas, sources, the live search), bad input, the tab's HTTP API, and the digits
still working when the face weights are absent.  Every image is made here (never the real CelebA)."""
from __future__ import annotations

import json
import urllib.request

import numpy as np
import pytest
from PIL import Image

import demo.inpaint as T
import demo.inpaint_faces as F
from demo.common import InputError
from demo.context import AppContext
from ganmodels.inference import face_inpaint as FI
from ganmodels.models import face_classifier as FC
from ganmodels.models import faces as FM

SERVED_MAX_PIXELS = 250_000      # the served tab's --max-pixels: a "huge photo" stays small here


@pytest.fixture(scope="module")
def fgan(face_weights):
    return FM.load(face_weights)


@pytest.fixture(scope="module")
def fclf(face_weights):
    return FC.load(face_weights)


def face(seed: int = 0) -> np.ndarray:
    """A made-up 'face': a skin-coloured ellipse with two dark eyes on a blue ground, uint8 (64,64,3)."""
    yy, xx = np.mgrid[:64, :64]
    a = np.zeros((64, 64, 3), np.uint8)
    a[...] = (40, 60, 150 + seed)
    a[((yy - 34) / 24) ** 2 + ((xx - 32) / 18) ** 2 < 1] = (220, 170 - seed, 140)
    for cx in (24, 40):
        a[(yy - 28) ** 2 + (xx - cx) ** 2 < 9] = (30, 20, 20)
    return a


def painted(f: np.ndarray, box=(100, 200, 50, 250)) -> dict:
    """An editor value as gradio delivers it: the face's canvas + one RGBA layer painted in ``box``."""
    v = F.editor_value(f)
    layer = np.zeros((F.CANVAS, F.CANVAS, 4), np.uint8)
    r0, r1, c0, c1 = box
    layer[r0:r1, c0:c1] = (255, 64, 255, 255)
    v["layers"] = [layer]
    v["composite"] = v["background"]
    return v


def celeba(root, numbers=(1, 8001, 8002)):
    """A fake celeba/ folder in the official format: 89×109 JPEGs and an attribute list;
    face 8001 is labelled Smiling and Eyeglasses, 8002 nothing."""
    img = root / FM.CELEBA_IMAGES
    img.mkdir(parents=True)
    rows = []
    for n in numbers:
        a = np.zeros((109, 89, 3), np.uint8)
        a[...] = (n % 200, 120, 80)
        a[40:80, 30:60] = (230, 180, 150)
        Image.fromarray(a).save(img / f"{n:06d}.jpg", quality=95)
        vals = -np.ones(40, int)
        if n == 8001:
            vals[[FM.ATTRIBUTES.index("Smiling"), FM.ATTRIBUTES.index("Eyeglasses")]] = 1
        rows.append(f"{n:06d}.jpg " + " ".join(f"{v:2d}" for v in vals))
    (root / FM.CELEBA_ATTRS).write_text(f"{len(rows)}\n" + " ".join(FM.ATTRIBUTES) + "\n" + "\n".join(rows) + "\n")
    return root


def run_all(gen):
    return list(gen)


# ---------------------------------------------------------------- canvas, masks, views


def test_canvas_round_trip_and_painted_cells():
    f = face()
    v = painted(f, (100, 200, 50, 250))                   # canvas rows 100–200, columns 50–250
    np.testing.assert_array_equal(F.face_from_editor(v), f)          # the background maps back exactly
    miss = F.painted_cells(v, 64, F.SCALE)
    assert miss.shape == (64, 64) and miss[20:40, 10:50].all() and miss.sum() == 20 * 40
    known = F.get_mask(v, F.PAINTED)
    assert known.dtype == np.float32 and (known == 0).sum() == 800
    assert F.get_mask(F.editor_value(f), F.PAINTED).min() == 1.0    # nothing painted: nothing missing
    v["layers"].append(None)                                          # an empty slot is tolerated
    assert F.painted_cells(v, 64, F.SCALE).sum() == 800
    with pytest.raises(InputError, match="load a face"):
        F.face_from_editor({"background": None, "layers": [], "composite": None})
    # any other image as the background is framed like a photo
    other = np.zeros((90, 120, 3), np.uint8)
    other[:, 15:105] = (200, 100, 50)                                  # the centred 90×90 square
    np.testing.assert_array_equal(F.face_from_editor({"background": other, "layers": []}),
                                  np.full((64, 64, 3), (200, 100, 50), np.uint8))


def test_presets_are_the_papers_face_masks():
    assert set(F.PRESETS) == {F.PAINTED, *FI.MASK_LABELS.values()}
    v = painted(face())
    for label, kind in F.PRESETS.items():
        if kind is None:
            continue
        np.testing.assert_array_equal(F.get_mask(v, label, seed=3), FI.face_mask(kind, seed=3))   # strokes ignored
    centre = F.get_mask(v, FI.MASK_LABELS["center"])
    assert (centre == 0).sum() == 32 * 32 and (centre[16:48, 16:48] == 0).all()
    assert (F.get_mask(v, FI.MASK_LABELS["left"])[:, :32] == 0).all()
    assert not np.array_equal(F.get_mask(v, FI.MASK_LABELS["random"], 1), F.get_mask(v, FI.MASK_LABELS["random"], 2))
    with pytest.raises(InputError, match="Unknown mask"):
        F.get_mask(v, "a heart")
    view = F.masked_view(face(), centre)
    assert view.shape == (256, 256, 3)
    np.testing.assert_array_equal(view[::F.SHOW, ::F.SHOW][centre > 0.5], face()[centre > 0.5])
    assert set(map(tuple, view[::F.SHOW, ::F.SHOW][centre < 0.5])) == set(F.HOLE)   # the hole in grey checks


# ---------------------------------------------------------------- the live search on a tiny face GAN


@pytest.mark.parametrize("blend", ["composite", "poisson"])
def test_run_faces_streams_then_results_keep_known_pixels(fgan, fclf, blend):
    f = face()
    ups = run_all(F.run_faces(fgan, fclf, painted(f), F.PAINTED, 0.1, 4, 3, 0, blend, curve=T.loss_curve))
    assert "results" not in ups[0] and "Choosing starting points" in ups[0]["status"]
    assert any("Optimising: step 4/4" in u["status"] for u in ups[1:-1])
    last = ups[-1]
    assert "Done" in last["status"] and "800 of 4096 pixels missing" in last["status"]
    assert last["frame"].shape == (256, 129 * 4, 3) and last["curve"].ndim == 3
    assert len(last["results"]) == 6 and len(last["top4"]) == 3               # 3 restarts → 3 completions
    images = [im[::F.SHOW, ::F.SHOW] for im, _ in last["results"]]
    assert all(im.shape == (64, 64, 3) for im in images)
    known = F.get_mask(painted(f), F.PAINTED) > 0.5
    np.testing.assert_array_equal(images[0], f)                                 # the original, whole
    for i in (2, 4, 5):                                                         # result and both baselines
        np.testing.assert_array_equal(images[i][known], f[known])
    if blend == "composite":                                                    # the hole is exactly G(ẑ)
        np.testing.assert_array_equal(images[2][~known], images[3][~known])
    assert not np.array_equal(images[2][~known], f[~known])                     # …and it was filled
    mean = np.round(f[known].astype(float).mean(0)).astype(np.uint8)
    assert (images[5][~known] == mean).all()                                    # the mean-fill baseline
    for top, _ in last["top4"]:
        np.testing.assert_array_equal(top[::F.SHOW, ::F.SHOW][known], f[known])
    # the face classifier's reading: the same two attributes under every image, a table of six
    caps = [c for i, (_, c) in enumerate(last["results"]) if i != 1] + [c for _, c in last["top4"]]
    read = [[part.rsplit(" ", 1) for part in c.split(": ", 1)[1].split(", ")] for c in caps]
    names = [[n for n, _ in r] for r in read]
    assert len(names[0]) == 2 and set(names[0]) <= set(FM.ATTRIBUTES) and all(n == names[0] for n in names)
    assert all(0 <= float(v) <= 1 for r in read for _, v in r)
    assert "| Smiling |" in last["attributes"] and last["attributes"].count("\n") == 2 + 5


def test_first_frame_comes_before_any_network_work(fgan):
    """The student sees the input at once; the pool's forward passes come after the first frame."""
    calls = []
    hook = fgan.G.register_forward_pre_hook(lambda mod, args: calls.append(args[0].shape[0]))
    try:
        gen = F.run_faces(fgan, None, painted(face()), F.PAINTED, 0.1, 2, 2, 0, curve=T.loss_curve)
        first = next(gen)
        assert calls == [] and "results" not in first
        view = F.masked_view(face(), F.get_mask(painted(face()), F.PAINTED))
        assert first["frame"].shape == (256, 516, 3)
        np.testing.assert_array_equal(first["frame"][:, :256], view)
        rest = list(gen)
    finally:
        hook.remove()
    assert calls[0] == FI.POOL                      # then the pool of random z is scored, then the descent
    assert "Done" in rest[-1]["status"] and rest[-1]["attributes"] == ""       # no classifier: no table


def test_without_classifier_captions_are_plain(fgan):
    last = run_all(F.run_faces(fgan, None, F.editor_value(face()), FI.MASK_LABELS["mouth"], 0.1, 2, 2, 0,
                               curve=T.loss_curve))[-1]
    assert [c for _, c in last["results"]][2] == "result x̂ (poisson)"


def test_bad_masks_and_settings(fgan):
    run = lambda v, pre, *s: run_all(F.run_faces(fgan, None, v, pre, *s, curve=T.loss_curve))   # noqa: E731
    with pytest.raises(InputError, match="no pixel as missing"):
        run(F.editor_value(face()), F.PAINTED, 0.1, 3, 2, 0)                   # empty mask
    with pytest.raises(InputError, match="covers the whole face"):
        run(painted(face(), (0, F.CANVAS, 0, F.CANVAS)), F.PAINTED, 0.1, 3, 2, 0)   # full mask
    for bad, msg in [((0.1, F.MAX_STEPS + 1, 2), "Steps must be between 1 and 50"),
                     ((0.1, 3, F.MAX_RESTARTS + 1), "Restarts must be between 1 and 16"),
                     ((-1, 3, 2), "λ"), ((0.1, "abc", 2), "Steps")]:
        with pytest.raises(InputError, match=msg):
            run(painted(face()), F.PAINTED, *bad, 0)
    with pytest.raises(InputError, match="Blending"):
        run_all(F.run_faces(fgan, None, painted(face()), F.PAINTED, 0.1, 3, 2, 0, "magic", curve=T.loss_curve))


# ---------------------------------------------------------------- sources


def test_generated_face_is_G_of_the_seed(fgan):
    v, note = F.load_generated_face(fgan, 5)
    np.testing.assert_array_equal(F.face_from_editor(v), FM.sample_uint8(fgan, 1, seed=5)[0])
    assert "seed 5" in note
    with pytest.raises(InputError, match="Seed"):
        F.load_generated_face(fgan, -1)


def test_uploads_say_what_was_done(tmp_path, monkeypatch):
    grey = tmp_path / "grey.png"
    Image.fromarray(np.tile(np.arange(160, dtype=np.uint8)[None], (120, 1))).save(grey)   # 160×120, grey
    f, notes = F.convert_upload(str(grey))
    assert f.shape == (64, 64, 3) and f.dtype == np.uint8
    assert (f[..., 0] == f[..., 1]).all() and (f[..., 1] == f[..., 2]).all()
    text = "; ".join(notes)
    assert "grey" in text and "centred 120×120 square" in text and "64×64" in text
    v, line = F.load_upload(str(grey))
    assert v["background"].shape == (F.CANVAS, F.CANVAS, 4) and line.startswith("Loaded your photo: ")
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tiny)
    with pytest.raises(InputError, match="too small"):
        F.convert_upload(str(tiny))
    txt = tmp_path / "notes.png"
    txt.write_text("this is not a photo")
    with pytest.raises(InputError, match="not an image"):
        F.convert_upload(str(txt))
    with pytest.raises(InputError, match="No file"):
        F.convert_upload(None)
    big = tmp_path / "big.png"
    Image.fromarray(np.full((300, 400, 3), 90, np.uint8)).save(big)
    with pytest.raises(InputError, match="more pixels than this server accepts"):
        F.convert_upload(str(big), limit=100_000)                           # above --max-pixels: refused
    monkeypatch.setattr(F, "DECODE_PIXELS", 30_000)
    f, notes = F.convert_upload(str(big), limit=200_000)                     # below it: shrunk while decoded
    assert "downscaled" in "; ".join(notes) and (f == 90).all()


def test_heldout_faces_only_with_a_data_dir(tmp_path):
    assert F.heldout_root(AppContext()) is None
    root = celeba(tmp_path)
    ctx = AppContext(data_dirs=(tmp_path,))
    assert F.heldout_root(ctx) == tmp_path.resolve()
    held = F.list_heldout(F.heldout_root(ctx))
    assert sorted(held.index) == [8001, 8002]                              # the training face is not listed
    v, note = F.load_heldout_face(held, 8001)
    expected = np.asarray(FM.frame_face(Image.open(root / FM.CELEBA_IMAGES / "008001.jpg")))
    np.testing.assert_array_equal(F.face_from_editor(v), expected)
    assert "008001.jpg" in note and "Smiling" in note and "Eyeglasses" in note and "Male" not in note
    assert "none of the 40" in F.load_heldout_face(held, 8002)[1]
    with pytest.raises(InputError, match="between 8001 and 9000"):
        F.load_heldout_face(held, 1)                                        # a training face: refused
    with pytest.raises(InputError, match="not in the attribute list"):
        F.load_heldout_face(held, 8500)


# ---------------------------------------------------------------- the tab over HTTP


def config(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/config", timeout=30) as r:
        return json.loads(r.read())


def component(cfg: dict, elem_id: str) -> dict:
    return next(c for c in cfg["components"] if c.get("props", {}).get("elem_id") == elem_id)


@pytest.fixture(scope="module")
def served_faces(tiny_weights, face_weights, fgan, fclf, tmp_path_factory):
    from ganmodels.models import classifier as C
    from ganmodels.models import dcgan
    from tests.conftest import serve_tab

    data = celeba(tmp_path_factory.mktemp("data"))
    ctx = AppContext(models={"dcgan": dcgan.load(tiny_weights), "classifier": C.load(tiny_weights),
                             "faces": fgan, "face_classifier": fclf},
                     heavy_limit=2, data_dirs=(data,), max_pixels=SERVED_MAX_PIXELS)
    with serve_tab(T.build, ctx, "Inpainting") as (url, _):
        yield url


@pytest.fixture
def client(served_faces, tmp_path):
    from gradio_client import Client
    return Client(served_faces, verbose=False, analytics_enabled=False, download_files=str(tmp_path / "dl"))


def test_api_faces_endpoints_and_page(served_faces, client):
    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    for n in ("/inpaint", "/inpaint_faces", "/inpaint_faces_preview", "/inpaint_faces_load_generated",
              "/inpaint_faces_load_upload", "/inpaint_faces_load_heldout"):
        assert n in names, n
    cfg = config(served_faces)
    mode = component(cfg, "inpaint_mode")["props"]
    assert [c[0] for c in mode["choices"]] == ["Digits", "Faces"] and mode["value"] == "Digits"
    assert ("CelebA (Liu et al. 2015): non-commercial research and teaching only; the app ships weights, never images"
            in component(cfg, "inpaint_faces_licence")["props"]["value"])
    steps = next(c for c in cfg["components"] if c.get("props", {}).get("label") == "Adam steps on z (faces)")
    assert steps["props"]["maximum"] == F.MAX_STEPS and steps["props"]["value"] == FI.STEPS


def test_api_inpaint_faces_with_a_painted_layer(client, tmp_path):
    from gradio_client import handle_file

    f = face(3)
    v = painted(f)
    Image.fromarray(v["background"]).save(tmp_path / "bg.png")
    Image.fromarray(v["layers"][0]).save(tmp_path / "layer.png")
    editor = {"background": handle_file(str(tmp_path / "bg.png")),
              "layers": [handle_file(str(tmp_path / "layer.png"))], "composite": None}
    frame, plot, status, results, top4, table = client.predict(editor, F.PAINTED, 0.1, 3, 2, 0, "composite",
                                                               api_name="/inpaint_faces")
    assert "Done" in status and "800 of 4096 pixels missing" in status
    assert len(results) == 6 and len(top4) == 2 and "| Smiling |" in table
    item = results[2]["image"]
    res = np.asarray(Image.open(item["path"] if isinstance(item, dict) else item).convert("RGB"))
    known = F.get_mask(v, F.PAINTED) > 0.5
    np.testing.assert_array_equal(res[::F.SHOW, ::F.SHOW][known], f[known])      # known pixels kept
    prev = client.predict(editor, FI.MASK_LABELS["eyes"], 0, api_name="/inpaint_faces_preview")
    p = np.asarray(Image.open(prev).convert("RGB"))[::F.SHOW, ::F.SHOW]
    assert set(map(tuple, p[22:38, 8:56].reshape(-1, 3))) == set(F.HOLE) and (p[:22] == f[:22]).all()
    empty = {"background": handle_file(str(tmp_path / "bg.png")), "layers": [], "composite": None}
    with pytest.raises(Exception, match="no pixel as missing"):
        client.predict(empty, F.PAINTED, 0.1, 3, 2, 0, "poisson", api_name="/inpaint_faces")


def test_api_sources_and_bad_uploads(client, tmp_path):
    from gradio_client import handle_file

    value, note = client.predict(8001, api_name="/inpaint_faces_load_heldout")
    assert "008001.jpg" in note and "Smiling" in note
    bg = value["background"]
    assert np.asarray(Image.open(bg["path"] if isinstance(bg, dict) else bg)).shape[:2] == (F.CANVAS, F.CANVAS)
    _, note = client.predict(11, api_name="/inpaint_faces_load_generated")
    assert "seed 11" in note
    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((80, 100), 128, np.uint8)).save(grey)
    _, note = client.predict(handle_file(str(grey)), api_name="/inpaint_faces_load_upload")
    assert "grey" in note and "80×80" in note
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tiny)
    with pytest.raises(Exception, match="too small"):
        client.predict(handle_file(str(tiny)), api_name="/inpaint_faces_load_upload")
    (tmp_path / "x.png").write_text("not a photo")
    with pytest.raises(Exception, match="not an image"):
        client.predict(handle_file(str(tmp_path / "x.png")), api_name="/inpaint_faces_load_upload")
    huge = tmp_path / "huge.png"
    Image.new("RGB", (600, 600), (200, 200, 200)).save(huge)                  # 360,000 px > the served limit
    with pytest.raises(Exception, match="more pixels than this server accepts"):
        client.predict(handle_file(str(huge)), api_name="/inpaint_faces_load_upload")
    bomb = {"background": handle_file(str(huge)), "layers": [], "composite": None}
    for api, args in (("/inpaint_faces_preview", (F.DEFAULT_PRESET, 0)),
                      ("/inpaint_faces", (F.DEFAULT_PRESET, 0.1, 3, 2, 0, "poisson"))):
        with pytest.raises(Exception, match="more pixels than this server accepts"):
            client.predict(bomb, *args, api_name=api)


# ---------------------------------------------------------------- digits without the face weights


def test_digits_work_without_face_weights(tiny_weights, tmp_path):
    import app as A
    from gradio_client import Client, handle_file
    from tests.conftest import serve_tab

    assert {"faces", "face_classifier"} <= set(T.OPTIONAL)
    ctx = A.load_context(tiny_weights, "cpu")                                 # the tests' digit-only weights
    assert "faces" not in ctx.models and "faces" in ctx.errors
    try:
        with serve_tab(T.build, ctx, "Inpainting") as (url, _):
            cfg = config(url)
            mode = component(cfg, "inpaint_mode")["props"]
            assert [c[0] for c in mode["choices"]] == ["Digits"] and "Faces are not loaded" in mode["info"]
            client = Client(url, verbose=False, analytics_enabled=False, download_files=str(tmp_path / "dl"))
            names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
            assert "/inpaint" in names and not any(n.startswith("/inpaint_faces") for n in names)
            d = np.zeros((28, 28), np.uint8)
            d[6:22, 12:16] = 255
            Image.fromarray(T.editor_value(d)["background"]).save(tmp_path / "bg.png")
            editor = {"background": handle_file(str(tmp_path / "bg.png")), "layers": [], "composite": None}
            status = client.predict(editor, "bottom half", 0.1, 3, 2, 0, "poisson", api_name="/inpaint")[2]
            assert "Done" in status and "392 of 784 pixels missing" in status
    finally:
        ctx.close()


@pytest.mark.browser
def test_browser_switch_to_faces_paint_and_fill(served_faces, browser):
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(served_faces)
    page.locator("#inpaint_editor canvas").first.wait_for(timeout=30000)          # digits first
    assert page.locator("#inpaint_faces_editor").count() == 0 or not page.locator("#inpaint_faces_editor").is_visible()
    page.locator("#inpaint_mode").get_by_label("Faces").check()
    canvases = page.locator("#inpaint_faces_editor canvas")
    canvases.first.wait_for(timeout=30000)
    assert not page.locator("#inpaint_editor").is_visible()
    page.get_by_label(F.PAINTED).check()
    page.locator("#inpaint_faces_editor button[aria-label=Brush]").click()
    boxes = [c.bounding_box() for c in canvases.all()]
    box = max((b for b in boxes if b), key=lambda b: b["width"] * b["height"])
    y0 = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.3, y0)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, y0, steps=15)
    page.mouse.up()
    page.wait_for_timeout(500)
    page.get_by_label("Adam steps on z (faces)").last.fill("3")
    page.locator("#inpaint_faces_run").click()
    status = page.locator("#inpaint_faces_status")
    status.get_by_text("Done in").wait_for(timeout=90000)
    n_missing = int(status.inner_text().split(" of 4096")[0].split()[-1])
    assert 20 < n_missing < 1500                                       # a horizontal stroke, not everything
    assert page.locator("#inpaint_faces_results img").count() >= 6
    page.locator("#inpaint_mode").get_by_label("Digits").check()
    page.locator("#inpaint_editor canvas").first.wait_for(timeout=30000)        # and back to digits
    page.close()
