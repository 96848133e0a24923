"""The Latent space tab's Faces model (issue #30): attribute vectors, presets, the Digits/Faces switch,
its HTTP API on tiny weights, the digits-only app, and a real browser."""
from __future__ import annotations

import io
import json
import re
import urllib.request

import numpy as np
import pytest
import torch
import torch.nn as nn

import demo.latent as L
import demo.latent_faces as LF
from demo.common import InputError
from ganmodels.inference import face_attributes as FA
from tests.conftest import api_call, in_test_manifest, make_tiny_face_weights, make_tiny_weights, serve_tab


# ------------------------------------------------------------------ tiny weights whose faces differ


def make_lively_face_weights(out):
    """``make_tiny_face_weights``, then a G whose faces differ from z to z (the stock tiny G draws the same
    flat grey for every z) and a classifier whose readings split the pool, so that the attribute vectors
    are not zero: an edit must change the picture and the readings."""
    from ganmodels.models import face_classifier as FC
    from ganmodels.models import faces

    make_tiny_face_weights(out)
    torch.manual_seed(1)
    cfg = faces.FacesConfig(z_dim=16, ngf=4, ndf=4)
    G, D = faces.Generator(cfg), faces.Discriminator(cfg).eval()
    for m in G.modules():
        if isinstance(m, nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0, 0.2)
    G.eval()
    C = FC.FaceClassifier(FC.FaceClassifierConfig(width=4, feat_dim=16)).eval()
    with torch.no_grad():   # rescale the head so that each attribute's logit has mean 0, std 2 on G's faces
        f = C.features(G(torch.randn(256, cfg.z_dim, generator=torch.Generator().manual_seed(5))))
        C.head.weight.mul_((2 / C.head(f).std(0).clamp_min(1e-12))[:, None])
        C.head.bias.copy_(-(C.head.weight @ f.mean(0)))
        attrs = FA.compute(G, lambda x: torch.sigmoid(C(x)), cfg.z_dim, n=200)
    faces.save(G, D, cfg, out)
    FC.save(C, out / FC.FILE)
    FA.save(attrs, out / FA.FILE)
    return in_test_manifest(out, (*faces.FILES.values(), FC.FILE, FA.FILE))


@pytest.fixture(scope="module")
def both_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("latent_faces_weights")
    make_tiny_weights(d)
    return make_lively_face_weights(d)


def latent_context(weights_dir):
    """What ``app.load_context`` gives this tab: each name of its REQUIRES and OPTIONAL loaded, or the
    reason it could not be (done here, so that a half-edited other tab cannot break these tests)."""
    from demo.context import AppContext
    from ganmodels import MODELS
    from ganmodels import weights as W

    store = W.WeightStore(weights_dir)
    ctx = AppContext(store=store)
    for name in L.REQUIRES + L.OPTIONAL:
        try:
            ctx.models[name] = MODELS[name](device="cpu", store=store)
        except Exception as e:  # noqa: BLE001 -- as app.load_context: the reason is shown
            ctx.errors[name] = str(e)
    return ctx


@pytest.fixture(scope="module")
def ctx(both_dir):
    c = latent_context(both_dir)
    assert not c.errors, c.errors
    return c


@pytest.fixture(scope="module")
def fm(ctx):
    lm, why = L.prepare_faces(ctx)
    assert why is None and lm is not None
    return lm


@pytest.fixture(scope="module")
def served(ctx):
    with serve_tab(L.build, ctx, "Latent space") as (url, _):
        yield url


def stub_attrs(directions: torch.Tensor, probs: torch.Tensor | None = None) -> FA.FaceAttributes:
    d = directions.shape[1]
    probs = probs if probs is not None else torch.full((5, 40), 0.5)
    z = torch.randn(len(probs), d, generator=torch.Generator().manual_seed(0))
    return FA.FaceAttributes(z=z, probs=probs, directions=directions, counts=torch.zeros(40, dtype=torch.int64))


def fetch_png(url: str, item: dict) -> np.ndarray:
    from PIL import Image

    with urllib.request.urlopen(item["url"], timeout=30) as r:
        return np.asarray(Image.open(io.BytesIO(r.read())).convert("RGB"))


