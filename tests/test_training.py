"""Live training tab: 2-D toys and metrics, the trainer's state machine, save/load/export, the UI.

Small nets and batches so that the default run stays short; nothing here reads ../shared.
"""
from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from ganmodels.models import toy
from ganmodels.training import live as T
from tests.conftest import trainer_threads, wait_until

ROOT = Path(__file__).resolve().parent.parent


NET = [1, 2, 16, 2, 16, "adam", "gaussian"]   # the tab's network settings: k_G, G layers/neurons, D layers/neurons, …


def small(**kw) -> T.RunConfig:
    base = dict(dataset="ring", loss="ns", batch=32, hidden=16, lr_g=1e-3, lr_d=1e-3)
    return T.RunConfig(**{**base, **kw})


# ------------------------------------------------------------------ toy data and metrics


@pytest.mark.parametrize("name", ["ring", "grid", "moons", "spiral"])
def test_toy_datasets_sample_in_view(name):
    d = toy.ToyData(name, seed=1)
    x = d.sample(1000)
    assert x.shape == (1000, 2) and torch.isfinite(x).all()
    assert x.abs().max() < d.extent                      # the plot shows all of it
    assert x.std(0).min() > 0.3                           # spread out, not a point


def test_mode_metrics_definitions():
    d = toy.ToyData("ring", seed=0)
    real = d.sample(toy.N_METRIC)
    m = toy.mode_metrics(real, d.modes, d.sigma)
    assert m["modes_covered"] == 8 and m["high_quality"] > 0.97     # P(r ≤ 3σ) = 1 − e^(−4.5) ≈ 0.989
    # everything on one mode: 1 covered; far from every mode: none high-quality
    one = d.modes[3] + d.sigma * torch.randn(toy.N_METRIC, 2)
    assert toy.mode_metrics(one, d.modes, d.sigma)["modes_covered"] == 1
    assert toy.mode_metrics(torch.zeros(toy.N_METRIC, 2), d.modes, d.sigma)["high_quality"] == 0.0
    # a mode needs ≥ 20 of 2,500 high-quality samples: 19 is not enough
    few = torch.cat([d.modes[0] + 0 * torch.randn(19, 2), torch.zeros(toy.N_METRIC - 19, 2)])
    assert toy.mode_metrics(few, d.modes, d.sigma)["modes_covered"] == 0
    g = toy.ToyData("grid")
    assert toy.mode_metrics(g.sample(toy.N_METRIC), g.modes, g.sigma)["modes_covered"] == 25


def test_drawn_points_need_two():
    with pytest.raises(ValueError, match="at least 2"):
        toy.ToyData("drawn", points=[[0.0, 0.0]])
    with pytest.raises(ValueError, match="at least 2"):
        toy.ToyData("drawn", points=[[1.0, 1.0], [1.0, 1.0]])     # same point twice
    with pytest.raises(ValueError):
        T.check_config(small(dataset="drawn", points=[]))
    d = toy.ToyData("drawn", points=[[1, 1], [-1, -1]])
    x = d.sample(500)
    assert ((x - torch.tensor([1.0, 1.0])).norm(dim=1) < 0.3).float().mean() > 0.3


def test_render_frame_shows_points():
    real = np.array([[0.0, 0.0]], dtype=np.float32)
    fake = np.array([[2.0, 2.0]], dtype=np.float32)
    img = toy.render_frame(real, fake, np.zeros((8, 8)), 3.0, size=64)
    assert img.shape == (64, 64, 3) and img.dtype == np.uint8
    assert tuple(img[32, 32]) == tuple(toy.REAL_RGB.astype(np.uint8))
    col = round(5 / 6 * 63)
    assert tuple(img[63 - col, col]) == tuple(toy.FAKE_RGB.astype(np.uint8))


# ------------------------------------------------------------------ the trainer


