"""CycleGAN: networks, objective, history pool, tiling, input checks, CLI, tab (API + browser).

Everything runs on tiny seeded nets saved to tmp dirs; nothing reads ../shared.
"""
from __future__ import annotations

import dataclasses
import json
import urllib.request

import numpy as np
import pytest
import torch
from PIL import Image

from ganmodels import imageio
from ganmodels import weights as W
from ganmodels.errors import DataError, InputError
from ganmodels.inference import tiling
from ganmodels.inference.cyclegan import run_net, translate
from ganmodels.models import cyclegan as C
from ganmodels.models import monet_judge as J
from ganmodels.recipes import cyclegan as R
from ganmodels.training.loop import linear_decay, train_loop
from tests.conftest import CYCLEGAN_TINY, serve_tab
from tests.conftest import tiny_cyclegan_nets as tiny_nets

TINY = C.CycleGANConfig(**CYCLEGAN_TINY)


def photo(h=120, w=160) -> np.ndarray:
    from skimage import data as skd
    img = Image.fromarray(skd.chelsea()).resize((w, h), Image.BICUBIC)
    return np.asarray(img)


@pytest.fixture(scope="module")
def tiny_model(cyclegan_weights):
    return C.load(cyclegan_weights, "cpu")


# ------------------------------------------------------------------ networks


def test_generator_keeps_shape_and_range():
    G, F, _, _ = tiny_nets()
    x = torch.rand(2, 3, 64, 48) * 2 - 1
    y = G(x)
    assert y.shape == x.shape
    assert y.abs().max() <= 1.0
    assert F(y).shape == x.shape


def test_generator_layout_matches_paper():
    cfg = C.CycleGANConfig(ngf=8, n_blocks=5)
    G = C.ResnetGenerator(cfg)
    assert sum(isinstance(m, C.ResnetBlock) for m in G.modules()) == 5
    assert isinstance(G.net[0], torch.nn.ReflectionPad2d)
    assert any(isinstance(m, C.InstanceNorm) for m in G.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in G.modules())
    assert G.net[1].out_channels == 8 and G.net[7].out_channels == 32  # c7s1-k … d4k


def test_resize_upsampling_option_keeps_shapes_and_survives_a_save(tmp_path):
    """upsample="resize" (nearest 2× + conv, no checkerboard) instead of the paper's transposed convs;
    the choice is part of the config in the file's metadata."""
    cfg = C.CycleGANConfig(ngf=4, n_blocks=2, ndf=8, upsample="resize")
    G = C.ResnetGenerator(cfg).eval()
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in G.modules())
    assert sum(isinstance(m, torch.nn.Upsample) for m in G.modules()) == 2
    x = torch.rand(1, 3, 40, 56) * 2 - 1
    assert G(x).shape == x.shape
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in C.ResnetGenerator(TINY).modules())
    with pytest.raises(ValueError, match="upsample"):
        C.ResnetGenerator(C.CycleGANConfig(upsample="bilinear-ish"))
    path = tmp_path / "g.safetensors"
    W.save_network(G, path, family="cyclegan", network="G_photo2monet", config=cfg)
    G2, cfg2, _ = W.load_network(path, C.ResnetGenerator, C.CycleGANConfig, family="cyclegan",
                                 network="G_photo2monet")
    assert cfg2.upsample == "resize"
    with torch.no_grad():
        assert torch.allclose(G2(x), G(x))


def test_colour_skip_gives_g_back_the_colours_instance_norm_hides(tmp_path):
    """The paper's G is blind to a per-channel colour offset and to contrast (instance norm after
    its first conv): G(a·x + c) = G(x). With colour_skip it starts as the same function (the skip's
    weights are zero) and, once they are not, sees both; the option survives a save, tiles match
    the whole image (the skip uses the whole image's statistics), and widening keeps it."""
    torch.manual_seed(0)
    plain = C.ResnetGenerator(TINY).eval()
    x = torch.rand(1, 3, 32, 40) * 1.2 - 0.6
    c = torch.tensor([0.2, -0.1, 0.05]).view(1, 3, 1, 1)
    with torch.no_grad():
        assert torch.allclose(plain(x), plain(x + c), atol=1e-4)
        assert torch.allclose(plain(x), plain(1.3 * x), atol=1e-4)
    cfg = C.CycleGANConfig(ngf=4, n_blocks=2, ndf=8, colour_skip=True)
    G = C.ResnetGenerator(cfg).eval()
    missing, unexpected = G.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("skip.") for k in missing)
    with torch.no_grad():
        assert torch.allclose(G(x), plain(x), atol=1e-6)          # zero skip: the paper's G
        torch.nn.init.normal_(G.skip.shift.weight, 0, 0.5)
        torch.nn.init.normal_(G.skip.scale.weight, 0, 0.5)
        assert (G(x) - G(x + c)).abs().max() > 0.01
        assert (G(x) - G(1.3 * x)).abs().max() > 0.01
    path = tmp_path / "g.safetensors"
    W.save_network(G, path, family="cyclegan", network="G_photo2monet", config=cfg)
    G2, cfg2, _ = W.load_network(path, C.ResnetGenerator, C.CycleGANConfig, family="cyclegan",
                                 network="G_photo2monet")
    assert cfg2.colour_skip
    with torch.no_grad():
        assert torch.allclose(G2(x), G(x))
        img = imageio.image_to_tensor(photo(120, 150))
        full, tiled = run_net(G, img, tile=2048), run_net(G, img, tile=96, overlap=48)
        assert (full - tiled).abs()[..., 8:-8, 8:-8].max() < 0.03
        wide = C.widen_generator(G, 8, noise=0).eval()
        assert wide.skip is not None and torch.allclose(wide(x), G(x), atol=1e-5)
    assert G.skip.mode == "normal" and G.skip.stats is None