def reading_table(md: str) -> dict[str, tuple[float, float]]:
    """The readings table → {attribute: (picked face, edited face)}."""
    rows = re.findall(r"^\| ([A-Za-z ]+) \| ([0-9.]+) \| ([0-9.]+) ", md, re.M)
    return {name: (float(b), float(a)) for name, b, a in rows}


# ------------------------------------------------------------------ pure functions on stubs


def test_attribute_edit_is_z_plus_alpha_v_and_keep_projects_out_the_others():
    e = torch.eye(6)
    dirs = torch.zeros(40, 6)
    idx = {n: FA.attribute_index(n) for n in LF.SLIDERS}
    dirs[idx["Smiling"]] = 2 * e[0] + e[1]          # Smiling is correlated with Male (e1)
    dirs[idx["Male"]] = e[1]
    dirs[idx["Eyeglasses"]] = e[2]
    dirs[idx["Blond_Hair"]] = e[3] + e[1]
    attrs = stub_attrs(dirs)
    z = torch.randn(6, generator=torch.Generator().manual_seed(3))
    # raw vectors: z + α v_a, and amounts add up
    torch.testing.assert_close(LF.edit_z(attrs, z, {"Smiling": 1.5}, keep=False), z + 1.5 * dirs[idx["Smiling"]])
    torch.testing.assert_close(LF.edit_z(attrs, z, {"Smiling": 1.5, "Male": -2.0}, keep=False),
                               z + 1.5 * dirs[idx["Smiling"]] - 2.0 * dirs[idx["Male"]])
    # keep: Smiling loses its part along span(Male, Eyeglasses, Blond) = span(e1, e2, e3): only 2·e0 is left
    torch.testing.assert_close(LF.edit_z(attrs, z, {"Smiling": 1.5}, keep=True), z + 3.0 * e[0])
    # α = 0 everywhere: z unchanged
    torch.testing.assert_close(LF.edit_z(attrs, z, LF.amounts([0, 0, 0, 0]), keep=True), z)


def test_amounts_are_checked_and_clamped():
    assert LF.amounts([1, "0.5", -9, 3]) == {"Smiling": 1.0, "Eyeglasses": 0.5, "Male": -3.0, "Blond_Hair": 3.0}
    with pytest.raises(InputError, match="Smiling"):
        LF.amounts(["abc", 0, 0, 0])
    with pytest.raises(InputError, match="finite"):
        LF.amounts([0, float("nan"), 0, 0])
    with pytest.raises(InputError, match="one amount per attribute"):
        LF.amounts([0, 0])
    with pytest.raises(InputError, match="true or false"):
        LF.edit_z(stub_attrs(torch.zeros(40, 4)), torch.zeros(4), {}, keep="yes")


def test_presets_pick_the_most_confident_faces_of_each_group():
    probs = torch.full((12, 40), 0.5)
    s, m, g = (FA.attribute_index(n) for n in ("Smiling", "Male", "Eyeglasses"))

    def face(i, smiling, male, glasses=0.5):
        probs[i, s], probs[i, m], probs[i, g] = smiling, male, glasses

    for i, conf in ((2, 0.99), (5, 0.95), (7, 0.9), (9, 0.7)):      # smiling women, most confident first
        face(i, conf, 1 - conf)
    for i in (1, 3, 4):                                              # neutral women
        face(i, 0.02, 0.03)
    for i in (0, 6, 8):                                              # neutral men
        face(i, 0.03, 0.97)
    attrs = stub_attrs(torch.zeros(40, 4), probs)
    a, b, c = LF.preset_groups(attrs, "smiling woman − neutral woman + neutral man")
    assert a == [2, 5, 7]                  # the three most confident, in order; #9 (0.7) left out
    assert sorted(b) == [1, 3, 4] and sorted(c) == [0, 6, 8]
    md = LF.preset_markdown(attrs, "smiling woman − neutral woman + neutral man", (a, b, c))
    assert "expected: a smiling man" in md and "#2 (0.99, 0.01)" in md
    # glasses: no face is picked twice, even where the groups' scores tie
    groups = LF.preset_groups(attrs, "man with glasses − man without + woman without")
    flat = [i for grp in groups for i in grp]
    assert len(flat) == len(set(flat)) == 9
    with pytest.raises(InputError, match="unknown preset"):
        LF.preset_groups(attrs, "cat − dog")