def test_state_machine_and_no_thread_left():
    tr = T.Trainer(small(), snapshot_every_s=0.05)
    try:
        assert tr.state == "idle" and tr.step == 0 and not tr.thread_alive
        v0 = tr.version
        assert tr.step_once() == 1 and tr.state == "paused"
        assert tr.snapshot().step == 1 and tr.version > v0
        assert len(tr.history) == 1 and all(math.isfinite(v) for v in tr.history[0][1:5])
        tr.start()
        assert tr.state == "running"
        assert wait_until(lambda: tr.snapshot().step > 20)
        tr.pause()
        assert tr.state == "paused"
        assert wait_until(lambda: tr.snapshot().state == "paused" and tr.snapshot().step == tr.step)
        s = tr.step
        time.sleep(0.3)
        assert tr.step == s                               # paused means paused
        assert tr.step_once() == s + 1                    # a single step from paused
        tr.resume()
        assert wait_until(lambda: tr.step > s + 10)
        assert tr.step_once() > s + 10 and tr.state == "paused"   # step while running: pause + 1
        assert len(trainer_threads()) == 1
        tr.reset()
        assert tr.step == 0 and tr.state == "idle" and not tr.thread_alive
        assert tr.history == [] and tr.snapshot().step == 0
        tr.start()
        assert wait_until(lambda: tr.step > 3)
    finally:
        tr.close()
    assert not tr.thread_alive and not trainer_threads()
    assert tr.snapshot().state == "closed"
    with pytest.raises(RuntimeError):
        tr.start()


def test_step_button_is_k_d_steps_then_k_g_g_steps():
    """Issue 34 #11: the Step button (Trainer.step_once) does what the tab says: k_D D steps, then k_G G
    steps (one by default)."""
    from demo import training as TR
    assert "$k_D$ D steps, then $k_G$ G steps" in TR.EXPLAIN
    tr = T.Trainer(small(k=3, k_g=2))
    order: list[str] = []
    try:
        for name, opt in tr.run.optimizers.items():
            def stepped(*a, _orig=opt.step, _name=name, **kw):
                order.append(_name)
                return _orig(*a, **kw)
            opt.step = stepped
        assert tr.step_once() == 1
        assert order == ["D", "D", "D", "G", "G"]
    finally:
        tr.close()


def test_hooks_run_in_the_training_thread():
    """on_thread_start once when the thread starts, between_steps after every step, both in that thread."""
    seen = {"start": [], "steps": []}
    tr = T.Trainer(small(), on_thread_start=lambda: seen["start"].append(threading.current_thread().name),
                   between_steps=lambda: seen["steps"].append(threading.current_thread().name))
    try:
        assert tr.step_once() == 1 and tr.step_once() == 2
        assert seen["start"] == ["gan-live-trainer"]
        assert seen["steps"] == ["gan-live-trainer"] * 2
    finally:
        tr.close()


def test_the_tabs_trainer_gives_way_to_interactive_requests():
    from demo import training as TR
    from serving import priority

    tr = TR.new_trainer(small())
    try:
        assert tr.on_thread_start is priority.lower_thread_priority
        assert tr.between_steps is priority.yield_to_interactive
    finally:
        tr.close()


def test_settings_live_or_restart():
    tr = T.Trainer(small())
    try:
        assert tr.configure(small(loss="lsgan")) == ""             # idle at step 0: rebuilt now
        assert tr.cfg.loss == "lsgan" and tr.objective.loss == "lsgan"
        tr.step_once()
        msg = tr.configure(small(loss="lsgan", lr_g=5e-4, batch=64))
        assert "batch" in msg and "Reset" in msg                   # needs a new run, and says so
        assert tr.cfg.batch == 32                                  # …not applied yet
        assert tr.optimizers["G"].param_groups[0]["lr"] == 5e-4    # the learning rate is live
        tr.reset(small(loss="hinge", batch=64))
        assert tr.cfg.batch == 64 and tr.objective.loss == "hinge" and tr.step == 0
        with pytest.raises(ValueError, match="lr_g"):
            T.check_config(small(lr_g=float("nan")))
        with pytest.raises(ValueError, match="lr_d"):
            T.check_config(small(lr_d=1e6))
    finally:
        tr.close()


