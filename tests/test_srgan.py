"""SRResNet / SRGAN: shapes (exactly 4×), tiling, one step of each objective, the PSNR/SSIM code,
bad input, the upscale CLI, the tab's HTTP API and a browser test of the comparison slider.

Tiny seeded networks and skimage.data images only; nothing from ../shared.
Tests on the shipped weights are marked slow.
"""
from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganmodels import imageio, metrics
from ganmodels import weights as W
from ganmodels.errors import DataError
from ganmodels.inference.srgan import super_resolve, upscale
from ganmodels.models import srgan as S
from ganmodels.recipes import srgan as R
from tests.conftest import SRGAN_TINY as TINY
from tests.conftest import make_tiny_srgan_weights, serve_tab
from tests.conftest import tiny_srgan_G as tiny_G


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny nets gain nothing from threads, and on a busy 2-core machine two threads spin-wait."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def model(srgan_weights):
    from ganmodels import MODELS

    return MODELS["srgan"](device="cpu", store=W.WeightStore(srgan_weights))


def photo(h=48, w=40):
    from skimage.data import astronaut

    return np.ascontiguousarray(astronaut()[100:100 + h, 150:150 + w])


# ---------------------------------------------------------------- networks


@pytest.mark.parametrize("upsample", S.UPSAMPLE)
@pytest.mark.parametrize("bn", [False, True])
@pytest.mark.parametrize("hw", [(8, 8), (13, 21)])
def test_generator_is_exactly_4x(bn, hw, upsample):
    G = tiny_G(batchnorm=bn, upsample=upsample)
    y = G(torch.rand(2, 3, *hw) * 2 - 1)
    assert y.shape == (2, 3, 4 * hw[0], 4 * hw[1])
    assert torch.isfinite(y).all()


def test_upsample_kind_is_kept_in_the_file(tmp_path):
    G = tiny_G(upsample="resize")
    S.save_G(G, "srresnet", tmp_path)
    G2, cfg, _ = W.load_network(tmp_path / S.FILES["srresnet"], S.Generator, S.SRConfig, family=S.FAMILY,
                                network="srresnet_G")
    assert cfg.upsample == "resize" and any(isinstance(m, torch.nn.Upsample) for m in G2.modules())
    x = torch.rand(1, 3, 9, 7) * 2 - 1
    assert torch.equal(G.eval()(x), G2.eval()(x))
    with pytest.raises(ValueError, match="upsample"):
        S.Generator(S.SRConfig(upsample="deconv"))


def test_fresh_generator_starts_at_bicubic():
    G = S.Generator(S.SRConfig(**TINY)).eval()
    x = torch.rand(1, 3, 10, 12) * 2 - 1
    assert torch.allclose(G(x), S.bicubic_up(x), atol=1e-6)


def test_discriminator_shape_any_crop():
    D = S.Discriminator(S.SRDConfig(ndf=4, dense=8))
    for s in (32, 48, 96):
        assert D(torch.rand(3, 3, s, s)).shape == (3,)


def test_tiled_equals_untiled():
    G = tiny_G()
    lr = photo(40, 36)
    full = super_resolve(G, lr, tile=0)
    seen = []
    tiled = super_resolve(G, lr, tile=16, overlap=8, progress=lambda i, n: seen.append((i, n)))
    assert tiled.shape == full.shape == (160, 144, 3)
    assert seen[-1] == (9, 9)
    # the receptive field of TINY is 3 LR pixels < overlap: equal up to float rounding of uint8
    assert np.abs(tiled.astype(int) - full.astype(int)).max() <= 1
    # …and too small an overlap really changes the result (so the check above can fail)
    cut = super_resolve(G, lr, tile=16, overlap=0)
    assert np.abs(cut.astype(int) - full.astype(int)).max() > 1


# ---------------------------------------------------------------- one training step of each objective


