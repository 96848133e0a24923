"""The Latent-space tab: pure functions, its HTTP API, bad input, and a real browser."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import demo.latent as L
from demo.common import InputError
from ganmodels.models import dcgan
from tests.conftest import api_call


@pytest.fixture(scope="module")
def lm(tiny_weights):
    from demo.context import AppContext

    return L.prepare(AppContext(models={"dcgan": dcgan.load(tiny_weights)}))


def test_ganspace_directions_are_unit_and_distinct(lm):
    V = lm.directions
    assert V.shape == (L.N_PCS, lm.z_dim)
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1, rtol=1e-5)
    assert np.all(np.diff(lm.explained) <= 1e-9)  # sorted by explained variance


def test_edit_moves_along_direction(lm):
    z0 = L.edit_z(lm, 0, 3, 1.0, [0] * L.N_PCS, L.raw_values(lm, 0, 3))
    z1 = L.edit_z(lm, 0, 3, 1.0, [2.0] + [0] * (L.N_PCS - 1), L.raw_values(lm, 0, 3))
    torch.testing.assert_close(z1 - z0, 2.0 * torch.from_numpy(lm.directions[0]), atol=1e-3, rtol=0)
    img, info = L.edit(lm, 0, 3, 1.0, 2.0, *([0] * (L.N_PCS - 1)), *L.raw_values(lm, 0, 3))
    assert img.shape == (28 * L.SCALE, 28 * L.SCALE) and img.dtype == np.uint8
    assert "‖z‖" in info and "D(G(z))" in info


def test_slerp_keeps_norm_lerp_shrinks():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(100, generator=g), torch.randn(100, generator=g)
    b = b / b.norm() * a.norm()
    t = torch.linspace(0, 1, 11)
    s, l_ = L.slerp(a, b, t), L.lerp(a, b, t)
    torch.testing.assert_close(s[0], a)
    torch.testing.assert_close(s[-1], b, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(s.norm(dim=1), torch.full((11,), float(a.norm())), atol=1e-3, rtol=1e-3)
    assert l_[5].norm() < 0.8 * a.norm()


def test_interpolation_outputs(lm, tmp_path):
    strip, gif, fig = L.interpolate(lm, 1, 2, 6, "lerp")
    assert strip.shape[1] > strip.shape[0] * 4
    from PIL import Image
    with Image.open(gif) as im:
        assert im.n_frames == 6 + 4  # there and back
    lengths = fig.pivot(index="t", columns="path", values="‖z_t‖")
    assert (lengths["lerp"] <= lengths["slerp"] + 1e-4).all()          # lerp's path is shorter than slerp's
    assert lengths["lerp"].iloc[25] < lengths["slerp"].iloc[25]


def test_arithmetic_is_mean_combination(lm):
    inputs, result, pixel = L.arithmetic(lm, 0, "0, 1, 2", "3", "4, 5", noise=0)
    # with no noise all 9 cells show the same image: G(z̄_A − z̄_B + z̄_C)
    zs = L.seed_z(lm, 0, L.POOL)
    z = zs[[0, 1, 2]].mean(0) - zs[3] + zs[[4, 5]].mean(0)
    expected = L.render(lm, z[None])[0]
    np.testing.assert_array_equal(result[3:3 + 28 * 4:4, 3:3 + 28 * 4:4], expected)


def test_arithmetic_noise_is_uniform_and_bounded():
    """Issue 34 #3: the 3×3 grid's noise is uniform in [−0.25, 0.25] (Radford et al.), not N(0, 0.25²)."""
    z = torch.randn(100, generator=torch.Generator().manual_seed(1))
    neigh = L.arithmetic_neighbours(z, 0.25, seed=0)
    assert neigh.shape == (9, 100)
    torch.testing.assert_close(neigh[4], z)
    u = torch.cat([neigh[:4], neigh[5:]]) - z          # 8 × 100 offsets
    assert u.abs().max() <= 0.25 + 1e-6                  # bounded (σ = 0.25 Gaussian would exceed it)
    assert u.abs().max() > 0.24                          # and fills the interval
    # uniform on [−a, a] has std a/√3 ≈ 0.144 (a Gaussian with σ = 0.25 would give ≈ 0.25)
    assert abs(u.std().item() - 0.25 / 3 ** 0.5) < 0.015
    assert abs(u.mean().item()) < 0.02
    # the noise is the same each call (fixed seed), and scales with the bound
    torch.testing.assert_close(L.arithmetic_neighbours(z, 0.25), neigh)
    assert (L.arithmetic_neighbours(z, 0.1) - z).abs().max() <= 0.1 + 1e-6


@pytest.mark.parametrize("bad", ["abc", "1.5", float("nan"), -3, 2**40])
def test_bad_seeds_are_clear_errors(lm, bad):
    with pytest.raises(InputError, match="Seed"):
        L.sample_grid(lm, bad)