def test_missing_face_parts_are_named():
    assert LF.missing({}, {"faces": "WeightsError: no file"}).startswith("faces: WeightsError")
    assert "face_attributes not loaded" in LF.missing({"faces": 1, "face_classifier": 2})
    assert set(LF.NEEDS) <= set(L.OPTIONAL)


def test_zero_vectors_of_the_stock_tiny_weights_do_not_crash(face_weights):
    """The stock tiny face weights read every face alike, so their attribute vectors are zero: an edit is
    then a no-op, not an error."""
    from ganmodels.models import face_classifier as FC
    from ganmodels.models import faces

    gan, attrs = faces.load(face_weights), FA.load(face_weights)
    assert float(attrs.directions.norm()) == 0.0
    lm = L.LatentModel(gan, np.eye(L.N_PCS, gan.z_dim, dtype=np.float32), np.full(L.N_PCS, 0.1),
                       FC.load(face_weights), kind="faces", look=L.FACES, attrs=attrs)
    a = L.face_edit(lm, 0, 1, 1.0, *[0] * (L.N_PCS + L.N_RAW), 3, 3, 3, 3, True)
    b = L.face_edit(lm, 0, 1, 1.0, *[0] * (L.N_PCS + L.N_RAW), 0, 0, 0, 0, True)
    np.testing.assert_array_equal(a[0], b[0])


# ------------------------------------------------------------------ the face model in the tab's functions


def test_face_ganspace_grid_and_click(fm):
    assert fm.directions.shape == (L.N_PCS, 16)
    np.testing.assert_allclose(np.linalg.norm(fm.directions, axis=1), 1, rtol=1e-5)
    assert np.all(np.diff(fm.explained) <= 1e-9)
    h = LF.first_feature_map(fm.gan.G, torch.zeros(3, 16))
    assert h.shape == (3, 8 * 4 * 4 * 4)                    # (B, 8ngf · 4 · 4) with ngf = 4
    g = L.sample_grid(fm, 0, 1.0)
    assert g.shape == (8 * 66 + 2, 8 * 66 + 2, 3) and g.dtype == np.uint8
    assert fm.cell == 66
    assert L.grid_index_from_click(2 + 3 * 66 + 30, 2 + 6 * 66 + 30, cell=fm.cell) == 51
    # the cell at row 6, col 3 is sample 51, drawn at 1× (in one batch, as the grid is: bfloat16 where it pays)
    expected = L.render(fm, L.seed_z(fm, 0), batched=True)[51]
    np.testing.assert_array_equal(g[2 + 6 * 66:2 + 6 * 66 + 64, 2 + 3 * 66:2 + 3 * 66 + 64], expected)


def test_face_edit_moves_along_the_attribute_vector(fm):
    base = [*[0] * L.N_PCS, *L.raw_values(fm, 0, 3)]
    img0, info, md0 = L.face_edit(fm, 0, 3, 1.0, *base, 0, 0, 0, 0, True)
    img1, _, md1 = L.face_edit(fm, 0, 3, 1.0, *base, 2.5, 0, 0, 0, False)
    assert img0.shape == (256, 256, 3) and img0.dtype == np.uint8
    assert "‖z‖" in info and "D(G(z))" not in info         # a face's D pass would double a move's cost
    # the edited face is G(z + 2.5 v_Smiling), enlarged 4× (nearest)
    z0 = L.edit_z(fm, 0, 3, 1.0, base[:L.N_PCS], base[L.N_PCS:])   # the picked z (raw sliders as sent)
    z = z0 + 2.5 * fm.attrs.directions[FA.attribute_index("Smiling")]
    np.testing.assert_array_equal(img1[::4, ::4], L.render(fm, z[None])[0])
    assert not np.array_equal(img0, img1)
    r0, r1 = reading_table(md0), reading_table(md1)
    assert list(r0) == ["Smiling", "Eyeglasses", "Male", "Blond Hair"]
    assert all(b == a for b, a in r0.values())               # no edit: picked = edited
    assert r1["Smiling"][0] == r0["Smiling"][0]              # the picked face's reading is unchanged
    assert r1["Smiling"][1] != r1["Smiling"][0]              # the edited face reads differently
    assert "classifier's P(attribute), 0–1" in md0
    # keep the other attributes: another vector, another face
    img2 = L.face_edit(fm, 0, 3, 1.0, *base, 2.5, 0, 0, 0, True)[0]
    assert not np.array_equal(img1, img2)