def _batch(n=4, crop=32):
    hr = torch.from_numpy(photo(crop * 2, crop * 2)).permute(2, 0, 1).float() / 127.5 - 1
    hr = torch.stack([hr[:, i % 2 * crop:(i % 2 + 1) * crop, i // 2 % 2 * crop:(i // 2 % 2 + 1) * crop]
                      for i in range(n)])
    return S.make_lr(hr), hr


def _changed(before, net):
    return any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_one_step_srresnet_and_srgan():
    from ganmodels.training.loop import train_loop

    batch = _batch()
    lr, hr = batch
    assert lr.shape == (4, 3, 8, 8) and hr.shape == (4, 3, 32, 32)
    assert torch.allclose((lr + 1) * 127.5, ((lr + 1) * 127.5).round(), atol=1e-4)  # 8-bit LR

    G = tiny_G()
    before = [p.detach().clone() for p in G.parameters()]
    obj = S.SRResNetObjective(G.train())
    logs = []
    train_loop(obj, iter([batch] * 2), {"G": torch.optim.Adam(G.parameters(), 1e-3)}, steps=2,
               on_step=lambda s, l: logs.append(l))
    assert len(logs) == 2 and all(np.isfinite(v) for v in logs[-1].values())
    assert _changed(before, G)

    D = S.Discriminator(S.SRDConfig(ndf=4, dense=8))
    obj = S.SRGANObjective(G, D, adv_weight=1e-3)
    gb, db = [p.detach().clone() for p in G.parameters()], [p.detach().clone() for p in D.parameters()]
    logs = []
    train_loop(obj, iter([batch] * 4), {"G": torch.optim.Adam(G.parameters(), 1e-3),
                                        "D": torch.optim.Adam(D.parameters(), 1e-3)},
               steps=2, on_step=lambda s, l: logs.append(l))
    assert {"d_loss", "d_real", "d_fake", "adv", "pixel"} <= set(logs[-1])
    assert all(np.isfinite(v) for v in logs[-1].values())
    assert _changed(gb, G) and _changed(db, D)


def test_srgan_loss_is_content_plus_weighted_adversarial():
    torch.manual_seed(0)
    G, D = tiny_G(), S.Discriminator(S.SRDConfig(ndf=4, dense=8)).eval()
    lr, hr = _batch()
    loss, logs = S.SRGANObjective(G, D, adv_weight=0.5).g_loss((lr, hr))
    assert loss.item() == pytest.approx(logs["pixel"] + 0.5 * logs["adv"], rel=1e-5)
    sr = G(lr)
    assert logs["adv"] == pytest.approx(torch.nn.functional.softplus(-D(sr)).mean().item(), rel=1e-5)


def test_crop_batches():
    imgs = [torch.from_numpy(photo(64, 80)).permute(2, 0, 1)]
    lr, hr = next(R.crop_batches(imgs, 3, 32, seed=0))
    assert lr.shape == (3, 3, 8, 8) and hr.shape == (3, 3, 32, 32)
    assert hr.min() >= -1 and hr.max() <= 1


def test_training_folders_come_from_the_flags(tmp_path):
    """--data folders as given; else <--data-dir>/photo and the wallpapers; with neither, which flag to pass."""
    from argparse import Namespace

    assert R.training_folders(Namespace(data=["a", "b"], data_dir=None)) == [Path("a"), Path("b")]
    assert R.training_folders(Namespace(data=None, data_dir=str(tmp_path))) == [tmp_path / "photo", R.WALLPAPERS]
    with pytest.raises(DataError, match="pass --data-dir"):
        R.training_folders(Namespace(data=None, data_dir=None))


# ---------------------------------------------------------------- metrics against known values


def test_psnr_known_values():
    a = np.full((10, 10), 100.0)
    assert metrics.psnr(a, a + 1) == pytest.approx(10 * np.log10(255 ** 2), abs=1e-9)   # 48.1308 dB
    assert metrics.psnr(a, a + 10) == pytest.approx(28.1308, abs=1e-4)
    assert metrics.psnr(a, a) == float("inf")


def test_ycbcr_luma_known_values():
    px = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0]]], np.uint8)
    assert metrics.rgb_to_y(px)[0] == pytest.approx([16.0, 235.0, 16 + 65.481, 16 + 128.553])


def test_ssim_matches_skimage_reference():
    from skimage.metrics import structural_similarity

    y = metrics.rgb_to_y(photo(64, 64))
    noisy = y + np.random.default_rng(0).normal(0, 8, y.shape)
    ref = structural_similarity(y, noisy, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                data_range=255)
    assert metrics.ssim(y, noisy) == pytest.approx(ref, abs=1e-6)
    assert metrics.ssim(y, y) == pytest.approx(1.0)
    assert metrics.ssim(y, noisy) < 0.95


def test_sr_metrics_protocol():
    hr = S.modcrop(photo(64, 64))
    m = S.sr_metrics(hr, hr)
    assert m["psnr"] == float("inf") and m["ssim"] == pytest.approx(1) and m["sharpness"] == pytest.approx(1)
    bic = S.bicubic_upscale(S.downscale(hr))
    mb = S.sr_metrics(bic, hr)
    assert 15 < mb["psnr"] < 40 and mb["sharpness"] < 1      # bicubic is blurrier than the original