def test_patchgan_is_70x70_and_outputs_a_map():
    cfg = C.CycleGANConfig(ndf=8)
    assert C.receptive_field(cfg) == 70
    D = C.PatchDiscriminator(cfg)
    out = D(torch.zeros(3, 3, 128, 96))
    assert out.shape == (3, 1, 128 // 8 - 2, 96 // 8 - 2)


def test_multiscale_discriminator_judges_pooled_copies():
    cfg = C.CycleGANConfig(ndf=8, d_scales=3)
    assert isinstance(C.make_discriminator(C.CycleGANConfig(ndf=8)), C.PatchDiscriminator)   # the paper's
    torch.manual_seed(0)
    D = C.make_discriminator(cfg)
    assert isinstance(D, C.MultiScaleDiscriminator) and len(D.scales) == 3
    x = torch.rand(2, 3, 160, 128) * 2 - 1
    outs = D(x)
    # 160 → 80 → 40 rows: each PatchGAN's map is (size/8 − 2); the coarsest sees the whole crop
    assert [tuple(o.shape) for o in outs] == [(2, 1, 18, 14), (2, 1, 8, 6), (2, 1, 3, 2)]
    # scale i is the plain PatchGAN on the input pooled i times
    pooled = torch.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    assert torch.allclose(outs[1], D.scales[1](pooled), atol=1e-6)
    # LSGAN's loss on a list is the sum over scales (pix2pixHD)
    assert C.mse_to(outs, 1.0).item() == pytest.approx(sum(C.mse_to(o, 1.0).item() for o in outs), rel=1e-5)
    assert C.mean_score(outs) == pytest.approx(np.mean([o.mean().item() for o in outs]), rel=1e-5)
    with pytest.raises(ValueError, match="d_scales"):
        C.make_discriminator(C.CycleGANConfig(d_scales=0))


def test_multiscale_training_step_and_discriminator_checkpoint(tmp_path):
    cfg = C.CycleGANConfig(ngf=4, n_blocks=2, ndf=8, d_scales=2)
    torch.manual_seed(0)
    G, F = C.ResnetGenerator(cfg), C.ResnetGenerator(cfg)
    D_Y, D_X = C.make_discriminator(cfg), C.make_discriminator(cfg)
    obj = C.CycleGANObjective(G, F, D_Y, D_X, pool_size=2)
    opt_g = torch.optim.Adam(list(G.parameters()) + list(F.parameters()), 2e-4)
    opt_d = torch.optim.Adam(list(D_Y.parameters()) + list(D_X.parameters()), 2e-4)
    coarse = [p.clone() for p in D_Y.scales[1].parameters()]
    X = (np.random.default_rng(0).random((4, 64, 64, 3)) * 255).astype(np.uint8)
    data = R.paired_stream(R.crops(X, 48, 2, 0), R.crops(X[::-1].copy(), 48, 2, 1), "cpu")
    logs = {}
    train_loop(obj, data, {"G": opt_g, "D": opt_d}, steps=2, on_step=lambda s, l: logs.update(l))
    assert all(np.isfinite(logs[k]) for k in ("D_Y", "D_X", "D_Y_real", "G_adv", "g_loss"))
    assert any(not torch.equal(a, b) for a, b in zip(coarse, D_Y.scales[1].parameters()))  # the coarse D learns
    # a continuation's --init-d-from loads multi-scale discriminators from a run's checkpoint
    W.save_checkpoint(tmp_path / "checkpoint.safetensors", modules={"D_Y": D_Y, "D_X": D_X},
                      optimizers={}, step=2, info={})
    fresh = {"D_Y": C.make_discriminator(cfg), "D_X": C.make_discriminator(cfg)}
    R.init_discriminators(tmp_path, fresh)
    assert all(torch.equal(a, b) for a, b in zip(fresh["D_Y"].parameters(), D_Y.parameters()))
    with pytest.raises(InputError, match="does not fit"):
        R.init_discriminators(tmp_path, {"D_Y": C.make_discriminator(dataclasses.replace(cfg, d_scales=3))})


# ------------------------------------------------------------------ objective and pool


def test_one_training_step_of_the_full_objective():
    G, F, D_Y, D_X = tiny_nets()
    obj = C.CycleGANObjective(G, F, D_Y, D_X, pool_size=4)
    opt_g = torch.optim.Adam(list(G.parameters()) + list(F.parameters()), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(D_Y.parameters()) + list(D_X.parameters()), 2e-4, betas=(0.5, 0.999))
    before = {k: [p.clone() for p in n.parameters()] for k, n in dict(G=G, F=F, D_Y=D_Y, D_X=D_X).items()}
    X = (np.random.default_rng(0).random((4, 64, 64, 3)) * 255).astype(np.uint8)
    data = R.paired_stream(R.crops(X, 32, 2, 0), R.crops(X[::-1].copy(), 32, 2, 1), "cpu")
    logs = {}
    last = train_loop(obj, data, {"G": opt_g, "D": opt_d}, steps=2,
                      on_step=lambda s, l: logs.update(l))
    assert last == 2
    for k in ("D_Y", "D_X", "G_adv", "F_adv", "cyc_x", "cyc_y", "id_x", "id_y", "g_loss"):
        assert np.isfinite(logs[k]), k
    for k, n in dict(G=G, F=F, D_Y=D_Y, D_X=D_X).items():
        assert any(not torch.equal(a, b) for a, b in zip(before[k], n.parameters())), f"{k} did not change"
    # g_loss adds λ·cycle and ½λ·identity to the adversarial terms
    total = logs["G_adv"] + logs["F_adv"] + 10 * (logs["cyc_x"] + logs["cyc_y"]) + 5 * (logs["id_x"] + logs["id_y"])
    assert logs["g_loss"] == pytest.approx(total, rel=1e-4)
    assert len(obj.pool_Y.images) == 4 and len(obj.pool_X.images) == 4


def test_history_pool():
    """While filling, the pool returns the new images and stores them; once full, each new image is
    returned as it is with probability ½ (history unchanged), otherwise a stored image is returned and
    the new one takes its place; with size 0 there is no history at all."""
    pool = C.ImagePool(size=50, seed=0)
    first = torch.arange(50, dtype=torch.float32).view(50, 1, 1, 1)
    assert torch.equal(pool.query(first), first)          # while filling: the new images themselves
    assert sorted(float(t) for t in pool.images) == list(range(50))
    from_history = new_back = 0
    for i in range(400):
        new = 1000.0 + i
        before = sorted(float(t) for t in pool.images)
        out = pool.query(torch.full((1, 1, 1, 1), new))
        after = sorted(float(t) for t in pool.images)
        assert out.shape == (1, 1, 1, 1) and len(after) == 50
        if out.item() == new:                             # the new image itself: the history is unchanged
            new_back += 1
            assert after == before
        else:                                             # an old one, swapped for the new one
            from_history += 1
            assert out.item() in before and out.item() not in after and new in after
            assert sorted(after + [out.item()]) == sorted(before + [new])
    # p = ½ each way: 400 seeded draws give 200 ± 10 (σ); a pool that always (or never) swaps fails here
    assert 150 < from_history < 250 and 150 < new_back < 250, (from_history, new_back)
    empty = C.ImagePool(size=0, seed=0)
    for i in range(20):                                   # size 0: every image returned is the new one
        batch = torch.rand(4, 1, 2, 2) + i
        assert torch.equal(empty.query(batch), batch)
    assert empty.images == []


def test_linear_decay():
    f = linear_decay(100)
    assert f(0) == 1.0 and f(49) == 1.0 and f(75) == pytest.approx(0.5) and f(100) == 0.0


def test_heldout_split_is_deterministic_and_disjoint(tmp_path):
    for i in range(200):
        Image.new("RGB", (4, 4)).save(tmp_path / f"{i:04d}.png")
    tr, ho = C.split_folder(tmp_path)
    assert len(tr) + len(ho) == 200 and not set(tr) & set(ho)
    assert 10 <= len(ho) <= 45                      # ≈ 12 %
    assert C.split_folder(tmp_path) == (tr, ho)
    assert all(C.is_heldout(p) for p in ho) and not any(C.is_heldout(p) for p in tr)


# ------------------------------------------------------------------ tiled inference


def _untiled_vs_tiled(freeze: bool):
    torch.manual_seed(0)
    G = C.ResnetGenerator(C.CycleGANConfig(ngf=4, n_blocks=6)).eval()
    x = imageio.image_to_tensor(photo(240, 300))
    full = run_net(G, x, tile=2048)
    if freeze:
        tiled = run_net(G, x, tile=192, overlap=96)
    else:  # the naive way: each tile normalised by its own statistics
        tiled = tiling.run_blended(G, x, tile=192, overlap=96, set_stat_mode=None)
    return full, tiled


def test_tiled_matches_untiled():
    full, tiled = _untiled_vs_tiled(freeze=True)
    assert tiled.shape == full.shape == (1, 3, 240, 300)
    diff = (full - tiled).abs()[..., 8:-8, 8:-8]
    assert diff.max() < 0.01, float(diff.max())   # < 1.3 grey levels anywhere inside
    # and the statistics sharing is what makes it work: naive tiles differ visibly
    _, naive = _untiled_vs_tiled(freeze=False)
    assert (full - naive).abs().max() > 0.02


def test_blend_weights_sum_to_one():
    def wsum(n):
        starts = tiling.starts(n, 192, 192 - 96)
        w = torch.zeros(n)
        for i, s in enumerate(starts):
            w[s:s + 192] += tiling.ramp(192, 96, i == 0, i == len(starts) - 1)
        return w
    assert torch.allclose(wsum(192 + 96 * 8), torch.ones(192 + 96 * 8))  # regular stride: exactly 1
    assert wsum(1000).min() > 0.3          # last tile shifted back: still covered (run_net divides by it)


def test_any_size_and_norm_modes_restored(tiny_model):
    for h, w in [(16, 16), (17, 33), (97, 61)]:
        out, rec = translate(tiny_model, photo(h, w), "photo2monet", cycle=True, tile=32, overlap=16)
        assert out.shape == rec.shape == (h, w, 3) and out.dtype == np.uint8
    assert all(m.mode == "normal" for m in tiny_model.G.modules() if isinstance(m, C.InstanceNorm))


# ------------------------------------------------------------------ bad input


def test_bad_inputs(tmp_path):
    txt = tmp_path / "notes.png"
    txt.write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        imageio.open_image(txt)
    Image.new("L", (40, 30), 128).save(tmp_path / "grey.png")
    img, notes = imageio.open_image(tmp_path / "grey.png")
    assert img.shape == (30, 40, 3) and "grey" in notes[0]
    Image.new("RGBA", (40, 30), (255, 0, 0, 0)).save(tmp_path / "rgba.png")
    img, notes = imageio.open_image(tmp_path / "rgba.png")
    assert img.shape == (30, 40, 3) and (img == 255).all() and "transparent" in notes[0]
    Image.new("RGB", (1, 1)).save(tmp_path / "dot.png")
    img, _ = imageio.open_image(tmp_path / "dot.png")
    with pytest.raises(ValueError, match="at least 16"):
        C.check_size(img)


def test_huge_image_is_downscaled_while_decoding(tmp_path):
    p = tmp_path / "huge.png"
    Image.new("1", (10000, 10000), 1).save(p)     # 100 MP, a few kB on disk
    img, notes = imageio.open_image(p, max_pixels=1024 * 1024, limit=None)   # the CLI: no server limit
    assert img.shape[0] * img.shape[1] <= 1024 * 1024 and img.shape[0] == img.shape[1]
    assert "10000×10000" in notes[0] and "downscaled" in notes[0]
    with pytest.raises(ValueError, match="at most 50 megapixels"):             # the app: --max-pixels
        imageio.open_image(p, max_pixels=1024 * 1024)


# ------------------------------------------------------------------ weights, CLI


def test_load_checks_the_manifest(cyclegan_weights, tmp_path):
    m = C.load(cyclegan_weights, "cpu")
    assert m.cfg == TINY and m.judge is not None
    bad = tmp_path / "w"
    bad.mkdir()
    for f in cyclegan_weights.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    (bad / C.FILES["F"]).write_bytes((cyclegan_weights / C.FILES["G"]).read_bytes())  # swapped file
    with pytest.raises(W.WeightsError, match="sha256"):
        C.load(bad, "cpu")


def test_translate_cli_file_and_folder(cyclegan_weights, tmp_path):
    from ganmodels.cli.main import main

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(photo(40, 56)).save(src / "a.png")
    Image.fromarray(photo(64, 48)).save(src / "b.jpg")
    (src / "readme.txt").write_text("skip me")
    assert main(["translate", "--direction", "monet2photo", str(src), str(tmp_path / "out"),
                 "--weights", str(cyclegan_weights)]) == 0
    assert Image.open(tmp_path / "out" / "a.png").size == (56, 40)
    assert Image.open(tmp_path / "out" / "b.jpg").size == (48, 64)
    assert main(["translate", "--direction", "photo2monet", str(src / "a.png"), str(tmp_path / "one.png"),
                 "--weights", str(cyclegan_weights)]) == 0
    assert (tmp_path / "one.png").exists()
    (tmp_path / "bad.png").write_text("x")
    with pytest.raises(SystemExit, match="not an image"):
        main(["translate", "--direction", "photo2monet", str(tmp_path / "bad.png"), str(tmp_path / "o.png"),
              "--weights", str(cyclegan_weights)])


# ------------------------------------------------------------------ the tab


def test_demo_functions(tiny_model):
    from demo import cyclegan as T
    from demo.common import InputError

    paths = T.example_paths()
    assert len(paths) >= 3
    img, notes = T.load_input(paths[0])
    r = T.translate_image(tiny_model, img[:64, :80], "photo2monet")
    assert r["out"].shape == r["rec"].shape == r["heat"].shape == (64, 80, 3)
    assert "PSNR" in r["markdown"] and "P(Monet)" in r["markdown"]
    heat, mae = T.heatmap(img, img)
    assert mae == 0 and (heat == heat[0, 0]).all()
    with pytest.raises(InputError, match="Upload"):
        T.load_input(None)
    with pytest.raises(InputError, match="direction"):
        T.translate_image(tiny_model, img, "sideways")
    big = np.zeros((3000, 2000, 3), np.uint8)
    small, notes = T.load_input(big, max_pixels=1000 * 1000)
    assert small.shape[0] * small.shape[1] <= 1000 * 1000 and "downscaled" in notes[0]


@pytest.fixture(scope="module")
def served_tab(tiny_model):
    from demo import cyclegan as T
    from demo.context import AppContext

    with serve_tab(T.build, AppContext(models={"cyclegan": tiny_model}, heavy_limit=2), "CycleGAN") as served:
        yield served


def _upload(url: str, path) -> str:
    import uuid
    boundary = uuid.uuid4().hex
    data = open(path, "rb").read()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path.name}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{url}/gradio_api/upload", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())[0]