def test_bad_groups(lm):
    with pytest.raises(InputError, match="separated by commas"):
        L.arithmetic(lm, 0, "one, two", "3", "4")
    with pytest.raises(InputError, match="0 to 511"):
        L.arithmetic(lm, 0, "999", "3", "4")


def test_out_of_range_slider_values_are_clamped(lm):
    a = L.edit(lm, 0, 1, 50.0, *([0] * L.N_PCS), *([0] * L.N_RAW))[0]
    b = L.edit(lm, 0, 1, 2.0, *([0] * L.N_PCS), *([0] * L.N_RAW))[0]
    np.testing.assert_array_equal(a, b)  # ψ clamped to its maximum, 2


def test_click_maps_to_grid_index(lm):
    cell, pad = 28 * L.GRID_SCALE + L.GRID_PAD, L.GRID_PAD
    g = L.sample_grid(lm, 0, 1.0)
    assert g.shape == (8 * cell + pad, 8 * cell + pad)
    assert L.grid_index_from_click(2, 2) == 0
    assert L.grid_index_from_click(pad + 2 * cell + 10, pad + 5 * cell + 10) == 42
    assert L.grid_index_from_click(g.shape[1] - 1, g.shape[0] - 1) == 63
    assert L.grid_index_from_click(10_000, 10_000) == 63


# ------------------------------------------------------------------ through the app's HTTP API


def test_api_latent_edit(served_app):
    url, _, _ = served_app
    status, out = api_call(url, "latent_edit", L.LATENCY_ENDPOINTS["latent_edit"])
    assert status == 200, out
    assert out["data"][0]["url"].endswith(".png")
    assert "D(G(z))" in out["data"][1]


def test_api_bad_input_gives_message_not_crash(served_app):
    url, _, _ = served_app
    status, out = api_call(url, "latent_edit", ["not a seed", 5, 1.0] + [0] * (L.N_PCS + L.N_RAW))
    assert status != 200 and "must be a number" in (out.get("error") or "")
    status, out = api_call(url, "latent_edit", [1.5, 5, 1.0] + [0] * (L.N_PCS + L.N_RAW))
    assert status != 200 and "whole number" in (out.get("error") or "")
    status, out = api_call(url, "latent_edit", [0, 5, 99.0] + [0] * (L.N_PCS + L.N_RAW))
    assert status != 200 and "maximum" in (out.get("error") or "")
    status, out = api_call(url, "latent_arithmetic", [0, "1,2", "x", "4", 0.25])
    assert status != 200 and "Group B" in (out.get("error") or "")
    # the app still answers afterwards
    assert api_call(url, "latent_edit", L.LATENCY_ENDPOINTS["latent_edit"])[0] == 200


def test_api_interpolate_and_grid(served_app):
    url, _, _ = served_app
    status, out = api_call(url, "latent_interpolate", [1, 2, 5, "slerp", 1.0])
    assert status == 200, out
    assert out["data"][1]["url"].endswith(".gif")
    status, out = api_call(url, "latent_grid", [7, 1.0])
    assert status == 200, out


def test_app_starts_with_broken_weights(tiny_weights, tmp_path):
    """A corrupt DCGAN file disables its tabs with a message; the app still builds."""
    import shutil

    import app as app_module

    d = tmp_path / "w"
    shutil.copytree(tiny_weights, d)
    (d / dcgan.FILES["G"]).write_bytes(b"garbage")
    ctx = app_module.load_context(d, "cpu")
    assert "dcgan" in ctx.errors and "dcgan" not in ctx.models
    assert "classifier" in ctx.models
    demo = app_module.build_app(ctx)
    md = [b for b in demo.blocks.values() if type(b).__name__ == "Markdown" and "not available" in str(b.value)]
    assert md, "the latent tab must explain why it is unavailable"


# ------------------------------------------------------------------ a real browser


def _open_image(browser, url, selector):
    """A new page on the app, once the image under ``selector`` has loaded: (page, image, its src)."""
    page = browser.new_page()
    page.set_default_timeout(120_000)
    page.goto(url, wait_until="domcontentloaded")
    img = page.locator(f"{selector} img").first
    img.wait_for(timeout=60_000)
    return page, img, img.get_attribute("src")


def _wait_new_src(page, selector, before):
    page.wait_for_function("([s, b]) => { const i = document.querySelector(s + ' img'); return i && i.src !== b; }",
                           arg=[selector, before], timeout=60_000)


@pytest.mark.browser
def test_browser_drag_slider_changes_image(served_app, browser):
    url, _, _ = served_app
    page, img, before = _open_image(browser, url, "#latent-out")
    slider = page.locator("#latent-pc1 input[type=range]").first
    slider.scroll_into_view_if_needed()     # the mouse can only drag what is inside the viewport
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.95, y, steps=8)
    page.mouse.up()
    _wait_new_src(page, "#latent-out", before)
    assert float(slider.input_value()) > 1.0
    assert img.get_attribute("src") != before
    page.close()