# ---------------------------------------------------------------- bad input


def test_check_image_bad_input():
    with pytest.raises(ValueError, match="not an image"):
        S.check_image(np.array(["a", "b"], dtype=object))
    with pytest.raises(ValueError, match="at least 8×8"):
        S.check_image(np.zeros((7, 30, 3), np.uint8))
    with pytest.raises(ValueError, match="Mpixels"):
        S.check_image(np.zeros((100, 100, 3), np.uint8), max_pixels=5000)
    with pytest.raises(ValueError, match="channels"):
        S.check_image(np.zeros((10, 10, 5), np.uint8))
    grey, notes = S.check_image(np.full((10, 12), 7, np.uint8))
    assert grey.shape == (10, 12, 3) and (grey == 7).all() and "grey" in notes[0]
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 3] = 0
    rgb, notes = S.check_image(Image.fromarray(rgba, "RGBA"))
    assert rgb.shape == (10, 10, 3) and (rgb == 255).all() and "white" in notes[0]


# ---------------------------------------------------------------- weights, load, CLI


def test_load_both_generators(model, srgan_weights):
    assert set(model.nets) == {"srresnet", "srgan"}
    lr = photo(12, 9)
    outs = {m: upscale(model, m, lr) for m in S.METHODS}
    assert all(o.shape == (48, 36, 3) and o.dtype == np.uint8 for o in outs.values())
    assert not np.array_equal(outs["srresnet"], outs["srgan"])
    with pytest.raises(ValueError, match="unknown method"):
        upscale(model, "nearest", lr)
    # a weight file that does not match the manifest is refused
    bad = srgan_weights.parent / "bad"
    bad.mkdir()
    make_tiny_srgan_weights(bad)
    with open(bad / S.FILES["srgan"], "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\0\0\0\1")
    with pytest.raises(W.WeightsError, match="sha256"):
        S.load(bad)


def test_upscale_cli_file_and_folder(srgan_weights, tmp_path):
    from ganmodels.cli.main import main

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(photo(20, 28)).save(src / "a.png")
    Image.fromarray(photo(9, 11)).convert("L").save(src / "b.jpg")
    (src / "c.png").write_bytes(b"not an image")
    assert main(["upscale", "--model", "srgan", "--weights", str(srgan_weights), str(src / "a.png"),
                 str(tmp_path / "a4.png")]) == 0
    assert Image.open(tmp_path / "a4.png").size == (112, 80)
    # a folder: names kept, the bad file skipped (exit code 1 says so)
    rc = main(["upscale", "--model", "srresnet", "--weights", str(srgan_weights), str(src), str(tmp_path / "out")])
    assert rc == 1
    assert Image.open(tmp_path / "out" / "a.png").size == (112, 80)
    assert Image.open(tmp_path / "out" / "b.jpg").size == (44, 36)
    assert not (tmp_path / "out" / "c.png").exists()
    with pytest.raises(SystemExit, match="8×8"):
        Image.fromarray(photo(5, 5)).save(tmp_path / "tiny.png")
        main(["upscale", "--model", "srgan", "--weights", str(srgan_weights), str(tmp_path / "tiny.png"),
              str(tmp_path / "x.png")])
    with pytest.raises(SystemExit, match="Mpixels"):
        main(["upscale", "--model", "srgan", "--weights", str(srgan_weights), "--max-pixels", "100",
              str(src / "a.png"), str(tmp_path / "y.png")])
    with pytest.raises(SystemExit, match="not found"):
        main(["upscale", "--model", "srgan", "--weights", str(srgan_weights), str(tmp_path / "nope.png"),
              str(tmp_path / "z.png")])


