"""Inpainting (Yeh et al. 2016): the pure function on a tiny DCGAN, blending, masks, image
conversion, the editor-value plumbing, the CLI, the tab's API (gradio_client) and a real browser."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import demo.inpaint as T
from demo.common import InputError
from ganmodels.data import to_uint8
from ganmodels.models import dcgan
from ganmodels.inference import inpaint as I


@pytest.fixture(scope="module")
def gan(tiny_weights):
    return dcgan.load(tiny_weights)


@pytest.fixture(scope="module")
def clf(tiny_weights):
    from ganmodels.models import classifier as C
    return C.load(tiny_weights)


def digit(seed: int = 0) -> np.ndarray:
    """A made-up 'digit': a thick ring, white on black, uint8 (28,28)."""
    yy, xx = np.mgrid[:28, :28]
    r = np.hypot(yy - 13.5 - seed % 3, xx - 13.5)
    return (np.clip(1 - np.abs(r - 7) / 2.5, 0, 1) * 255).astype(np.uint8)


def run_all(it):
    states = []
    while True:
        try:
            states.append(next(it))
        except StopIteration as e:
            return states, e.value


# ---------------------------------------------------------------- the pure function


def test_inpaint_yields_states_and_returns_sorted_result(gan):
    y, known = digit(), I.make_mask("center")
    states, r = run_all(I.inpaint(gan.G, gan.D, y, known, steps=12, restarts=6, pool=12, seed=3, frame_every=4))
    assert [s.step for s in states] == [0, 4, 8, 12]
    assert all(s.best.shape == (1, 1, 28, 28) for s in states)
    assert r.candidates.shape == (1, 6, 1, 28, 28) and r.z.shape == (1, 6, gan.z_dim)
    tot = r.losses["total"][0]
    assert np.all(np.diff(tot) >= 0)                                  # best restart first
    np.testing.assert_allclose(tot, r.losses["contextual"][0] + I.LAM * r.losses["perceptual"][0], rtol=1e-5)
    assert torch.equal(r.generated[0], r.candidates[0, 0])
    assert r.z.abs().max() <= I.Z_CLAMP + 1e-6                        # z stayed in the prior's range
    assert (r.losses["perceptual"] <= 0).all()                        # log(1 − D) ≤ 0
    assert len(r.history["total"]) == 13
    assert r.history["total"][-1][0] < r.history["total"][0][0]       # the descent made progress


def test_large_pool_shows_a_first_frame_before_the_descent(gan):
    states, r = run_all(I.inpaint(gan.G, gan.D, digit(), I.make_mask("center"), steps=2, restarts=2,
                                  pool=I.POOL_CHUNK + 10, frame_every=1))
    assert states[0].phase == "pool" and states[0].tried == I.POOL_CHUNK and states[0].pool == I.POOL_CHUNK + 10
    assert [s.phase for s in states[1:]] == ["descent"] * 3 and r.settings["pool"] == I.POOL_CHUNK + 10


def test_inpaint_is_deterministic_and_seed_matters(gan):
    y, known = digit(), I.make_mask("left")
    a = I.complete(gan.G, gan.D, y, known, steps=5, restarts=4, pool=8, seed=1)
    b = I.complete(gan.G, gan.D, y, known, steps=5, restarts=4, pool=8, seed=1)
    c = I.complete(gan.G, gan.D, y, known, steps=5, restarts=4, pool=8, seed=2)
    assert torch.equal(a.image, b.image) and not torch.equal(a.z, c.z)


@pytest.mark.parametrize("blend", I.BLENDS)
@pytest.mark.parametrize("kind", ["center", "bottom", "random"])
def test_known_pixels_are_unchanged(gan, blend, kind):
    y, known = digit(), I.make_mask(kind, seed=5)
    r = I.complete(gan.G, gan.D, y, known, steps=3, restarts=2, pool=4, blend=blend)
    out = to_uint8(r.image)[0]
    np.testing.assert_array_equal(out[known > 0.5], y[known > 0.5])
    if blend == "composite":                                           # the hole is exactly G(ẑ)
        np.testing.assert_array_equal(out[known < 0.5], to_uint8(r.generated)[0][known < 0.5])


def test_batch_of_digits_matches_one_by_one(gan):
    ys = np.stack([digit(0), digit(1)])
    ms = np.stack([I.make_mask("center"), I.make_mask("top")])
    both = I.complete(gan.G, gan.D, ys, ms, steps=4, restarts=3, pool=6, seed=0)
    one = I.complete(gan.G, gan.D, ys[:1], ms[:1], steps=4, restarts=3, pool=6, seed=0)
    assert both.image.shape == (2, 1, 28, 28)
    np.testing.assert_allclose(both.losses["total"][0], one.losses["total"][0], rtol=1e-4)


def test_full_mask_is_plain_generation_and_bad_inputs(gan):
    r = I.complete(gan.G, gan.D, digit(), np.zeros((28, 28)), steps=3, restarts=2, pool=2)
    assert (r.losses["contextual"] == 0).all()                        # no known pixel: only D acts
    with pytest.raises(I.InpaintError, match="does not match"):
        I.complete(gan.G, gan.D, digit(), np.ones((14, 14)), steps=1, restarts=1)
    with pytest.raises(I.InpaintError, match="blend"):
        I.complete(gan.G, gan.D, digit(), I.make_mask("center"), steps=1, restarts=1, blend="magic")
    with pytest.raises(I.InpaintError, match="NaN"):
        I.complete(gan.G, gan.D, np.full((28, 28), np.nan, np.float32), I.make_mask("center"), steps=1)


# ---------------------------------------------------------------- pieces


def test_masks_and_importance_weights():
    assert (I.make_mask("center") == 0).sum() == 196
    for k in ("left", "right", "top", "bottom"):
        assert (I.make_mask(k) == 0).sum() == 392
    assert 0.75 < (I.make_mask("random", seed=1) == 0).mean() < 0.85
    m = torch.from_numpy(I.make_mask("center"))[None, None]
    w = I.importance_weights(m, window=7, floor=0.0)
    assert (w[m == 0] == 0).all()                                     # missing pixels carry no weight
    assert w[0, 0, 6, 14] > w[0, 0, 4, 14] > 0                        # next to the hole counts more
    assert w[0, 0, 0, 0] == 0                                         # far away: nothing (paper)
    assert I.importance_weights(m, floor=0.2)[0, 0, 0, 0] == pytest.approx(0.2)


def test_poisson_blend_takes_boundary_brightness_keeps_gradients():
    known = I.make_mask("center")
    target = np.full((28, 28), 0.3)
    flat = np.full((28, 28), -0.5)                                    # no gradient: result = boundary value
    out = I.poisson_blend(flat, target, known)
    np.testing.assert_allclose(out, 0.3, atol=1e-3)
    yy, xx = np.mgrid[:28, :28] / 27.0
    f = 0.4 * np.sin(3 * xx) * np.cos(2 * yy)                          # a curved pattern
    out = I.poisson_blend(f - 0.4, f + 0.2, known)                    # fill: f's shape at the wrong level
    hole = known < 0.5
    np.testing.assert_allclose(out[hole], (f + 0.2)[hole], atol=1e-3) # shape kept, level from the edges
    target = f + 0.2
    assert np.array_equal(out[~hole], target[~hole])


def test_distinct_picks_different_fills():
    known = torch.from_numpy(I.make_mask("center"))[None]
    c = torch.zeros(6, 1, 28, 28)
    c[2] += 1.0
    c[4] -= 1.0                                                       # 0, 1, 3, 5 are the same fill
    assert I.distinct(c, known, k=3) == [0, 2, 4]
    assert I.distinct(c, known, k=4) == [0, 2, 4, 1]                  # filled up with the next best


def test_mnist_like_converts_a_photo_of_a_digit():
    big = np.full((300, 200, 3), 240, np.uint8)                       # dark ink on light paper, colour
    big[60:240, 90:120] = (20, 30, 200)                               # a tall "1"
    d = I.mnist_like(big)
    assert d.shape == (28, 28) and d.dtype == np.uint8
    ys, xs = np.nonzero(d > 60)
    assert ys.max() - ys.min() + 1 <= 21 and ys.max() - ys.min() + 1 >= 18   # fitted into 20 px
    assert abs(np.average(np.arange(28), weights=d.sum(1)) - 13.5) < 1.0      # centred by mass
    assert d[0].max() == 0                                            # background black
    rgba = np.zeros((100, 100, 4), np.uint8)                          # transparent paper, black ink
    rgba[20:80, 45:55] = (0, 0, 0, 255)
    assert I.mnist_like(rgba).max() > 200
    with pytest.raises(I.InpaintError, match="no digit"):
        I.mnist_like(np.full((50, 50), 255, np.uint8))


def test_baselines():
    y, known = digit(), I.make_mask("center")
    b = I.biharmonic(y, known)
    assert np.array_equal(b[known > 0.5], y[known > 0.5])
    assert b[14, 14] > 100 > y[14, 14]                                 # the ring's centre is smoothed over
    m = I.mean_fill(y, known)
    assert (m[known < 0.5] == round(y[known > 0.5].mean())).all()


# ---------------------------------------------------------------- the tab's pure functions


def painted(d: np.ndarray, box=(100, 180, 60, 220)) -> dict:
    """An editor value as gradio delivers it: background + one RGBA layer with paint in ``box``."""
    v = T.editor_value(d)
    layer = np.zeros((T.CANVAS, T.CANVAS, 4), np.uint8)
    r0, r1, c0, c1 = box
    layer[r0:r1, c0:c1] = (255, 64, 64, 255)
    v["layers"] = [layer]
    v["composite"] = v["background"]
    return v


def test_mask_from_hand_built_editor_value():
    v = painted(digit(), (100, 180, 60, 220))
    miss = T.painted_mask(v)
    assert miss.shape == (28, 28)
    assert miss[10:18, 6:22].all() and miss.sum() == 8 * 16          # exactly the painted cells
    np.testing.assert_array_equal(T.digit_from_editor(v), digit())    # the background maps back exactly
    v["layers"].append(None)                                          # tolerate empty slots
    assert T.painted_mask(v).sum() == 128
    assert T.painted_mask(T.editor_value(digit())).sum() == 0         # nothing painted
    known = T.get_mask(v, "bottom half")
    assert (known[14:] == 0).all() and (known[:14] == 1).all()        # a preset ignores the strokes
    with pytest.raises(InputError, match="load a digit"):
        T.digit_from_editor({"background": None, "layers": [], "composite": None})


def test_run_inpaint_streams_then_shows_results(gan, clf):
    ups = list(T.run_inpaint(gan, clf, painted(digit()), T.PAINTED, 0.1, 6, 3, 0))
    assert len(ups) >= 3 and "results" not in ups[0]
    last = ups[-1]
    assert len(last["results"]) == 5 and len(last["top4"]) == 3       # 3 restarts → 3 completions
    assert "biharmonic" in last["results"][3][1] and ": a " in last["results"][1][1]
    assert last["frame"].shape == (224, 57 * 8) and last["curve"].ndim == 3
    assert "Done" in last["status"]


def test_run_inpaint_bad_inputs(gan):
    with pytest.raises(InputError, match="Nothing to fill"):
        list(T.run_inpaint(gan, None, T.editor_value(digit()), T.PAINTED, 0.1, 5, 2, 0))
    full = painted(digit(), (0, 280, 0, 280))
    ups = list(T.run_inpaint(gan, None, full, T.PAINTED, 0.1, 3, 2, 0))
    assert "plain generation" in ups[-1]["status"]
    for bad, msg in [((0.1, "abc", 2), "Steps"), ((-1, 5, 2), "λ"), ((0.1, 5, 0), "Restarts")]:
        with pytest.raises(InputError, match=msg):
            list(T.run_inpaint(gan, None, painted(digit()), T.PAINTED, *bad, 0))


def test_uploads(tmp_path):
    p = tmp_path / "digit.png"
    a = np.full((90, 60, 4), 0, np.uint8)                             # RGBA: transparent paper
    a[15:75, 25:35] = (200, 0, 0, 255)
    Image.fromarray(a).save(p)
    d, note = T.convert_upload(str(p))
    assert d.shape == (28, 28) and d.max() > 150 and "transparent" in note and "grey" in note
    huge = tmp_path / "huge.png"
    b = np.full((1500, 2000), 255, np.uint8)
    b[300:1200, 900:1100] = 0
    Image.fromarray(b).save(huge)
    d, note = T.convert_upload(str(huge))
    assert "downscaled" in note and "2000×1500" in note and d.max() > 150
    txt = tmp_path / "notes.png"
    txt.write_text("this is not an image")
    with pytest.raises(InputError, match="not an image"):
        T.convert_upload(str(txt))
    with pytest.raises(InputError, match="No file"):
        T.convert_upload(None)


# ---------------------------------------------------------------- the CLI


def test_cli_single_and_batch(tiny_weights, tmp_path):
    from ganmodels.cli.main import main

    y = digit()
    Image.fromarray(y).save(tmp_path / "in.png")
    mask = np.zeros((28, 28), np.uint8)
    mask[14:] = 255                                                   # white = missing
    Image.fromarray(mask).save(tmp_path / "mask.png")
    common = ["--weights", str(tiny_weights), "--steps", "3", "--restarts", "2"]
    assert main(["inpaint", "--image", str(tmp_path / "in.png"), "--mask", str(tmp_path / "mask.png"),
                 "--out", str(tmp_path / "out.png"), *common]) == 0
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert out.shape == (28, 28) and np.array_equal(out[:14], y[:14])
    ys = np.stack([digit(0), digit(1), digit(2)])
    ms = np.zeros_like(ys)
    ms[:, 7:21, 7:21] = 255
    np.savez(tmp_path / "in.npz", images=ys)
    np.savez(tmp_path / "m.npz", masks=ms)
    assert main(["inpaint", "--images", str(tmp_path / "in.npz"), "--masks", str(tmp_path / "m.npz"),
                 "--out", str(tmp_path / "out.npz"), *common]) == 0
    with np.load(tmp_path / "out.npz") as f:
        res = f["images"]
    assert res.shape == (3, 28, 28) and res.dtype == np.uint8
    np.testing.assert_array_equal(res[ms == 0], ys[ms == 0])
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "black.png")       # nothing missing
    with pytest.raises(SystemExit, match="nothing to fill"):
        main(["inpaint", "--image", str(tmp_path / "in.png"), "--mask", str(tmp_path / "black.png"),
              "--out", str(tmp_path / "o.png"), *common])
    with pytest.raises(SystemExit, match="either"):
        main(["inpaint", "--out", str(tmp_path / "o.png"), *common])
    (tmp_path / "bad.png").write_text("nope")
    with pytest.raises(SystemExit, match="not an image"):
        main(["inpaint", "--image", str(tmp_path / "bad.png"), "--mask", str(tmp_path / "mask.png"),
              "--out", str(tmp_path / "o.png"), *common])


# ---------------------------------------------------------------- the tab over HTTP and in a browser


@pytest.fixture(scope="module")
def served(gan, clf):
    from demo.context import AppContext
    from tests.conftest import serve_tab

    with serve_tab(T.build, AppContext(models={"dcgan": gan, "classifier": clf}, heavy_limit=2),
                   "Inpainting") as (url, _):
        yield url


def test_api_endpoint_with_painted_layer(served, tmp_path):
    from gradio_client import Client, handle_file

    v = painted(digit())
    Image.fromarray(v["background"]).save(tmp_path / "bg.png")
    Image.fromarray(v["layers"][0]).save(tmp_path / "layer.png")
    client = Client(served, verbose=False, analytics_enabled=False, download_files=str(tmp_path / "dl"))
    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/inpaint" in names and "/inpaint_load_test" in names
    editor = {"background": handle_file(str(tmp_path / "bg.png")),
              "layers": [handle_file(str(tmp_path / "layer.png"))], "composite": None}
    frame, curve, status, results, top4 = client.predict(editor, T.PAINTED, 0.1, 4, 2, 0, "poisson",
                                                         api_name="/inpaint")
    assert "Done" in status and "128 of 784 pixels missing" in status
    assert len(results) == 5 and len(top4) == 2
    res = np.asarray(Image.open(results[1]["image"]["path"] if isinstance(results[1]["image"], dict)
                                else results[1]["image"]).convert("L"))
    known = ~T.painted_mask(v)
    np.testing.assert_array_equal(res[::T.SHOW, ::T.SHOW][known], digit()[known])   # known pixels kept
    empty = {"background": handle_file(str(tmp_path / "bg.png")), "layers": [], "composite": None}
    with pytest.raises(Exception, match="Nothing to fill"):
        client.predict(empty, T.PAINTED, 0.1, 4, 2, 0, "poisson", api_name="/inpaint")


@pytest.mark.browser
def test_browser_paint_a_stroke_and_fill(served, browser):
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(served)
    page.get_by_label("painted strokes").check()
    canvases = page.locator("#inpaint_editor canvas")
    canvases.first.wait_for(timeout=30000)
    page.locator("#inpaint_editor button[aria-label=Brush]").click()      # the brush tool
    boxes = [c.bounding_box() for c in canvases.all()]
    box = max((b for b in boxes if b), key=lambda b: b["width"] * b["height"])
    x0, y0 = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.5
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.65, y0, steps=15)
    page.mouse.up()
    page.wait_for_timeout(500)
    page.get_by_label("Steps of Adam on z").last.fill("5")                # keep the test quick
    page.locator("#inpaint_run").click()
    status = page.locator("#inpaint_status")
    status.get_by_text("Done in").wait_for(timeout=60000)
    text = status.inner_text()
    n_missing = int(text.split(" of 784")[0].split()[-1])
    assert 10 < n_missing < 300                                       # a horizontal stroke, not everything
    assert page.locator("#inpaint_results img").count() >= 5
    page.close()


def test_warm_start_descends_from_the_given_z(gan):
    d = gan.cfg.z_dim
    z0 = torch.randn(1, 2, d, generator=torch.Generator().manual_seed(5)) * 3   # some beyond the clamp
    still = I.complete(gan.G, gan.D, digit(), I.make_mask("center"), steps=0, restarts=2, init_z=z0)
    assert torch.allclose(still.z.sort(1).values, z0.clamp(-I.Z_CLAMP, I.Z_CLAMP).sort(1).values)
    moved = I.complete(gan.G, gan.D, digit(), I.make_mask("center"), steps=5, restarts=2, init_z=z0)
    assert moved.losses["total"][0, 0] < still.losses["total"][0, 0]
    with pytest.raises(I.InpaintError, match="init_z"):
        I.complete(gan.G, gan.D, digit(), I.make_mask("center"), steps=1, restarts=3, init_z=z0)


def test_explain_states_weight_floor_and_z_clip():
    """Issue 34 #4: the tab says what differs from Yeh et al.: a 0.2 floor on W (paper: 0) and
    z clipped to ±2.5 because the prior is N(0, I) (no "prior's range")."""
    assert I.WEIGHT_FLOOR == 0.2 and I.Z_CLAMP == 2.5
    assert "0.2" in T.EXPLAIN and "WEIGHT_FLOOR" in T.EXPLAIN
    assert r"\pm2.5" in T.EXPLAIN and "Z_CLAMP" in T.EXPLAIN and "uniform prior" in T.EXPLAIN
    assert "prior's range" not in T.EXPLAIN and "prior's range" not in (I.__doc__ or "")
    # far from the hole a known pixel weighs exactly the floor, a missing one 0
    m = torch.ones(1, 1, 28, 28)
    m[..., 12:16, 12:16] = 0
    w = I.importance_weights(m)
    assert w[0, 0, 0, 0].item() == pytest.approx(I.WEIGHT_FLOOR)
    assert w[0, 0, 13, 13].item() == 0.0
    assert w[0, 0, 11, 13].item() > I.WEIGHT_FLOOR
