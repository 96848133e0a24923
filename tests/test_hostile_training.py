"""A curious student against the Live training tab (issue 35, items 1 and 4).

* a checkpoint whose settings name a folder outside ``--data-dir`` (or any folder while the
  image-folder dataset is off) is refused exactly as the typed folder is, with one message that
  does not say whether the path exists;
* a checkpoint with settings beyond the tab's own ranges is refused with the allowed range;
* with the heaviest allowed settings, Pause and Reset return within 2 s, and a replaced training
  thread stops: it never writes into the new run.

The attacks go through the HTTP API of the app as ``python app.py [--data-dir DIR]`` serves it.
"""
from __future__ import annotations

import csv
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from bench.common import upload
from bench.classroom import endpoints
from tests.conftest import api_call, serving_app, trainer_threads, wait_until
from ganmodels.training import live as T

BLOCK_S = 2.0            # the most Pause or Reset may block
CKPT = "run.safetensors"  # the name the student's browser sends


def write_images(folder: Path, n: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (36, 36, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return folder


def save_run(path: Path, cfg: T.RunConfig) -> Path:
    """A checkpoint saved by a real Trainer after two steps (trusted use: no --data-dir gate)."""
    tr = T.Trainer(cfg)
    try:
        tr.run_steps(2)
        return tr.save(path)
    finally:
        tr.close()


def edit_config(src: Path, dst: Path, **changes) -> Path:
    """``src`` with its safetensors metadata edited: info → config updated with ``changes``."""
    with safe_open(str(src), framework="pt") as f:
        meta = dict(f.metadata())
    info = json.loads(meta["info"])
    info["config"].update(changes)
    meta["info"] = json.dumps(info)
    dst.parent.mkdir(parents=True, exist_ok=True)
    save_file(load_file(str(src)), str(dst), metadata=meta)
    return dst


def message(status: int, body: dict) -> str:
    """The text of a refusal (a gr.Error raised by the tab)."""
    assert status != 200, body
    assert isinstance(body.get("error"), str) and body["error"].strip(), body
    return body["error"]


# ------------------------------------------------------------------ the app, as a lecturer starts it


@pytest.fixture(scope="module")
def world(tiny_weights, tmp_path_factory):
    """A data dir with an image folder, an image folder outside it, an image-run checkpoint."""
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    write_images(data / "faces", 8)
    outside = write_images(root / "outside_faces", 8, seed=1)          # exists, holds images
    ckpt = save_run(root / "saved" / CKPT, T.RunConfig(dataset="folder", folder=str(data / "faces"), batch=4,
                                                       z_dim=8, ngf=4, ndf=4, grid_n=2))
    toy = save_run(root / "saved_toy" / CKPT, T.RunConfig(dataset="ring", batch=32, hidden=16))
    return {"root": root, "data": data, "outside": outside, "ckpt": ckpt, "toy": toy,
            "weights": tiny_weights}


@pytest.fixture(scope="module", params=["no --data-dir", "--data-dir"])
def served(request, world):
    """The app served as ``python app.py --open-api [--data-dir DATA]``. Yields (url, ctx)."""
    flags = ["--open-api"] + (["--data-dir", str(world["data"])] if request.param == "--data-dir" else [])
    with serving_app(world["weights"], *flags) as (url, _, ctx):
        yield url, ctx


def typed(url: str, folder: str) -> str:
    """The tab's Reset with the image-folder dataset and ``folder`` typed in the folder box."""
    return message(*api_call(url, "training_reset",
                             ["folder", "ns", 1e-3, 1e-3, 1, 32, 2, "none (1 / 0)", 0, "", folder,
                              1, 2, 64, 2, 64, "adam", "gaussian"]))


def load(url: str, path: Path):
    fd = upload(url, CKPT, path.read_bytes())
    return api_call(url, "training_load", [fd])


# ------------------------------------------------------------------ 1. a checkpoint walks past --data-dir


def test_checkpoint_folder_goes_through_the_data_dir_gate(served, world, tmp_path):
    url, ctx = served
    before = (ctx.trainer.cfg.dataset, ctx.trainer.cfg.folder, ctx.trainer.step)
    bad = ["/etc", "/no/such/dir", str(world["outside"]), str(world["data"] / ".." / "outside_faces"),
           "../outside_faces"]
    loaded_msgs, typed_msgs = set(), set()
    for i, folder in enumerate(bad):
        ckpt = edit_config(world["ckpt"], tmp_path / str(i) / CKPT, dataset="folder", folder=folder)
        msg = message(*load(url, ckpt))
        typed_msg = typed(url, folder)
        # refused exactly as the typed folder is; only the student's own file name is added
        assert msg == f"could not load {CKPT}: {typed_msg}", (folder, msg, typed_msg)
        for path in (folder, "/etc", "/no/such", "outside_faces", str(world["root"])):
            assert path not in msg, (folder, msg)
        loaded_msgs.add(msg)
        typed_msgs.add(typed_msg)
    # one message whatever the path: no oracle for which folders exist
    assert len(loaded_msgs) == 1 and len(typed_msgs) == 1, (loaded_msgs, typed_msgs)
    if not ctx.data_dirs:
        assert "--data-dir" in typed_msgs.pop()
    # nothing of the run changed
    assert (ctx.trainer.cfg.dataset, ctx.trainer.cfg.folder, ctx.trainer.step) == before
    if ctx.data_dirs:      # a folder inside --data-dir still loads (absolute or relative to it)
        for folder in (str(world["data"] / "faces"), "faces"):
            ckpt = edit_config(world["ckpt"], tmp_path / "ok" / folder.replace("/", "_") / CKPT, folder=folder)
            status, body = load(url, ckpt)
            assert status == 200, body
            assert ctx.trainer.cfg.dataset == "folder" and ctx.trainer.step == 2
            assert Path(ctx.trainer.cfg.folder) == (world["data"] / "faces").resolve()


def test_folder_gate_makes_no_existence_oracle(tmp_path):
    from ganmodels import data as D
    from ganmodels.errors import InputError

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "escape").symlink_to("/etc")            # a link inside that points outside
    roots = [tmp_path / "in"]
    msgs = set()
    for folder in ("/etc", "/no/such/dir", "escape", "escape/ssl", "../", "/etc/../etc", "x\0y", str(tmp_path)):
        with pytest.raises(InputError) as e:
            D.allowed_folder(folder, roots)
        msgs.add(str(e.value))
    assert len(msgs) == 1 and "/etc" not in msgs.pop()
    off = set()
    for folder in ("/etc", "/no/such/dir", str(tmp_path / "in"), "", None):
        with pytest.raises(InputError) as e:
            D.allowed_folder(folder, [])
        off.add(str(e.value))
    assert len(off) == 1 and "--data-dir" in off.pop()
    # the Trainer applies the same gate to every way in: its first config, reset, configure and load
    tr = T.Trainer(T.RunConfig(dataset="ring", batch=32, hidden=16), data_dirs=roots)
    try:
        for call in (tr.reset, tr.configure, lambda c: T.Trainer(c, data_dirs=roots)):
            with pytest.raises(InputError, match="only folders inside"):
                call(T.RunConfig(dataset="folder", folder="/etc", batch=32))
    finally:
        tr.close()


# ------------------------------------------------------------------ 4a. settings beyond the tab's ranges


def test_over_range_checkpoint_is_refused_with_the_allowed_range(served, world, tmp_path):
    url, ctx = served
    step = ctx.trainer.step
    for i, (name, value) in enumerate([("k", 20), ("batch", 1024), ("ngf", 128)]):
        ckpt = edit_config(world["toy"], tmp_path / str(i) / CKPT, **{name: value})
        msg = message(*load(url, ckpt))
        lo, hi = T.LIMITS[name]
        assert msg.startswith(f"could not load {CKPT}: ") and name in msg and f"[{lo}, {hi}]" in msg, msg
    both = edit_config(world["toy"], tmp_path / "all" / CKPT, k=20, batch=1024, ngf=128)
    assert "[" in message(*load(url, both))
    if ctx.data_dirs:        # an image run's batch is bounded tighter (a DCGAN step costs ~40× a 2-D one)
        lo, hi = T.limits("folder")["batch"]
        msg = message(*load(url, edit_config(world["ckpt"], tmp_path / "img" / CKPT, batch=hi + 1)))
        assert "batch" in msg and f"[{lo}, {hi}]" in msg, msg
    assert ctx.trainer.step == step
    # the tab's sliders offer exactly the ranges the trainer accepts
    comps = endpoints(url)["training_reset"]
    from demo.training import SETTING_NAMES

    for name in ("k", "batch", "z_dim"):
        props = comps[SETTING_NAMES.index(name)]["props"]
        assert (props["minimum"], props["maximum"]) == T.LIMITS[name], name


def test_checkpoint_with_junk_settings_gets_a_message(world, tmp_path):
    tr = T.Trainer(T.RunConfig(dataset="ring", batch=32, hidden=16), data_dirs=())
    try:
        for i, change in enumerate([{"k": "20"}, {"k": [1]}, {"batch": 2.5}, {"loss": ["ns"]}, {"dataset": {}},
                                    {"beta1": "x"}, {"gp_weight": float("inf")}, {"ema": 2.0}, {"seed": -1},
                                    {"max_steps": "many"}, {"dataset": "drawn", "points": 7},
                                    {"dataset": "drawn", "points": [[0, 0]] * 50_000}]):
            ckpt = edit_config(world["toy"], tmp_path / str(i) / CKPT, **change)
            with pytest.raises(ValueError):
                tr.load(ckpt)
            assert tr.step == 0 and tr.cfg.dataset == "ring"
    finally:
        tr.close()


# ------------------------------------------------------------------ 4b. pause/reset within 2 s


def heaviest(kind: str, folder: Path) -> T.RunConfig:
    """The heaviest settings the trainer accepts for a data kind (WGAN-GP: two backward passes)."""
    L = T.LIMITS
    common = dict(loss="wgan-gp", k=L["k"][1], z_dim=L["z_dim"][1], seed=1)
    if kind == "toy":
        return T.RunConfig(dataset="ring", batch=L["batch"][1], hidden=L["hidden"][1], **common)
    return T.RunConfig(dataset="folder", folder=str(folder), batch=T.limits("folder")["batch"][1], ngf=L["ngf"][1],
                       ndf=L["ndf"][1], grid_n=L["grid_n"][1], ema=0.99, **common)


@pytest.mark.parametrize("kind", ["toy", "image"])
def test_pause_and_reset_return_within_2s_during_the_heaviest_step(kind, tmp_path):
    folder = write_images(tmp_path / "imgs", T.limits("folder")["batch"][1] + 8)
    tr = T.Trainer(heaviest(kind, folder), snapshot_every_s=0.2)
    try:
        tr.start()
        assert wait_until(lambda: tr._busy and tr.state == "running", 30)
        time.sleep(1.0)                                     # well inside a step (image: k D steps take s)
        t0 = time.perf_counter()
        tr.pause()
        dt = time.perf_counter() - t0
        assert dt <= BLOCK_S, f"pause blocked {dt:.2f} s"
        assert tr.state == "paused"
        assert wait_until(lambda: not tr._busy, 10)
        s = tr.step
        time.sleep(0.5)
        assert tr.step == s                                  # paused means paused

        tr.start()
        assert wait_until(lambda: tr._busy and tr.state == "running", 30)
        time.sleep(1.0)
        old = tr._thread
        t0 = time.perf_counter()
        tr.reset()
        dt = time.perf_counter() - t0
        assert dt <= BLOCK_S, f"reset blocked {dt:.2f} s"
        assert not old.is_alive() and trainer_threads() == []
        assert tr.step == 0 and tr.history == [] and tr.state == "idle"
        time.sleep(1.0)                                      # nothing of the old run arrives later
        assert tr.step == 0 and tr.history == [] and tr.snapshot().step == 0
    finally:
        tr.close()
    assert trainer_threads() == []


def test_a_replaced_thread_is_stopped_and_never_writes_into_the_new_run(tmp_path):
    """The old thread is stuck for 4 s (its between-steps hook sleeps): Reset does not wait for it, and
    when it wakes up it exits without touching the new run's state, history or CSV."""
    stuck, sleeping = threading.Event(), threading.Event()

    def between():
        if stuck.is_set() and not sleeping.is_set():
            sleeping.set()
            time.sleep(4.0)

    tr = T.Trainer(T.RunConfig(dataset="ring", batch=32, hidden=16), between_steps=between,
                   snapshot_every_s=0.05)
    try:
        tr.start()
        assert wait_until(lambda: tr.step > 5)
        stuck.set()
        assert sleeping.wait(10)
        old = tr._thread
        t0 = time.perf_counter()
        tr.pause()
        assert time.perf_counter() - t0 <= BLOCK_S
        t0 = time.perf_counter()
        tr.reset(T.RunConfig(dataset="grid", batch=32, hidden=16))
        assert time.perf_counter() - t0 <= BLOCK_S
        stuck.clear()
        tr.start()                                           # the new run trains beside the stuck thread
        assert wait_until(lambda: not old.is_alive(), 15), "the replaced thread kept running"
        assert wait_until(lambda: tr.step > 20)
        tr.pause()
        assert wait_until(lambda: not tr._busy, 10)
        assert trainer_threads() == [tr._thread]
        steps = [int(r[0]) for r in tr.history]
        assert steps == list(range(1, tr.step + 1)), steps[:20]
        assert tr.cfg.dataset == "grid" and tr.snapshot().dataset == "grid"
        rows = list(csv.DictReader(open(tr.export_csv(tmp_path / "c.csv"))))
        assert [int(r["step"]) for r in rows] == steps
    finally:
        tr.close()
    assert trainer_threads() == []