@pytest.mark.browser
def test_browser_typed_z_scale_redraws_the_grid(served_app, browser):
    """A ψ typed into the slider's number box (no drag, so no .release) redraws the 8×8 grid too."""
    url, _, _ = served_app
    page, grid, before = _open_image(browser, url, "#latent-grid")
    box = page.locator("input[type=number][aria-label*='z scale']").first
    box.scroll_into_view_if_needed()
    box.fill("0.3")
    box.press("Enter")
    _wait_new_src(page, "#latent-grid", before)
    assert grid.get_attribute("src") != before
    page.close()


@pytest.mark.browser
def test_browser_click_on_the_grid_picks_that_sample(served_app, browser):
    """A click on a cell of the 8×8 grid selects that sample (Gradio reports the click in the
    image's own pixels, which is right only while the grid is not shown larger than it is)."""
    url, _, _ = served_app
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)
    page.goto(url, wait_until="domcontentloaded")
    img = page.locator("#latent-grid img").first
    img.wait_for(timeout=60_000)
    index = page.locator("input[type=number][aria-label*='Sample being edited']").first
    for row, col in [(2, 5), (7, 7), (5, 1)]:
        box = img.bounding_box()
        page.mouse.click(box["x"] + box["width"] * (col + 0.5) / 8, box["y"] + box["height"] * (row + 0.5) / 8)
        page.wait_for_function("(v) => { const i = [...document.querySelectorAll('input[type=number]')]"
                               ".find(e => (e.getAttribute('aria-label') || '').includes('Sample being edited'));"
                               " return i && i.value === String(v); }", arg=row * 8 + col, timeout=60_000)
        assert index.input_value() == str(row * 8 + col)
    page.close()


def test_preset_groups_reads_the_pool_once_and_in_order(lm, monkeypatch):
    """bold a − thin a + thin b: the groups hold confident samples of the asked digits, thick before
    thin; the pool is read 128 samples at a time, only as far as needed, and cached — also when
    many students ask at once (no chunk read twice)."""
    import threading

    import ganmodels.models.classifier as C

    calls = []

    def fake_predict(net, imgs):                 # sample i of a chunk "is" digit (i mod 10), confident
        if threading.current_thread() in threads:  # not a late request of an earlier test's app
            calls.append(len(imgs))
        probs = np.full((len(imgs), 10), 0.005, np.float32)
        probs[np.arange(len(imgs)), np.arange(len(imgs)) % 10] = 0.955
        return probs, None

    monkeypatch.setattr(C, "predict", fake_predict)
    monkeypatch.setattr(lm, "classifier", object())
    lm.pool.clear()
    out = []
    threads = [threading.Thread(target=lambda: out.append(L.preset_groups(lm, 7, 3, 5))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [L.POOL_CHUNK]               # 12 threes and fives in the first 128: one chunk read, once
    assert len(set(out)) == 1
    bold, thin, other = ([int(i) for i in g.split(",")] for g in out[0])
    assert all(i % 10 == 3 for i in bold + thin) and all(i % 10 == 5 for i in other)
    pred, conf, ink = L.pool_reading(lm, 7, 0)
    assert min(ink[bold]) >= max(ink[thin])


def test_batched_render_in_bf16_matches_float32(lm):
    """The grid and the pool may be drawn under bfloat16 (where measured faster): the digits must be
    the same to the eye — on average within one grey level of float32."""
    z = L.seed_z(lm, 3)
    ref = L.render(lm, z).astype(int)
    fast = dataclasses.replace(lm, bf16_g=True)
    out = L.render(fast, z, batched=True).astype(int)
    assert out.shape == ref.shape and out.dtype == ref.dtype
    assert np.abs(out - ref).mean() < 1.0
    # single renders (a slider move) stay float32 whatever was measured
    np.testing.assert_array_equal(L.render(fast, z[:1]), ref[:1])


def test_gif_of_grey_frames_keeps_every_pixel(tmp_path):
    from PIL import Image

    from ganmodels.imageio import write_gif
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (20, 30), dtype=np.uint8) for _ in range(4)]
    path = str(write_gif(frames, tmp_path / "a.gif", 50))
    with Image.open(path) as im:
        assert im.n_frames == len(frames)
        for k, f in enumerate(frames):
            im.seek(k)
            np.testing.assert_array_equal(np.asarray(im.convert("L")), f)


def test_explain_names_the_departures_from_dcgan_and_the_z_scale():
    """Issue 34 #8, #12: the tab says the shipped DCGAN adds a mapping MLP (against the paper's guideline),
    R1 and an EMA of G; and calls ψ what it is: a scale of z, not BigGAN's truncation trick."""
    text = L.EXPLAIN
    assert "mapping MLP" in text and "guideline" in text and "R1" in text and "EMA" in text
    assert "z scale" in text and "BigGAN" in text and "Truncation" not in text
    assert L.Z_SCALE_LABEL.startswith("z scale ψ") and "not BigGAN's resampling" in L.Z_SCALE_LABEL
    assert "uniform noise in $[-0.25, 0.25]$" in text