def test_nan_loss_pauses_with_message():
    tr = T.Trainer(small(), snapshot_every_s=0.05)
    try:
        orig = tr.objective.g_loss

        def bad(batch):
            loss, logs = orig(batch)
            if tr.step >= 5:
                return loss * float("nan"), {**logs, "g_loss": float("nan")}
            return loss, logs

        tr.objective.g_loss = bad
        tr.start()
        assert wait_until(lambda: tr.snapshot().state == "paused")
        snap = tr.snapshot()
        assert "NaN" in snap.message and "learning rate" in snap.message and snap.state == "paused"
        assert tr.step == 5
        tr.reset()                                                 # the app keeps working
        tr.start()
        assert wait_until(lambda: tr.step > 8)
    finally:
        tr.close()


def test_image_run_grid_changes(tmp_path):
    """A tiny DCGAN on an image folder the test writes: the fixed-z grid changes with training."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(8):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    cfg = T.RunConfig(dataset="folder", folder=str(tmp_path), batch=4, z_dim=8, ngf=4, ndf=4, grid_n=2,
                      ema=0.5)
    tr = T.Trainer(cfg)
    try:
        g0 = tr.snapshot().grid.copy()
        assert g0.shape[2] == 3 and tr.snapshot().kind == "image"
        tr.run_steps(3)
        assert not np.array_equal(g0, tr.snapshot().grid)
        tr.save(tmp_path / "img_run.safetensors")                 # G, D and the moving average of G
        ema = [t.clone() for t in tr.G_ema.shadow.state_dict().values()]
        tr.run_steps(1)
        tr.load(tmp_path / "img_run.safetensors")
        assert tr.step == 3 and all(torch.equal(a, b) for a, b in zip(ema, tr.G_ema.shadow.state_dict().values()))
        with pytest.raises(ValueError, match="not a folder"):
            tr.reset(T.RunConfig(dataset="folder", folder=str(tmp_path / "does_not_exist")))
    finally:
        tr.close()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no images"):
        T.Trainer(T.RunConfig(dataset="folder", folder=str(empty)))


def test_bad_folder_keeps_the_run(tmp_path):
    tr = T.Trainer(small())
    try:
        tr.run_steps(4)
        (tmp_path / "e").mkdir()
        with pytest.raises(ValueError, match="no images"):
            tr.reset(T.RunConfig(dataset="folder", folder=str(tmp_path / "e")))
        assert tr.step == 4 and tr.cfg.dataset == "ring"
    finally:
        tr.close()


def test_save_load_and_exports(tmp_path):
    tr = T.Trainer(small(), snapshot_every_s=0.0, frame_every_s=0.0)
    try:
        tr.run_steps(30)
        p = tr.save(tmp_path / "run.safetensors")
        G_before = [t.clone() for t in tr.G.state_dict().values()]
        tr.run_steps(5)
        tr.load(p)
        assert tr.step == 30 and tr.state == "paused"
        assert all(torch.equal(a, b) for a, b in zip(G_before, tr.G.state_dict().values()))
        assert len(tr.history) == 30
        tr.run_steps(3)                                        # training goes on from there
        assert tr.step == 33
        gif = tr.export_gif(tmp_path / "t.gif")
        from PIL import Image

        with Image.open(gif) as im:
            assert im.format == "GIF" and im.n_frames >= 2
        c = tr.export_csv(tmp_path / "c.csv")
        rows = list(csv.DictReader(open(c)))
        assert len(rows) == 33 and rows[0]["step"] == "1"
        assert all(math.isfinite(float(r["d_loss"])) for r in rows)
        assert any(r["modes_covered"] != "" for r in rows)
    finally:
        tr.close()
    tr2 = T.Trainer(small())
    with pytest.raises(Exception, match="checkpoint|safetensors"):
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(b"not a checkpoint")
        tr2.load(bad)
    assert tr2.step == 0                                         # a bad file changes nothing
    tr2.close()


def test_killed_save_leaves_previous_checkpoint_loadable(tmp_path):
    """Kill -9 a process while it rewrites the checkpoint again and again: the file still loads."""
    path = tmp_path / "run.safetensors"
    tr = T.Trainer(small(hidden=256))
    tr.run_steps(2)
    tr.save(path)
    code = textwrap.dedent(f"""
        from ganmodels.training import live as T
        tr = T.Trainer(T.RunConfig(dataset="ring", batch=32, hidden=256))
        tr.run_steps(1)
        print("ready", flush=True)
        while True:
            tr.save({str(path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        proc.kill()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    tr.load(path)                                                # no exception: an intact file
    assert tr.step in (1, 2)
    tr.close()


def test_presets_are_valid_and_explained():
    for name, p in T.PRESETS.items():
        cfg = T.preset_config(name)
        assert T.check_config(cfg) is cfg
        assert len(p.explain) > 200 and "$" in p.explain      # a paragraph with a formula
    assert T.PRESETS["collapse"].config["loss"] == "minimax"
    assert T.PRESETS["nonsat"].config["loss"] == "ns"
    assert T.PRESETS["wgan"].config["loss"] == "wgan-gp"
    assert T.PRESETS["digits"].config["dataset"] == "mnist"


def test_nonsat_lesson_changes_one_thing_at_a_time():
    """Issue 34 #6: "nonsat_loss" differs from "collapse" only in the loss; "nonsat" then also
    equalises the step sizes, and its text says it makes two changes."""
    collapse, loss_only, both = (T.PRESETS[k].config for k in ("collapse", "nonsat_loss", "nonsat"))
    assert {k for k in collapse.keys() | loss_only.keys() if collapse.get(k) != loss_only.get(k)} == {"loss"}
    assert (collapse["loss"], loss_only["loss"]) == ("minimax", "ns")
    assert {k for k in loss_only.keys() | both.keys() if loss_only.get(k) != both.get(k)} == {"lr_g", "lr_d"}
    assert both["lr_g"] == both["lr_d"]
    assert "One change" in T.PRESETS["nonsat_loss"].explain
    assert "Two changes" in T.PRESETS["nonsat"].explain
    names = list(T.PRESETS)
    assert names.index("collapse") < names.index("nonsat_loss") < names.index("nonsat")


# the G loss each ring preset's paragraph says G minimises (its LaTeX), and that loss of D's raw output f
LOG_1_MINUS_D = lambda f: torch.log1p(-torch.sigmoid(f)).mean()     # noqa: E731 -- log(1 − D(G(z)))
MINUS_LOG_D = lambda f: -torch.log(torch.sigmoid(f)).mean()         # noqa: E731 -- −log D(G(z))
MINUS_CRITIC = lambda f: -f.mean()                                  # noqa: E731 -- −E[f(G(z))]
PRESET_G_LOSS = {
    "collapse": (r"$\log(1-D(G(z)))$", LOG_1_MINUS_D),
    "nonsat_loss": (r"$-\log D(G(z))$", MINUS_LOG_D),
    "nonsat": (r"$-\log D(G(z))$", MINUS_LOG_D),
    "wgan": (r"$-\mathbb E[f(G(z))]$", MINUS_CRITIC),
    "wgan_clip": (r"$-\mathbb E_z[f(G(z))]$", MINUS_CRITIC),
}


@pytest.mark.parametrize("name", list(PRESET_G_LOSS))
def test_preset_trains_the_g_loss_its_text_shows(name):
    """Issue 34: the loss a preset trains with is the formula it shows.  The paragraph says G minimises
    that formula; the trainer the preset builds computes G's loss, for a fixed z, equal to the formula
    evaluated on D's raw output for that z (minimax and non-saturating differ in sign there: ∓log 2 at D = ½)."""
    import re

    tex, formula = PRESET_G_LOSS[name]
    p = T.PRESETS[name]
    assert re.search(r"minimis\w*\*?\s+" + re.escape(tex), p.explain), (name, tex)
    tr = T.Trainer(T.preset_config(name, batch=32, hidden=16))
    obj = tr.objective
    try:
        assert obj.loss == p.config["loss"]
        z = torch.randn(32, tr.cfg.z_dim, generator=torch.Generator().manual_seed(0))
        obj.fixed_z = z                                   # the z that G's loss step draws
        loss, logs = obj.g_loss(torch.zeros(32, 2))
        with torch.no_grad():
            f = tr.D(tr.G(z)).flatten()
        assert loss.item() == pytest.approx(formula(f).item(), rel=1e-5, abs=1e-7)
        assert logs["g_loss"] == pytest.approx(loss.item())
    finally:
        obj.fixed_z = None
        tr.close()


# ------------------------------------------------------------------ the tab's pure functions


def test_points_parsing_and_canvas():
    from demo import training as TR
    from demo.common import InputError

    assert TR.parse_points("1, 2\n-1 0.5; 3,4") == [[1, 2], [-1, 0.5], [3, 4]]
    with pytest.raises(InputError, match="line 1"):
        TR.parse_points("1, 2, 3")
    with pytest.raises(InputError):
        TR.parse_points("a, b")
    layer = np.zeros((TR.CANVAS, TR.CANVAS, 4), np.uint8)
    layer[0:3, 0:3, 3] = 255                                   # top-left corner: (−3, 3)
    layer[-3:, -3:, 3] = 255                                   # bottom-right: (3, −3)
    pts = np.array(TR.points_from_canvas({"background": None, "layers": [layer], "composite": None}))
    assert len(pts) == 18
    assert np.allclose(pts[:9].mean(0), [-2.98, 2.98], atol=0.05)
    assert TR.points_from_canvas({"background": None, "layers": [], "composite": None}) == []
    with pytest.raises(InputError, match="at least 2"):
        TR.make_config("drawn", "ns", 1e-3, 1e-3, 1, 64, 2, "none (1 / 0)", 0, "1, 1", "")
    with pytest.raises(InputError, match="Learning rate"):
        TR.make_config("ring", "ns", 1e9, 1e-3, 1, 64, 2, "none (1 / 0)", 0, "", "")
    two_sided = "two-sided: real 0.9, fake 0.1 (Salimans et al. advise against)"
    cfg = TR.make_config("ring", "hinge", 1e-3, 2e-3, 2, 64, 3, two_sided, 5, "", "")
    assert (cfg.loss, cfg.lr_d, cfg.k, cfg.z_dim, cfg.real_label, cfg.fake_label, cfg.seed) == \
        ("hinge", 2e-3, 2, 3, 0.9, 0.1, 5)
    assert TR.settings_of(cfg)[7] == two_sided


def test_label_smoothing_is_one_sided_and_says_where_it_applies():
    """Issue 34 #7: the smoothing offered is Salimans et al.'s one-sided kind (real 0.9, fake 0), and
    the tab says it does not apply to WGAN-GP and hinge (whose D losses indeed ignore the labels)."""
    import torch

    from demo import training as TR
    from ganmodels import losses
    assert TR.LABELS[TR.ONE_SIDED] == (0.9, 0.0)
    assert list(TR.LABELS)[1] == TR.ONE_SIDED                      # the first smoothing offered
    assert T.PRESETS["digits"].config["real_label"] == 0.9 and T.PRESETS["digits"].config["fake_label"] == 0.0
    cfg = T.preset_config("digits")
    assert TR.settings_of(cfg)[7] == TR.ONE_SIDED
    for text in (TR.LABELS_INFO, TR.EXPLAIN):
        assert "WGAN-GP" in text and "hinge" in text and "does not apply" in text
        assert "only the real labels" in text
    r, f = torch.randn(16), torch.randn(16)
    for kind in ("wgan-gp", "hinge"):
        assert torch.equal(losses.d_loss(kind, r, f, 0.9, 0.1), losses.d_loss(kind, r, f))
    for kind in ("minimax", "ns", "lsgan"):
        assert not torch.equal(losses.d_loss(kind, r, f, 0.9, 0.0), losses.d_loss(kind, r, f))


def test_pictures_render():
    from demo import training as TR

    tr = T.Trainer(small())
    try:
        tr.run_steps(5)
        snap = TR.snapshot_dict(tr.snapshot())
        view, curves = TR.render_all(snap, tr.curves())
        assert view.startswith("<img") and "data:image/png;base64," in view
        assert curves.startswith("<img")
        assert "step 5" in TR.status_markdown(snap)
    finally:
        tr.close()


# ------------------------------------------------------------------ the served tab


@pytest.fixture(scope="module")
def live_app():
    """Only this tab, served on a free port (the trainer and its render process closed after)."""
    from demo import training as TR
    from demo.context import AppContext
    from tests.conftest import serve_tab

    ctx = AppContext(trainer=T.Trainer(small(), snapshot_every_s=0.1))
    try:
        with serve_tab(TR.build, ctx, default_concurrency_limit=2) as (url, _):
            yield url, ctx
    finally:
        ctx.close()
        assert not trainer_threads()


def test_two_viewers_see_the_same_step(live_app):
    from tests.conftest import api_call

    url, ctx = live_app
    tr = ctx.trainer
    st, r = api_call(url, "training_start", [])
    assert st == 200 and "running" in r["data"][0]
    assert wait_until(lambda: tr.step > 10)
    api_call(url, "training_pause", [])
    assert wait_until(lambda: tr.snapshot().state == "paused")
    (s1, a), (s2, b) = api_call(url, "training_poll", [{}]), api_call(url, "training_poll", [{}])
    assert s1 == s2 == 200
    assert a["data"][2] == b["data"][2] and f"step {tr.step}" in a["data"][2]
    st, r = api_call(url, "training_step", [])
    assert f"step {tr.step}" in r["data"][0]


def test_bad_inputs_give_messages(live_app):
    from tests.conftest import api_call

    url, ctx = live_app
    st, r = api_call(url, "training_reset", ["drawn", "ns", 1e-3, 1e-3, 1, 32, 2, "none (1 / 0)", 0, "1, 1", "", *NET])
    assert "at least 2" in str(r)
    st, r = api_call(url, "training_reset", ["folder", "ns", 1e-3, 1e-3, 1, 32, 2, "none (1 / 0)", 0, "",
                                             "/nonexistent/folder", *NET])
    assert "image-folder dataset is off" in str(r)   # no --data-dir: a typed path never reaches the disk
    st, r = api_call(url, "training_reset", ["ring", "ns", 1e6, 1e-3, 1, 32, 2, "none (1 / 0)", 0, "", "", *NET])
    assert "Learning rate G" in str(r)
    st, r = api_call(url, "training_reset", ["ring", "lsgan", 1e-3, 1e-3, 1, 32, 2, "none (1 / 0)", 0, "", "", *NET])
    assert st == 200 and ctx.trainer.cfg.loss == "lsgan"              # still working
    st, r = api_call(url, "training_preset", [[]])                     # not a preset name: a message, not a 500
    assert "unknown preset" in str(r), (st, r)


def test_export_endpoints(live_app):
    from tests.conftest import api_call

    url, ctx = live_app
    ctx.trainer.run_steps(3)
    for api in ("training_export_csv", "training_export_gif", "training_save"):
        st, r = api_call(url, api, [])
        assert st == 200, r
        p = Path(r["data"][0]["path"])
        assert p.is_file() and p.stat().st_size > 0


@pytest.mark.browser
def test_browser_starts_training_and_the_plane_moves(live_app, browser):
    """On this machine only (no lecturer key) the tab drives the shared run; the browser draws the 2-D
    view itself from the points the poll sends: the canvas's step follows the run."""
    url, ctx = live_app
    tr = ctx.trainer
    tr.reset(small())
    page = browser.new_page()
    try:
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("button", name="Start / resume").click()
        plane = page.locator("#gl-plane")
        assert wait_until(lambda: tr.step > 20, 60)
        assert wait_until(lambda: int(plane.get_attribute("data-step") or -1) > 0, 60)
        first = int(plane.get_attribute("data-step"))
        assert wait_until(lambda: int(plane.get_attribute("data-step")) > first, 60)
        assert int(plane.get_attribute("data-frames")) >= 2
    finally:
        tr.pause()
        page.close()


def test_image_folder_only_inside_data_dir(tmp_path):
    from demo.common import InputError
    from demo.training import allowed_folder, make_config

    with pytest.raises(InputError, match="--data-dir"):
        allowed_folder(str(tmp_path))
    (tmp_path / "digits").mkdir()
    assert allowed_folder("digits", [tmp_path]) == str((tmp_path / "digits").resolve())
    for bad in ("/", "/etc", "../", str(tmp_path / ".." / "x")):
        with pytest.raises(InputError, match="only folders inside"):
            allowed_folder(bad, [tmp_path])
    # the tab's settings reach the check with the app's --data-dir folders
    settings = ["folder", "ns", 1e-3, 1e-3, 1, 32, 2, "none (1 / 0)", 0, "", "/etc"]
    with pytest.raises(InputError, match="only folders inside"):
        make_config(*settings, data_dirs=[tmp_path])


def test_drawing_helper_ends_when_the_app_is_killed():
    """The viewer's helper process must not outlive an app that was killed (not shut down)."""
    code = textwrap.dedent("""
        import multiprocessing, os, sys
        from concurrent.futures import ProcessPoolExecutor
        from demo.helper import exit_with_parent
        if __name__ == "__main__":
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=exit_with_parent, initargs=(os.getpid(), 0.1))
            print(pool.submit(os.getpid).result(), flush=True)
            os._exit(0)          # killed: no pool shutdown
    """)
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    child = int(out.stdout.split()[-1])
    t_end = time.time() + 20
    while time.time() < t_end:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child, 9)
    raise AssertionError(f"the helper process {child} outlived its app")


def test_first_pictures_are_drawn_at_start_up_not_in_a_poll(tiny_weights):
    """The first matplotlib figure of a process is slow: building the tab draws it, so the first
    students' polls do not wait for it (a poll holds the interpreter lock that the sliders need)."""
    import gradio as gr

    import app as app_module
    from demo import training as DT

    ctx = app_module.load_context(tiny_weights, "cpu")
    try:
        with gr.Blocks():
            DT.build(ctx)
        views = ctx.training_views
        assert views.renders == 1 and views._version == ctx.trainer.snapshot().version
    finally:
        ctx.close()


def test_recognised_digits_must_look_like_digits_first():
    """A classifier is confident on a flat grey square; the live digits count must not call that recognised.

    The stub classifier answers "1" with probability ≈ 1 for every image.  An untrained G draws near-uniform grey,
    so at step 0 nothing in the grid is recognised; real MNIST digits pass the look-like-a-digit check."""
    from ganmodels import data as datamod
    from ganmodels.models import classifier as C

    digits, _ = datamod.mnist_digits()
    assert C.looks_like_mnist(digits[:500]).all()
    grey = np.full((3, 28, 28), 127, np.uint8)
    assert not C.looks_like_mnist(grey).any()
    assert not C.looks_like_mnist(np.zeros((1, 28, 28), np.uint8)).any()      # no ink
    assert not C.looks_like_mnist(np.full((1, 28, 28), 255, np.uint8)).any()  # all ink

    class Sure(torch.nn.Module):            # features + head like the project's classifier
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def features(self, x):
            return x.flatten(1)[:, :4] * 0 + self.w

        def head(self, f):
            return torch.nn.functional.one_hot(torch.ones(len(f), dtype=torch.long), 10).float() * 50 + f[:, :1]

    cfg = T.RunConfig(dataset="mnist", batch=8, z_dim=8, ngf=4, ndf=4, grid_n=2, ema=0.5)
    tr = T.Trainer(cfg, classifier=Sure())
    try:
        m = tr.snapshot().metrics
        assert m["recognised"] == 0.0 and m["grid_classes"] == 0
    finally:
        tr.close()