def test_train_init_continues_srresnet_with_lineage(srgan_weights, tmp_path):
    """--init FILE for SRResNet: G starts from FILE (its size from the header), the learning rate decays
    with --decay-from, and the export's manifest adds up both runs' steps and joins their commands."""
    from ganmodels.cli import train as T

    data = tmp_path / "photos"
    data.mkdir()
    from skimage.data import astronaut, chelsea, coffee
    for name, img in (("a", astronaut()), ("c", chelsea()), ("k", coffee())):
        Image.fromarray(img).save(data / f"{name}.png")
    init = srgan_weights / S.FILES["srresnet"]
    out = tmp_path / "run"
    argv = ["srresnet", "--steps", "4", "--batch", "2", "--crop", "32", "--data", str(data), "--holdout", "1",
            "--init", str(init), "--decay-from", "0.5", "--threads", "1", "--no-progress",
            "--out", str(out), "--export", str(out / "export"), "--sample-every", "100", "--ckpt-every", "100"]
    p = T.base_parser()
    R.add_args(p)
    args = p.parse_args(argv)
    args.rank, args.world = 0, 1                        # set by the training CLI before make_run
    run = R.make_run(args)
    (opt,), (sched,) = run.optimizers.values(), run.schedulers
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:2] == [2e-4, 2e-4] and lrs[2] > lrs[3] > 0
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0)
    assert T.main(argv) in (0, None)
    entry = W.read_manifest(out / "export")["files"][S.FILES["srresnet"]]
    assert entry["steps"] == 0 + 4                       # the init file's manifest says 0 steps
    assert entry["command"].startswith("tests/conftest.py && ") and "--init" in entry["command"]
    G0 = S.load(srgan_weights).nets["srresnet"]
    G1, cfg, _ = W.load_network(out / "export" / S.FILES["srresnet"], S.Generator, S.SRConfig,
                                family=S.FAMILY, network="srresnet_G")
    assert (cfg.channels, cfg.blocks, cfg.head_kernel) == (8, 1, 3)    # from the init file, not the defaults
    diffs = [(a - b).abs().max().item() for a, b in zip(G0.parameters(), G1.parameters())]
    assert 0 < max(diffs) < 0.05                         # trained a little from the init, not from scratch
    # SRGAN from that SRResNet: G carries the lineage, the fresh D counts only this run's steps
    gan = ["srgan", *argv[1:argv.index("--init") + 1], str(out / "export" / S.FILES["srresnet"]),
           *argv[argv.index("--init") + 2:]]
    gan[gan.index("--steps") + 1] = "3"
    gan[gan.index("--out") + 1], gan[gan.index("--export") + 1] = str(tmp_path / "gan"), str(tmp_path / "gan_x")
    assert T.main(gan) in (0, None)
    files = W.read_manifest(tmp_path / "gan_x")["files"]
    assert files[S.FILES["srgan"]]["steps"] == 4 + 3 and files[S.FILES["D"]]["steps"] == 3
    assert files[S.FILES["D"]]["command"] == files[S.FILES["srgan"]]["command"]
    assert files[S.FILES["srgan"]]["command"].count(" && ") == 2
    # a corrupt init file is refused with its reason
    bad = tmp_path / "bad"
    bad.mkdir()
    make_tiny_srgan_weights(bad)
    with open(bad / S.FILES["srresnet"], "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\0\0\0\1")
    with pytest.raises(SystemExit, match="sha256"):
        T.main([*argv[:argv.index("--init") + 1], str(bad / S.FILES["srresnet"]),
                    *argv[argv.index("--init") + 2:]])


# ---------------------------------------------------------------- the tab: pure functions


def test_tab_functions(model):
    from demo import srgan as T
    from demo.common import InputError

    hr = photo(64, 72)
    res = T.run(model, hr, "simulate", 50, 50, "64")
    state, (a1, b1), (a2, b2), (a3, b3), over, md = res
    assert state["outputs"]["srgan"].shape == (64, 72, 3)
    assert a1.shape == b1.shape and a1.shape[0] >= T.DISPLAY       # the 64-px crop is enlarged
    assert np.array_equal(b1, a2)                                    # the same region in every slider
    assert "PSNR" in md and "SRResNet" in md and over.ndim == 3
    real = T.run(model, photo(10, 12), "real", 0, 100, "whole image")
    assert real[0]["outputs"]["bicubic"].shape == (40, 48, 3) and "Real mode" in real[-1]
    # regions differ with the centre
    c1 = T.compare(state, 0, 0, "64")[0][0]
    c2 = T.compare(state, 100, 100, "64")[0][0]
    assert not np.array_equal(c1, c2)
    for bad, mode, msg in [(None, "simulate", "Upload"), (photo(20, 20), "simulate", "real mode"),
                           (np.zeros((600, 600, 3), np.uint8), "real", "simulate mode"),
                           (photo(), "zoom", "Mode")]:
        with pytest.raises(InputError, match=msg):
            T.run(model, bad, mode, 50, 50, "128")


# ---------------------------------------------------------------- the tab: HTTP API and a browser