def test_api_endpoint(served_tab, tmp_path):
    from tests.conftest import api_call

    url, _ = served_tab
    p = tmp_path / "in.png"
    Image.fromarray(photo(48, 64)).save(p)
    server_path = _upload(url, p)
    status, out = api_call(url, "cyclegan_translate", [{"path": server_path, "meta": {"_type": "gradio.FileData"}},
                                                       "photo2monet"])
    assert status == 200, out
    text = json.dumps(out, ensure_ascii=False)
    assert "PSNR" in text and "64×48" in text


def test_api_rejects_a_tiny_image(served_tab, tmp_path):
    from tests.conftest import api_call

    url, _ = served_tab
    p = tmp_path / "dot.png"
    Image.new("RGB", (1, 1)).save(p)
    server_path = _upload(url, p)
    status, out = api_call(url, "cyclegan_translate", [{"path": server_path, "meta": {"_type": "gradio.FileData"}},
                                                       "photo2monet"])
    assert status != 200 or "error" in json.dumps(out).lower(), out
    assert "at least 16" in json.dumps(out, ensure_ascii=False), out


def test_api_explains_a_file_that_is_not_an_image(served_tab, tmp_path):
    from tests.conftest import api_call

    url, _ = served_tab
    p = tmp_path / "fake.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 50)
    server_path = _upload(url, p)
    status, out = api_call(url, "cyclegan_translate", [{"path": server_path, "meta": {"_type": "gradio.FileData"}},
                                                       "photo2monet"])
    assert "not an image that can be read" in json.dumps(out, ensure_ascii=False), out