def test_a_drag_costs_one_generator_pass(fm, monkeypatch):
    """The picked face's reading is kept: moving a direction or an attribute draws one face and reads it
    once; picking another face reads that one once more."""
    calls = []
    generate = fm.gan.generate
    monkeypatch.setattr(fm.gan, "generate", lambda z: calls.append(len(z)) or generate(z))
    fm.readings.clear()
    raws = L.raw_values(fm, 0, 5)
    for k, (pc, alpha) in enumerate([(0.0, 1.0), (0.5, 1.0), (0.6, -2.0), (0.7, 0.3)]):
        img, _, md = L.face_edit(fm, 0, 5, 0.9, pc, *[0] * (L.N_PCS - 1), *raws, alpha, 0, 0.5, 0, True)
        assert calls == ([1, 1] if k == 0 else [1]), calls      # the first move also reads the picked face
        calls.clear()
    assert len(fm.readings) == 1
    L.face_edit(fm, 0, 6, 0.9, *[0] * L.N_PCS, *L.raw_values(fm, 0, 6), 1.0, 0, 0, 0, True)
    assert calls == [1, 1] and len(fm.readings) == 2


def test_face_interpolation_and_gif(fm):
    from PIL import Image

    strip, gif, table = L.interpolate(fm, 1, 2, 5, "slerp")
    assert strip.shape == (2 + 128 + 2, 5 * 130 + 2, 3)
    with Image.open(gif) as im:
        assert im.n_frames == 5 + 3 and im.size == (192, 192)        # there and back, 64 px at 3×
        first = np.asarray(im.convert("RGB"))
        im.seek(4)
        last = np.asarray(im.convert("RGB"))
    assert first.shape == (192, 192, 3) and not np.array_equal(first, last)
    assert set(table["path"]) == {"lerp", "slerp", "√d (typical ‖z‖)"}


def test_face_arithmetic_on_the_classified_pool(fm):
    inputs, result, pixel, md = L.face_arithmetic(fm, "0, 1, 2", "3", "4, 5", 0)
    zs = fm.attrs.z
    z = zs[[0, 1, 2]].mean(0) - zs[3] + zs[[4, 5]].mean(0)
    centre = 3 + (128 + 3)                                   # grid pad 3, cells of 64·2 px
    np.testing.assert_array_equal(result[centre:centre + 128:2, centre:centre + 128:2], L.render(fm, z[None])[0])
    # the pixel contrast: the same sum on the rendered faces, enlarged 3×
    pix = [L.render(fm, zs[g]).astype(np.float32).mean(0) for g in ([0, 1, 2], [3], [4, 5])]
    np.testing.assert_array_equal(pixel[::3, ::3], np.clip(pix[0] - pix[1] + pix[2], 0, 255).astype(np.uint8))
    assert inputs.shape == (3 + 3 * (128 + 3), 3 + 3 * (128 + 3), 3)
    assert md.startswith("**The result's reading**") and "Blond Hair" in md
    with pytest.raises(InputError, match="0 to 199"):
        L.face_arithmetic(fm, "0, 500", "3", "4", 0.25)
    with pytest.raises(InputError, match="at most 64"):
        L.face_arithmetic(fm, ", ".join(map(str, range(100))), "3", "4", 0.25)