@pytest.fixture(scope="module")
def served(model):
    from demo import srgan as T
    from demo.context import AppContext

    with serve_tab(T.build, AppContext(models={"srgan": model}, heavy_limit=2), "SRGAN zoom") as (url, _):
        yield url


def _data_url(img):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_api_endpoint(served):
    from tests.conftest import api_call

    img = {"url": _data_url(photo(64, 64)), "meta": {"_type": "gradio.FileData"}}
    status, out = api_call(served, "srgan_upscale", [img, "simulate", 50, 50, "128"])
    assert status == 200, out
    _state, s1, s2, s3, over, md = out["data"]      # the gr.State output comes back as null
    assert "PSNR" in md and "bicubic" in md
    assert isinstance(s1, (list, tuple)) and len(s1) == 2
    small = {"url": _data_url(photo(20, 20)), "meta": {"_type": "gradio.FileData"}}
    status, out = api_call(served, "srgan_upscale", [small, "simulate", 50, 50, "128"])
    assert "Use real mode for tiny images" in str(out)     # a teaching message, not a crash
    junk = {"url": "data:image/png;base64," + base64.b64encode(b"\x89PNG but not really" * 20).decode(),
            "meta": {"_type": "gradio.FileData"}}
    status, out = api_call(served, "srgan_upscale", [junk, "real", 50, 50, "128"])
    assert "not an image that can be read" in str(out), out    # our message, not the framework's


@pytest.mark.browser
def test_browser_moves_the_comparison_slider(served, browser):
    import re

    page = browser.new_page()
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(served)
    page.get_by_text("Examples (skimage.data").wait_for(timeout=30000)
    page.locator("tr.tr-body").first.click()                        # the astronaut, simulate mode
    page.locator("#sr_input img").first.wait_for(timeout=20000)
    page.get_by_role("button", name="Super-resolve").click()
    page.get_by_text("PSNR (dB, Y)").wait_for(timeout=60000)
    top = page.locator("#sr_slider_1 img.fixed")                     # the right-hand image, clipped
    top.wait_for(timeout=20000)

    def split() -> float:  # where the divider is, in % of the width (from the clip-path)
        m = re.search(r"inset\([^)]*?([\d.]+)%\)", top.get_attribute("style") or "")
        assert m, top.get_attribute("style")
        return float(m.group(1))

    assert split() == pytest.approx(50, abs=1)
    handle = page.locator("#sr_slider_1 [data-testid=slider]")
    handle.scroll_into_view_if_needed()
    hb, ib = handle.bounding_box(), top.bounding_box()
    x, y = hb["x"] + hb["width"] / 2, ib["y"] + ib["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(ib["x"] + 0.2 * ib["width"], y, steps=10)
    page.mouse.up()
    page.wait_for_timeout(300)
    assert split() < 35                                              # the divider followed the mouse
    page.close()


# ---------------------------------------------------------------- shipped weights (slow)


@pytest.mark.slow
def test_shipped_weights_beat_bicubic(shipped_weights):
    try:
        m = S.load(shipped_weights)
    except W.WeightsError as e:
        pytest.skip(f"shipped SR weights not available: {e}")
    hr = S.modcrop(imageio.skimage_image("astronaut"))
    lr = S.downscale(hr)
    r = {k: S.sr_metrics(upscale(m, k, lr), hr) for k in S.METHODS}
    assert r["srresnet"]["psnr"] > r["bicubic"]["psnr"] + 0.5
    assert r["srgan"]["sharpness"] > r["srresnet"]["sharpness"]


def test_shipped_srgan_is_fine_tuned_from_the_shipped_srresnet():
    """Issue 34, item 2: the tab compares SRResNet with SRGAN as 'the same network, started from the SRResNet
    shown'. The manifest must say so (the SRGAN's command continues the SRResNet's, from its file), and the two
    files must be the same architecture."""
    import json

    from safetensors import safe_open

    wdir = Path(__file__).resolve().parents[1] / "weights"
    files = json.loads((wdir / "manifest.json").read_text())["files"]
    r, g = files["srresnet_G.safetensors"]["command"], files["srgan_G.safetensors"]["command"]
    assert g.startswith(r + " && ") and "--init weights/srresnet_G.safetensors" in g
    cfg = [json.loads(safe_open(str(wdir / f), "pt").metadata()["config"]) for f in ("srresnet_G.safetensors",
                                                                                      "srgan_G.safetensors")]
    assert cfg[0] == cfg[1]