@pytest.mark.browser
def test_browser_example_translates(served_tab, browser):
    url, _ = served_tab
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url)
    page.get_by_text("Examples (scikit-image").wait_for(timeout=30000)
    page.locator("tr.tr-body").first.click()                     # the astronaut
    page.locator("#cg_input img").first.wait_for(timeout=20000)
    page.get_by_role("button", name="Translate").click()
    page.get_by_text("PSNR").first.wait_for(timeout=90000)
    page.locator("#cg_heat img").first.wait_for(timeout=20000)
    assert page.locator("#cg_slider img").count() >= 1
    assert "512×512" in page.locator("#cg_info").inner_text()
    page.close()


@pytest.mark.browser
def test_browser_monet_example_translates_to_a_photo(served_tab, browser):
    url, _ = served_tab
    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1200})
    page.goto(url)
    page.get_by_text("Monet → photo examples").wait_for(timeout=30000)
    page.locator("tr.tr-body").last.click()                      # the last Monet painting
    page.locator("#cg_input img").first.wait_for(timeout=20000)
    assert page.get_by_label("Monet → photo  (F, then G back)").is_checked()
    page.get_by_role("button", name="Translate").click()
    page.get_by_text("PSNR").first.wait_for(timeout=90000)
    assert "256×256" in page.locator("#cg_info").inner_text()
    page.close()