def test_face_preset_groups_are_the_classifiers_most_confident(fm):
    a, b, c, md = L.face_preset(fm, "man with glasses − man without + woman without")
    groups = [[int(i) for i in g.split(",")] for g in (a, b, c)]
    p = fm.attrs.probs
    male, glasses = FA.attribute_index("Male"), FA.attribute_index("Eyeglasses")
    score_a = p[:, male] * p[:, glasses]
    assert sorted(groups[0]) == sorted(score_a.argsort(descending=True)[:3].tolist())
    assert all(p[i, male] > 0.5 and p[i, glasses] > 0.5 for i in groups[0])
    assert all(p[i, male] < 0.5 and p[i, glasses] < 0.5 for i in groups[2])
    assert "expected: a woman with glasses" in md


# ------------------------------------------------------------------ the tab through its HTTP API


FACE_APIS = {"latent_faces_edit", "latent_faces_pick", "latent_faces_grid", "latent_faces_interpolate",
             "latent_faces_arithmetic", "latent_faces_preset"}


def face_edit_args(alpha=0.0, keep=True, **kw):
    args = list(L.FACE_LATENCY_ENDPOINTS["latent_faces_edit"])
    args[3:3 + L.N_PCS] = [0] * L.N_PCS
    args[13:17] = [alpha, 0, 0, 0]
    args[17] = keep
    for i, v in kw.items():
        args[int(i[1:])] = v
    return args


def test_api_lists_both_models_endpoints(served):
    from bench import classroom as B

    eps = B.endpoints(served)
    assert FACE_APIS <= set(eps)
    assert {"latent_edit", "latent_pick", "latent_grid", "latent_interpolate", "latent_arithmetic"} <= set(eps)
    assert {"latent_faces_edit", "latent_faces_pick", "latent_faces_grid"} <= B.direct_endpoints(served)
    assert "latent_faces_interpolate" not in B.direct_endpoints(served)     # slow work stays queued


def test_api_face_slider_changes_the_picture_and_the_reading(served):
    status, out0 = api_call(served, "latent_faces_edit", face_edit_args(0.0))
    assert status == 200, out0
    status, out1 = api_call(served, "latent_faces_edit", face_edit_args(3.0))
    assert status == 200, out1
    a, b = fetch_png(served, out0["data"][0]), fetch_png(served, out1["data"][0])
    assert a.shape == (256, 256, 3) and not np.array_equal(a, b)
    r0, r1 = reading_table(out0["data"][2]), reading_table(out1["data"][2])
    assert r1["Smiling"][0] == r0["Smiling"][1]              # picked face (α = 0) = the first call's face
    assert r1["Smiling"][1] != r1["Smiling"][0]
    # the digits' editor is untouched
    status, out = api_call(served, "latent_edit", L.LATENCY_ENDPOINTS["latent_edit"])
    assert status == 200 and fetch_png(served, out["data"][0]).shape[:2] == (112, 112)


def test_api_face_grid_interpolation_preset_arithmetic(served):
    status, out = api_call(served, "latent_faces_grid", [7, 1.0])
    assert status == 200 and fetch_png(served, out["data"][0]).shape == (530, 530, 3)
    status, out = api_call(served, "latent_faces_pick", [0, 9])
    assert status == 200 and len(out["data"]) == L.N_PCS + L.N_RAW
    status, out = api_call(served, "latent_faces_interpolate", [1, 2, 4, "lerp", 1.0])
    assert status == 200, out
    assert out["data"][1]["url"].endswith(".gif")
    status, out = api_call(served, "latent_faces_preset", ["smiling woman − neutral woman + neutral man"])
    assert status == 200, out
    ga, gb, gc, md = out["data"]
    assert len(ga.split(",")) == 3 and "A: Smiling, not Male" in md
    status, out = api_call(served, "latent_faces_arithmetic", [ga, gb, gc, 0.25])
    assert status == 200, out
    rows = fetch_png(served, out["data"][0])
    assert rows.shape == (3 + 3 * 131, 3 + 3 * 131, 3)       # the three samples of each group, in rows
    assert "result's reading" in out["data"][3]


@pytest.mark.parametrize("api, args, message", [
    ("latent_faces_edit", face_edit_args("abc"), "must be a number"),
    ("latent_faces_edit", face_edit_args(7.0), "maximum"),
    ("latent_faces_edit", face_edit_args(0.0, keep="yes"), "true or false"),
    ("latent_faces_edit", face_edit_args(0.0, i0=-5), "minimum"),
    ("latent_faces_arithmetic", ["1, 2", "x", "4", 0.25], "Group B"),
    ("latent_faces_arithmetic", ["1, 2", "9999", "4", 0.25], "0 to 199"),
    ("latent_faces_preset", ["a cat"], "choices"),
])
def test_api_bad_face_input_gives_a_message(served, api, args, message):
    status, out = api_call(served, api, args)
    assert status != 200 and message in (out.get("error") or ""), out
    assert api_call(served, "latent_faces_edit", face_edit_args(1.0))[0] == 200     # still answers


def test_fuzz_face_endpoints(served):
    """The classroom fuzz (hostile values for every input) on the face endpoints: no server error."""
    from bench import classroom as B
    from tests.test_classroom import fuzz_all

    eps = {n: c for n, c in B.endpoints(served).items() if n.startswith("latent_faces_")}
    tried = fuzz_all(served, eps, 4)
    assert sum(v for k, v in tried.items() if k != "_answers") >= len(eps) * 2


def test_digits_only_app_works_and_says_faces_are_missing(tiny_weights):
    """Without face weights the tab is today's digit tab; the switch says why there are no faces."""
    from bench import classroom as B

    ctx = latent_context(tiny_weights)
    assert "faces" in ctx.errors and "faces" not in ctx.models and "dcgan" in ctx.models
    with serve_tab(L.build, ctx, "Latent space") as (url, _):
        eps = B.endpoints(url)
        assert not {n for n in eps if n.startswith("latent_faces")}
        status, out = api_call(url, "latent_edit", L.LATENCY_ENDPOINTS["latent_edit"])
        assert status == 200 and "D(G(z))" in out["data"][1]
        assert api_call(url, "latent_arithmetic", [0, "0, 1, 2", "3", "4", 0.25])[0] == 200
        assert api_call(url, "latent_faces_edit", face_edit_args())[0] != 200
        with urllib.request.urlopen(f"{url}/config", timeout=30) as r:
            cfg = json.loads(r.read())
        switch = next(c for c in cfg["components"] if c.get("props", {}).get("elem_id") == "latent-model")
        assert switch["props"]["interactive"] is False
        assert "Faces are not loaded" in switch["props"]["info"] and "weight file not found" in switch["props"]["info"]


def test_labels_say_the_licence_the_formula_and_alpha(served):
    with urllib.request.urlopen(f"{served}/config", timeout=30) as r:
        text = json.dumps(json.loads(r.read()), ensure_ascii=False)
    assert "non-commercial research and teaching only" in text and "never images" in text
    assert r"v_a = \\overline{z}_{\\text{has } a} - \\overline{z}_{\\text{lacks } a}" in text
    assert "Radford et al. 2016, §6.3" in text and "α is in units of" in text
    assert LF.KEEP_LABEL in text and LF.READING_UNITS in text


# ------------------------------------------------------------------ a real browser


@pytest.mark.browser
def test_browser_switch_to_faces_and_drag_an_attribute(served, browser):
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)
    page.goto(served, wait_until="domcontentloaded")
    page.locator("#latent-out img").first.wait_for(timeout=60_000)        # the digits are shown first
    assert not page.locator("#latent-faces-out").first.is_visible()
    page.locator("#latent-model label").filter(has_text="Faces").first.click()
    img = page.locator("#latent-faces-out img").first
    img.wait_for(state="visible", timeout=60_000)
    assert not page.locator("#latent-out").first.is_visible()
    before = img.get_attribute("src")
    slider = page.locator("#latent-faces-attr-Smiling input[type=range]").first
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.97, y, steps=8)
    page.mouse.up()
    page.wait_for_function("(b) => { const i = document.querySelector('#latent-faces-out img'); "
                           "return i && i.src !== b; }", arg=before, timeout=60_000)
    assert float(slider.input_value()) > 2.0
    assert img.get_attribute("src") != before
    page.close()