def test_evaluate_cli_on_a_tiny_folder(cyclegan_weights, tmp_path, capsys):
    """The evaluation pipeline end to end on made-up folders (the real numbers come from ../shared)."""
    from ganmodels.cli.evaluate import main

    rng = np.random.default_rng(0)
    for sub, tint in (("photo", (0, 80, 0)), ("monet", (80, 0, 80))):
        (tmp_path / sub).mkdir()
        for i in range(40):
            im = (rng.random((32, 32, 3)) * 120 + np.array(tint)).astype(np.uint8)
            Image.fromarray(im).save(tmp_path / sub / f"{sub}{i:03d}.png")
        assert C.split_folder(tmp_path / sub)[1], "the made-up folder needs a held-out file"
    with pytest.raises(DataError, match="pass --data-dir"):      # neither --data nor --data-dir
        C.data_root(None)
    with pytest.raises(SystemExit, match="pass --data-dir"):
        main(["cyclegan", "--json", "--weights", str(cyclegan_weights)])
    assert main(["cyclegan", "--json", "--weights", str(cyclegan_weights), "--data", str(tmp_path)]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    m = res["metrics"]
    assert res["files"] == [C.FILES["G"], C.FILES["F"], J.FILE]
    assert m["heldout_photos"] == len(C.split_folder(tmp_path / "photo")[1])
    for k in ("judge_heldout_accuracy", "photo2monet_called_monet", "monet2photo_called_photo"):
        assert 0.0 <= m[k] <= 1.0
    assert 0 < m["cycle_psnr_db"] < 60 and m["identity_l1_F_on_photos"] > 0


def _made_up_folders(root, n=6, size=40):
    rng = np.random.default_rng(1)
    for sub in ("photo", "monet"):
        (root / sub).mkdir(parents=True)
        for i in range(n):
            Image.fromarray((rng.random((size, size, 3)) * 255).astype(np.uint8)).save(root / sub / f"{sub}{i}.png")
    return root


def test_train_cli_with_multiscale_discriminators(tmp_path):
    """--d-scales N trains (the checkpoint holds N PatchGANs per domain); a crop too small for the
    coarsest scale, or no scale at all, is refused with the reason before any data is read."""
    from ganmodels.cli.train import main

    data = _made_up_folders(tmp_path / "data", size=64)
    argv = ["cyclegan", "--steps", "2", "--data", str(data), "--ngf", "4", "--n-blocks", "2", "--ndf", "8",
            "--crop", "48", "--no-progress", "--sample-every", "100"]
    assert main([*argv, "--d-scales", "2", "--out", str(tmp_path / "run")]) == 0
    from safetensors import safe_open
    with safe_open(str(tmp_path / "run" / "checkpoint.safetensors"), "pt") as f:
        scales = {k.split(".")[3] for k in f.keys() if k.startswith("module.D_Y.scales.")}
    assert scales == {"0", "1"}
    assert C.smallest_crop(C.CycleGANConfig(d_scales=3)) == 96 and C.smallest_crop(C.CycleGANConfig()) == 24
    with pytest.raises(SystemExit, match="--crop 48 is too small for 3 discriminator scale.*--crop 96"):
        main([*argv, "--d-scales", "3", "--out", str(tmp_path / "run2")])
    with pytest.raises(SystemExit, match="--d-scales must be at least 1"):
        main([*argv, "--d-scales", "0", "--out", str(tmp_path / "run3")])


def test_train_init_from_continues_shipped_generators(cyclegan_weights, tmp_path):
    """--init-from DIR: G and F start from DIR's files (sizes from their headers), the manifest adds up
    the steps and joins both commands; a size that disagrees with the files is refused."""
    from ganmodels.cli.train import main

    data = _made_up_folders(tmp_path / "data")
    out, exp = tmp_path / "run", tmp_path / "exp"
    argv = ["cyclegan", "--steps", "2", "--init-from", str(cyclegan_weights), "--data", str(data), "--crop", "32",
            "--ndf", "8", "--out", str(out), "--export", str(exp), "--no-progress", "--sample-every", "100"]
    assert main(argv) == 0
    G0, _, _ = W.load_network(cyclegan_weights / C.FILES["G"], C.ResnetGenerator, C.CycleGANConfig,
                                 family=C.FAMILY, network="G")
    G1, cfg1, _ = W.load_network(exp / C.FILES["G"], C.ResnetGenerator, C.CycleGANConfig,
                                 family=C.FAMILY, network="G")
    assert (cfg1.ngf, cfg1.n_blocks) == (TINY.ngf, TINY.n_blocks)
    d0, d1 = G0.state_dict(), G1.state_dict()
    assert d0.keys() == d1.keys() and any(not torch.equal(d0[k], d1[k]) for k in d0)   # trained further
    entry = W.read_manifest(exp)["files"][C.FILES["G"]]
    assert entry["steps"] == 0 + 2
    assert entry["command"].startswith("tests/conftest.py && python -m ganmodels.train cyclegan --steps 2")
    assert "--init-from" in entry["command"]
    with pytest.raises(SystemExit, match="ngf 4, not 2"):   # narrower than the files: refused
        main([*argv[:-2], "--ngf", "2", "--out", str(tmp_path / "run2")])
    with pytest.raises(SystemExit, match="n_blocks 2, not 3"):
        main([*argv[:-2], "--n_blocks", "3", "--out", str(tmp_path / "run3")])
    # wider than the files: G and F are widened (function-preserving) and trained at the new width
    wide = [{str(out): str(tmp_path / "run4"), str(exp): str(tmp_path / "exp4")}.get(a, a) for a in argv]
    assert main([*wide, "--ngf", "6"]) == 0
    G4, cfg4, _ = W.load_network(tmp_path / "exp4" / C.FILES["G"], C.ResnetGenerator, C.CycleGANConfig,
                                 family=C.FAMILY, network="G")
    assert (cfg4.ngf, cfg4.n_blocks, cfg4.upsample) == (6, TINY.n_blocks, TINY.upsample)
    # --colour-skip on files without it: added zero-initialised (same function), trained with it
    skip = [{str(out): str(tmp_path / "run5"), str(exp): str(tmp_path / "exp5")}.get(a, a) for a in argv]
    assert main([*skip, "--colour-skip"]) == 0
    G5, cfg5, _ = W.load_network(tmp_path / "exp5" / C.FILES["G"], C.ResnetGenerator, C.CycleGANConfig,
                                 family=C.FAMILY, network="G")
    assert cfg5.colour_skip and G5.skip is not None


def test_the_two_cycles_can_be_weighted_apart():
    """lambda_x weights the photo cycle and F's identity term, lambda_y the Monet cycle and G's
    (the CycleGAN repo's lambda_A / lambda_B); unset, both are lambda_cyc."""
    G, F, D_Y, D_X = tiny_nets()
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    y = torch.rand(1, 3, 32, 32) * 2 - 1
    both = C.CycleGANObjective(G, F, D_Y, D_X, pool_size=0)
    assert (both.lambda_x, both.lambda_y) == (10.0, 10.0)
    obj = C.CycleGANObjective(G, F, D_Y, D_X, lambda_x=15.0, lambda_y=5.0, pool_size=0)
    with torch.no_grad():
        loss, l = obj.g_loss((x, y))
    total = l["G_adv"] + l["F_adv"] + 15 * l["cyc_x"] + 5 * l["cyc_y"] + 0.5 * (15 * l["id_x"] + 5 * l["id_y"])
    assert float(loss) == pytest.approx(total, rel=1e-5)
    wrong = l["G_adv"] + l["F_adv"] + 10 * (l["cyc_x"] + l["cyc_y"]) + 5 * (l["id_x"] + l["id_y"])
    assert float(loss) != pytest.approx(wrong, rel=1e-3)


def test_train_init_d_from_starts_the_discriminators_from_a_run(cyclegan_weights, tmp_path):
    """--init-d-from RUN: D_Y and D_X start from that run's checkpoint (tensor for tensor); a run
    started so records it in its command; a missing, unreadable or wrong-size checkpoint is refused."""
    from safetensors.torch import load_file

    from ganmodels.cli.train import main

    data = _made_up_folders(tmp_path / "data")
    base = ["cyclegan", "--init-from", str(cyclegan_weights), "--data", str(data), "--crop", "32", "--ndf", "8",
            "--no-progress", "--sample-every", "100", "--ckpt-every", "1"]
    first = tmp_path / "first"
    assert main([*base, "--steps", "2", "--out", str(first), "--export", str(tmp_path / "e1")]) == 0
    src = load_file(str(first / "checkpoint.safetensors"))
    nets = {"D_Y": C.PatchDiscriminator(TINY), "D_X": C.PatchDiscriminator(TINY)}
    R.init_discriminators(first, nets)
    for key, net in nets.items():
        for k, v in net.state_dict().items():
            assert torch.equal(v, src[f"module.{key}.{k}"]), (key, k)
    # a continuation started from it runs, and its manifest command names the option and the weights
    exp = tmp_path / "e2"
    assert main([*base, "--steps", "2", "--init-d-from", str(first), "--lambda-x", "15", "--lambda-y", "5",
                 "--colour-skip", "--skip-lr", "5", "--hold-g", "1",
                 "--out", str(tmp_path / "second"), "--export", str(exp)]) == 0
    entry = W.read_manifest(exp)["files"][C.FILES["G"]]
    assert "--init-d-from" in entry["command"] and "--lambda-y 5" in entry["command"]
    assert "--skip-lr 5" in entry["command"] and "--hold-g 1" in entry["command"]
    with pytest.raises(SystemExit, match="needs --colour-skip"):
        main([*base, "--steps", "1", "--skip-lr", "5", "--out", str(tmp_path / "third")])
    with pytest.raises(InputError, match="does not fit"):
        R.init_discriminators(first, {"D_Y": C.PatchDiscriminator(C.CycleGANConfig(ngf=4, n_blocks=2, ndf=16))})
    with pytest.raises(W.WeightsError, match="no checkpoint"):
        R.init_discriminators(tmp_path / "nowhere", nets)
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(W.WeightsError, match="not a readable"):
        R.init_discriminators(tmp_path / "junk.safetensors", nets)


@pytest.mark.parametrize("upsample", C.UPSAMPLE)
@pytest.mark.parametrize("ngf", [8, 6])
def test_widen_generator_keeps_the_function(upsample, ngf):
    """Net2WiderNet: a wider copy of G computes G's function (noise 0) or nearly (default noise),
    and the noise breaks the copies' symmetry (copied channels differ)."""
    cfg = C.CycleGANConfig(ngf=4, n_blocks=2, upsample=upsample)
    torch.manual_seed(0)
    G = C.ResnetGenerator(cfg).eval()
    x = torch.rand(2, 3, 24, 32) * 2 - 1
    exact = C.widen_generator(G, ngf, noise=0).eval()
    assert exact.cfg.ngf == ngf and exact.cfg.upsample == upsample
    assert sum(p.numel() for p in exact.parameters()) > sum(p.numel() for p in G.parameters())
    with torch.no_grad():
        y = G(x)
        assert torch.allclose(exact(x), y, atol=1e-5)
        noisy = C.widen_generator(G, ngf).eval()
        d = (noisy(x) - y).abs()
    assert 0 < d.mean() < 0.05
    w = noisy.net[1].weight          # first conv: channel 0 and its copy (channel 4 when ngf = 8) differ
    if ngf == 8:
        assert not torch.allclose(w[0], w[4]) and torch.allclose(w[0], w[4], atol=0.1)
    with pytest.raises(ValueError, match="narrower"):
        C.widen_generator(G, 2)


def test_skip_lr_and_hold_g_shape_the_generators_optimizer():
    """--skip-lr puts the colour skips in their own Adam group at MULT·lr; --hold-g N gives G and F
    learning rate 0 for N steps (the discriminators' follows the plain schedule), then the schedule."""
    cfg = C.CycleGANConfig(ngf=4, n_blocks=2, ndf=8, colour_skip=True)
    G, F = C.ResnetGenerator(cfg), C.ResnetGenerator(cfg)
    groups = R.generator_param_groups((G, F), 2e-4, 20.0)
    assert [g["lr"] for g in groups] == [2e-4, pytest.approx(4e-3)]
    skip_ids = {id(p) for n in (G, F) for p in n.skip.parameters()}
    assert {id(p) for p in groups[1]["params"]} == skip_ids
    n_all = sum(1 for n in (G, F) for _ in n.parameters())
    assert len(groups[0]["params"]) + len(groups[1]["params"]) == n_all
    assert len(R.generator_param_groups((C.ResnetGenerator(TINY),), 2e-4, 20.0)) == 1   # no skip: one group
    opt_g = torch.optim.Adam(groups, lr=2e-4)
    opt_d = torch.optim.Adam(C.PatchDiscriminator(cfg).parameters(), lr=2e-4)
    s_g, s_d = R.cyclegan_schedulers(opt_g, opt_d, total_steps=10, decay_from=0.5, hold_g=3)
    seen = []
    for _ in range(10):
        seen.append((opt_g.param_groups[0]["lr"], opt_g.param_groups[1]["lr"], opt_d.param_groups[0]["lr"]))
        s_g.step(), s_d.step()
    assert [g for g, _, _ in seen[:3]] == [0, 0, 0] and seen[3][0] == pytest.approx(2e-4)
    assert seen[3][1] == pytest.approx(4e-3)                          # the skip group keeps its multiple
    assert seen[0][2] == pytest.approx(2e-4)                          # D is not held
    assert seen[7][0] == pytest.approx(2e-4 * (1 - 2 / 5)) == pytest.approx(seen[7][2])
    assert R.cyclegan_schedulers(opt_g, opt_d, total_steps=10, decay_from=1.0) == []


def test_train_cli_exports_the_moving_average(tmp_path):
    """--ema DECAY: the checkpoint holds G_ema and F_ema beside the raw nets, the averages differ from
    the raw nets, the export is the averages, and --resume continues them (one more step follows the
    decay's formula); a decay outside [0, 1) is refused."""
    from safetensors.torch import load_file
    from ganmodels.cli.train import main

    data = _made_up_folders(tmp_path / "data", size=40)
    argv = ["cyclegan", "--data", str(data), "--ngf", "4", "--n_blocks", "1", "--ndf", "8", "--crop", "32",
            "--no-progress", "--sample-every", "100", "--ema", "0.5", "--out", str(tmp_path / "run")]
    assert main([*argv, "--steps", "3", "--export", str(tmp_path / "exp")]) == 0
    sd = load_file(str(tmp_path / "run" / "checkpoint.safetensors"))
    key = "module.G.net.1.weight"
    raw, avg = sd[key], sd[key.replace(".G.", ".G_ema.")]
    assert not torch.equal(raw, avg) and {k.split(".")[1] for k in sd if k.startswith("module.")} >= {
        "G", "F", "G_ema", "F_ema", "D_Y", "D_X"}
    exported = C.load(tmp_path / "exp")
    assert torch.equal(exported.G.state_dict()["net.1.weight"], avg)
    assert torch.equal(exported.F.state_dict()["net.1.weight"], sd["module.F_ema.net.1.weight"])
    assert main([*argv, "--steps", "4", "--resume"]) == 0          # the averages come back with the run
    sd4 = load_file(str(tmp_path / "run" / "checkpoint.safetensors"))
    # one more step of a 0.5-decay average: halfway between the old average and the new raw weights
    assert torch.allclose(sd4[key.replace(".G.", ".G_ema.")], 0.5 * avg + 0.5 * sd4[key], atol=1e-6)
    with pytest.raises(SystemExit, match="--ema is a decay in"):
        main([*argv, "--steps", "1", "--ema", "1.0", "--out", str(tmp_path / "run2")])


def test_explain_states_the_trained_objective_and_whose_lambda():
    """Issue 34 #1: the tab writes D's and G's least-squares losses apart (G pushes D_Y(G(x))
    towards 1), marks λ = 10 as the paper's, and names the λs the shipped nets were trained with."""
    from demo import cyclegan as T
    text = T.EXPLAIN
    assert r"\min_{D_Y}" in text and r"(D_Y(G(x))-1)^2" in text
    assert "The paper's** weights (quoted from the paper)" in text
    command = (W.DEFAULT_DIR / W.MANIFEST).read_text()
    for flag in ("--lambda-id 0", "--lambda-cyc 3", "--lambda-x 6"):
        assert flag in command and flag in text


def test_monet_examples_are_small_held_out_paintings():
    """#33: up to six Monet paintings, ≤ 256 px, from the split the shipped CycleGAN never trained on."""
    from PIL import Image

    from demo import cyclegan as T
    from ganmodels.models.cyclegan import is_heldout

    ex = T.monet_examples()
    assert 1 <= len(ex) <= 6 and len(ex) == len(T.MONET_EXAMPLES)
    for path, caption in ex:
        with Image.open(path) as im:
            assert max(im.size) <= 256 and im.mode == "RGB"
        assert caption
    # the Kaggle file names they were copied from are in the held-out split
    for stem in ("158740962c", "19dc36ccb2", "6bfbd1df5b", "c4622e3fb6", "fba982625d", "295eb5c521"):
        assert is_heldout(f"{stem}.jpg")
    assert sorted(p.name for p in T.MONET_DIR.iterdir()) == sorted(T.MONET_EXAMPLES)
