"""Live training for a whole class (issue 31): a private 2-D run per session, the lecturer's run behind a
key, the shared scheduler, GAN Lab's views (D-only / G-only steps, slow motion, G's manifold, D's score per
point, KL/JS), the network and optimizer settings.

Isolation is checked through the HTTP API of the tab served with a lecturer key, one session hash per
simulated browser tab (as a browser sends it).  Nothing here is timed: the speed goals are in
``bench/training_class.py``.
"""
from __future__ import annotations

import gc
import json
import re
import time
import weakref

import numpy as np
import pytest
import torch

from bench.common import call_run
from ganmodels.models import toy
from ganmodels.training import classroom as C
from ganmodels.training import live as T
from tests.conftest import wait_until

KEY = "open-sesame"
NET = [1, 2, 16, 2, 16, "adam", "gaussian"]      # k_G, G layers, G neurons, D layers, D neurons, optimizer, noise


def small(**kw) -> T.RunConfig:
    return T.RunConfig(**{**dict(dataset="ring", loss="ns", batch=32, hidden=16), **kw})


def settings(dataset="ring", loss="ns", lr=1e-3, k=1, batch=32, z_dim=2, seed=0, points="", net=NET):
    """The tab's 18 settings values (demo.training.SETTING_NAMES order)."""
    return [dataset, loss, lr, lr, k, batch, z_dim, "none (1 / 0)", seed, points, "", *net]


def fingerprint(tr: T.Trainer) -> tuple:
    """What a run is: its step, updates, settings and the generated points of its fixed z."""
    with torch.no_grad():
        pts = tr.G(tr.run.z_fixed[:64]).numpy().round(6).tobytes()
    return tr.step, tr.d_updates, tr.g_updates, repr(tr.cfg), pts


# ------------------------------------------------------------------ the served tab, with a lecturer key


@pytest.fixture(scope="module")
def class_app():
    """Only the Live training tab, served with a lecturer key and a cap of 3 private runs."""
    from demo import training as TR
    from demo.context import AppContext
    from tests.conftest import serve_tab

    ctx = AppContext(trainer=T.Trainer(small(), snapshot_every_s=0.1), lecturer_key=KEY, everyone_lecturer=False,
                     max_private_runs=3, run_idle_s=600)
    try:
        with serve_tab(TR.build, ctx, default_concurrency_limit=2) as (url, _):
            yield url, ctx
    finally:
        ctx.close()


def call(url, api, data, session):
    status, msg = call_run(url, api, data, session=session)
    return status, str(msg)


def own(ctx, session) -> T.Trainer:
    tr = ctx.training_runs.get(session)
    assert tr is not None, session
    return tr


def release_all(ctx):
    for s in ctx.training_runs.sessions():
        ctx.training_runs.release(s)


def test_each_session_has_its_own_run_and_only_it_changes(class_app):
    url, ctx = class_app
    release_all(ctx)
    A, B = "student-a", "student-b"
    for s in (A, B):
        assert call(url, "training_step", [], s)[0] == "ok"
    a, b, lect = own(ctx, A), own(ctx, B), ctx.trainer
    assert a is not b and a is not lect and b is not lect
    before_b, before_l = fingerprint(b), fingerprint(lect)
    # A: steps, D-only / G-only updates, new settings (a drawn distribution), reset, start/pause
    assert call(url, "training_step", [], A)[0] == "ok"
    assert call(url, "training_step_d", [10], A)[0] == "ok"
    assert call(url, "training_step_g", [1], A)[0] == "ok"
    assert call(url, "training_reset", settings(dataset="drawn", points="-1, 1\n1, 1\n0, -1", seed=5), A)[0] == "ok"
    assert a.cfg.dataset == "drawn" and a.cfg.seed == 5 and a.step == 0
    assert call(url, "training_start", [], A)[0] == "ok"
    assert wait_until(lambda: a.step > 5, 60)
    assert call(url, "training_pause", [], A)[0] == "ok"
    assert call(url, "training_preset", ["collapse"], A)[0] == "ok"
    assert a.cfg.loss == "minimax"
    assert fingerprint(b) == before_b and fingerprint(lect) == before_l
    # and the other way round: B's reset leaves A's run
    before_a = fingerprint(a)
    assert call(url, "training_reset", settings(dataset="grid"), B)[0] == "ok"
    assert b.cfg.dataset == "grid" and fingerprint(a) == before_a and fingerprint(lect) == before_l


def test_students_cannot_drive_the_lecturers_run_without_the_key(class_app):
    url, ctx = class_app
    lect = ctx.trainer
    S = "student-watcher"
    assert call(url, "training_mode", ["Watch the lecturer's run"], S)[0] == "ok"
    before = fingerprint(lect)
    for api, data in (("training_start", []), ("training_step", []), ("training_step_d", [1]),
                      ("training_reset", settings(dataset="moons")), ("training_preset", ["wgan"])):
        status, msg = call(url, api, data, S)
        assert status == "error" and "Only the lecturer" in msg, (api, status, msg)
    assert call(url, "training_unlock", ["not the key"], S)[0] == "ok"
    status, msg = call(url, "training_reset", settings(dataset="moons"), S)
    assert status == "error" and "Only the lecturer" in msg
    assert fingerprint(lect) == before and lect.state != "running"
    # watching is allowed: the poll shows the lecturer's run
    status, _ = call(url, "training_poll", [None], S)
    assert status == "ok"
    # the lecturer enters the key once, then drives it (and may train an image model on it)
    L = "lecturer"
    assert call(url, "training_mode", ["Watch the lecturer's run"], L)[0] == "ok"
    assert call(url, "training_unlock", [KEY], L)[0] == "ok"
    assert call(url, "training_reset", settings(dataset="moons"), L)[0] == "ok"
    assert lect.cfg.dataset == "moons"
    assert call(url, "training_step", [], L)[0] == "ok" and lect.step == 1
    # a session without a hash (a script) is no lecturer either
    status, _ = call_run(url, "training_step", [])
    assert lect.step == 1


def test_wrong_lecturer_keys_are_rate_limited_per_address():
    """Guessing the key from one address stops after a few tries (new session hashes do not help);
    another address is not blocked, and the right key works again once the window has passed."""
    from types import SimpleNamespace

    from demo import training as TR

    h = TR._Handlers(None, None, (), runs=object(), key=KEY, everyone=False)

    def req(session, host):
        return SimpleNamespace(session_hash=session, client=SimpleNamespace(host=host))

    for i in range(TR.KEY_TRIES):
        assert "not the lecturer key" in h.unlock(f"guess{i}", req(f"s{i}", "10.0.0.7"))
    # the next try from that address is refused even with the right key and a fresh session
    msg = h.unlock(KEY, req("fresh", "10.0.0.7"))
    assert "Too many wrong keys" in msg and "fresh" not in h.lecturers
    # another address (the lecturer's laptop) is not locked out
    assert "Lecturer" in h.unlock(KEY, req("lecturer", "10.0.0.1")) and "lecturer" in h.lecturers
    # after the window the address may try again
    h.key_misses["10.0.0.7"] = [t - TR.KEY_WINDOW_S for t in h.key_misses["10.0.0.7"]]
    assert "Lecturer" in h.unlock(KEY, req("fresh", "10.0.0.7")) and "fresh" in h.lecturers


def test_image_runs_are_the_lecturers_and_students_get_a_message(class_app):
    url, ctx = class_app
    S = "student-images"
    status, msg = call(url, "training_reset", settings(dataset="mnist", batch=32), S)
    assert status == "error" and "only the lecturer" in msg and "2-D" in msg, msg
    # the preset answers with a toast and the message under the settings (an error would mark every setting)
    import urllib.request

    from bench.common import _body

    req = urllib.request.Request(f"{url}/gradio_api/run/training_preset", data=_body(["digits"], S),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        out = json.loads(r.read())["data"]
    assert "only the lecturer" in out[-1], out
    assert ctx.training_runs.get(S) is None or ctx.training_runs.get(S).cfg.is_toy


def test_the_cap_refuses_the_next_run_with_a_message(class_app):
    url, ctx = class_app
    release_all(ctx)
    for i in range(3):
        assert call(url, "training_step", [], f"cap-{i}")[0] == "ok"
    status, msg = call(url, "training_start", [], "cap-3")
    assert status == "error" and "3 private runs" in msg and "--max-private-runs" in msg, msg
    assert ctx.training_runs.get("cap-3") is None
    # a closed tab frees its slot (the browser's unload event)
    ctx.training_runs.release("cap-0")
    assert call(url, "training_step", [], "cap-3")[0] == "ok"
    release_all(ctx)


def test_a_closed_sessions_run_is_stopped_and_freed_after_the_timeout():
    runs = C.PrivateRuns(lambda cfg, scheduler: T.Trainer(cfg, scheduler=scheduler), cap=5, idle_s=3.0)
    try:
        for s in ("gone", "stay"):
            runs.create(s, small()).start()
        stay = runs.get("stay")
        assert wait_until(lambda: runs.get("gone").step > 3 and stay.step > 3, 60)
        g_ref, d_ref = weakref.ref(runs.get("gone").G), weakref.ref(runs.get("gone").D)
        # "stay" keeps polling (its tab is open), "gone" is not polled any more (its tab was closed)
        assert wait_until(lambda: runs.get("stay") is not None and "gone" not in runs.sessions(), 30)
        assert runs.closed_idle >= 1 and "stay" in runs.sessions()
        gc.collect()
        assert g_ref() is None and d_ref() is None, "the closed run's networks are still in memory"
        assert all(t.G is not g_ref() for t in runs.scheduler.trainers)
        s = stay.step
        assert wait_until(lambda: stay.step > s, 30)          # the other run goes on
    finally:
        runs.close()


def test_one_thread_trains_every_run_and_none_starves():
    """Runs of very different cost share one scheduler thread: all of them advance."""
    runs = C.PrivateRuns(lambda cfg, sch: T.Trainer(cfg, scheduler=sch), cap=10, idle_s=600)
    try:
        trs = [runs.create(f"s{i}", small(hidden=h, batch=b)) for i, (h, b) in
               enumerate([(16, 32), (256, 512), (16, 32), (64, 256)])]
        for t in trs:
            t.start()
        assert wait_until(lambda: all(t.step >= 3 for t in trs), 120), [t.step for t in trs]
        names = {t.name for t in runs.scheduler.threads}
        assert names == {"gan-class-scheduler-0"}
        assert not any(t.thread_alive for t in trs)           # no thread of their own
        for t in trs:
            t.pause()
        steps = [t.step for t in trs]
        time.sleep(0.3)
        assert [t.step for t in trs] == steps                 # paused means paused
    finally:
        runs.close()


# ------------------------------------------------------------------ batched runs (ganmodels.training.batched)


def _double(tr: T.Trainer, z_seed: int) -> None:
    """The run in float64 with its own z generator: two ways of training it must then agree exactly."""
    run = tr.run
    run.G.double()
    run.D.double()
    data = run.data
    run.data = (x.double() for x in data)
    g = torch.Generator().manual_seed(z_seed)
    run.objective.sample_z = lambda n, device: toy.sample_noise(run.cfg.noise, n, run.cfg.z_dim, generator=g).double()


@pytest.mark.parametrize("loss,optimizer,k,runs", [("ns", "adam", 1, 3), ("minimax", "adam", 2, 3),
                                                   ("lsgan", "adam", 1, 3), ("hinge", "sgd", 3, 3),
                                                   ("wgan-clip", "sgd", 1, 3), ("wgan-gp", "adam", 2, 1)])
def test_batched_runs_train_as_each_would_alone(loss, optimizer, k, runs):
    """R runs (their own data, seeds and learning rates) stepped as one batched computation end where
    train_loop takes each alone: parameters, Adam state and every step's logs (float64, so that Adam's
    division cannot amplify float32 rounding).  WGAN-GP with one run: its interpolation ε comes from
    the global generator, drawn per run by train_loop and for all runs at once here."""
    from ganmodels.training import batched
    from ganmodels.training.loop import train_loop

    cfgs = [small(dataset=d, loss=loss, optimizer=optimizer, k=k, seed=s, lr_d=lr, beta1=b1)
            for d, s, lr, b1 in [("ring", 0, 1e-3, 0.5), ("moons", 3, 3e-3, 0.0), ("spiral", 5, 5e-4, 0.9)][:runs]]
    alone, together = [T.Trainer(c) for c in cfgs], [T.Trainer(c) for c in cfgs]
    for i, (a, b) in enumerate(zip(alone, together)):
        _double(a, 100 + i)
        _double(b, 100 + i)
    steps = 6
    torch.manual_seed(9)
    logs = []
    for a in alone:
        rows = []
        train_loop(a.objective, a.data, a.optimizers, steps=steps, k=a.cfg.k, k_g=a.cfg.k_g,
                   on_step=lambda s, lg, rows=rows: rows.append(lg))
        logs.append(rows)
    torch.manual_seed(9)
    group = batched.Group([b.run for b in together])
    out = []
    for _ in range(steps):
        o, err = group.step()
        assert not err
        out.append(o)
    group.write_back()
    for r, (a, b) in enumerate(zip(alone, together)):
        for net in ("G", "D"):
            for pa, pb in zip(getattr(a, net).parameters(), getattr(b, net).parameters()):
                assert torch.allclose(pa, pb, rtol=0, atol=1e-12), (net, (pa - pb).abs().max())
                if optimizer == "adam":
                    sa, sb = a.optimizers[net].state[pa], b.optimizers[net].state[pb]
                    assert float(sa["step"]) == float(sb["step"]) == steps * (k if net == "D" else 1)
                    assert torch.allclose(sa["exp_avg_sq"], sb["exp_avg_sq"], rtol=0, atol=1e-15)
        for s in range(steps):
            got = batched.logs_dict(out[s][r].tolist())
            assert set(got) >= set(logs[r][s]) - {"d_fake_g"}
            for key, v in logs[r][s].items():
                assert got[key] == pytest.approx(v, rel=1e-6, abs=1e-9), (s, key)     # (score_logs: float32)
    if loss == "wgan-clip":
        assert all(p.abs().max() <= 0.01 for b in together for p in b.D.parameters())
    for b in together:         # and the optimizers go on from the written-back state as usual
        b.optimizers["G"].step()


def test_the_scheduler_batches_runs_that_share_settings_and_keeps_the_others_apart():
    runs = C.PrivateRuns(lambda cfg, sch: T.Trainer(cfg, scheduler=sch), cap=10, idle_s=600)
    try:
        same = [runs.create(f"s{i}", small(seed=i, dataset=d, lr_g=lr))
                for i, (d, lr) in enumerate([("ring", 1e-3), ("moons", 2e-3), ("spiral", 1e-3)])]
        other = runs.create("other", small(loss="lsgan"))
        assert len({t.batch_key() for t in same}) == 1 and same[0].batch_key() is None   # (idle: no key)
        for t in same + [other]:
            t.start()
        assert same[0].batch_key() == same[2].batch_key() != other.batch_key() is not None
        assert wait_until(lambda: all(t.step >= 30 for t in same + [other]), 120), [t.step for t in same + [other]]
        assert runs.scheduler.batched_slices > 0
        for t in same + [other]:
            t.pause()
            assert t.state == "paused" and len(t.history) == t.step          # one curve row per step
            assert [r[0] for r in t.history] == list(range(1, t.step + 1))
        steps = [t.step for t in same]
        time.sleep(0.3)
        assert [t.step for t in same] == steps                              # paused means paused
        # each run trained its own data: the generated points differ, and match a snapshot of the run
        with torch.no_grad():
            pts = [t.G(t.run.z_fixed[:100]).numpy() for t in same]
        assert not np.allclose(pts[0], pts[1])
        same[0]._take_snapshot()
        np.testing.assert_allclose(same[0].snapshot().fake[:100], pts[0], atol=1e-6)
    finally:
        runs.close()


def test_a_nan_in_one_batched_run_pauses_it_alone():
    runs = C.PrivateRuns(lambda cfg, sch: T.Trainer(cfg, scheduler=sch), cap=10, idle_s=600)
    try:
        trs = [runs.create(f"s{i}", small(seed=i)) for i in range(3)]
        trs[1].run_steps(2)
        with torch.no_grad():
            next(trs[1].D.parameters()).fill_(float("nan"))
        for t in trs:
            t.start()
        assert wait_until(lambda: trs[1].state == "paused" and trs[0].step > 20 and trs[2].step > 20, 120)
        assert "NaN" in trs[1].message and trs[1].message.startswith("Paused: step 3:")
        assert trs[0].state == trs[2].state == "running" and not trs[0].message
    finally:
        runs.close()


# ------------------------------------------------------------------ GAN Lab's views in the trainer


def test_step_d_only_leaves_g_and_step_g_only_leaves_d():
    tr = T.Trainer(small())
    try:
        tr.run_steps(3)
        with torch.no_grad():
            g0 = tr.G(tr.run.z_fixed).clone()
            d0 = torch.tensor(toy.d_field(tr.D, 3.0))
        msg = tr.update_once("D")
        assert "one D update" in msg and tr.d_updates == 1 and tr.step == 3
        with torch.no_grad():
            assert torch.equal(tr.G(tr.run.z_fixed), g0)                  # G frozen
            d1 = torch.tensor(toy.d_field(tr.D, 3.0))
        assert not torch.equal(d1, d0)                                     # D moved
        tr.update_once("G")
        with torch.no_grad():
            assert torch.equal(torch.tensor(toy.d_field(tr.D, 3.0)), d1)   # D frozen
            assert not torch.equal(tr.G(tr.run.z_fixed), g0)               # G moved
        assert tr.snapshot().g_updates == 1 and tr.snapshot().d_updates == 1
        with pytest.raises(ValueError):
            tr.update_once("both")
    finally:
        tr.close()


def test_k_g_runs_several_g_updates_per_step():
    calls = []
    tr = T.Trainer(small(k=2, k_g=3))
    try:
        d, g = tr.objective.d_loss, tr.objective.g_loss
        tr.run.objective.d_loss = lambda b: (calls.append("D"), d(b))[1]
        tr.run.objective.g_loss = lambda b: (calls.append("G"), g(b))[1]
        tr.run_steps(2)
        assert calls == ["D", "D", "G", "G", "G"] * 2
    finally:
        tr.close()


def test_slow_motion_phases_are_one_d_and_one_g_update_on_one_batch():
    tr = T.Trainer(small())
    try:
        tr.run_steps(2)
        ph = tr.slow_iteration()
        assert tr.d_updates == 1 and tr.g_updates == 1 and tr.step == 2
        n = len(ph["fake"])
        assert ph["z"].shape == (n, 2) and ph["real"].shape == (n, 2) and ph["fake1"].shape == (n, 2)
        assert ph["s_real"].shape == (n,) and 0 <= ph["s_fake"].min() and ph["s_fake"].max() <= 1
        assert not np.array_equal(ph["field0"], ph["field1"])             # D was updated
        assert not np.allclose(ph["fake"], ph["fake1"])                   # then G
        with torch.no_grad():                                             # fake1 is the updated G on the same z
            assert np.allclose(tr.G(torch.as_tensor(ph["z"])).numpy(), ph["fake1"], atol=1e-5)
        from demo.training import PHASES, phases_payload

        pay = phases_payload(ph)
        assert len(pay["captions"]) == len(PHASES) == 5 and "D's loss" in pay["captions"][3]
        assert json.loads(json.dumps(pay))["fn"] == ph["field0"].shape[0]
        tr3 = T.Trainer(small(z_dim=3))
        try:
            assert "3 dimensions" in phases_payload(tr3.slow_iteration())["captions"][0]
        finally:
            tr3.close()
    finally:
        tr.close()


def test_manifold_mesh_and_scores_per_generated_point():
    tr = T.Trainer(small())
    try:
        tr.run_steps(2)
        tr._take_snapshot()
        snap = tr.snapshot()
        assert snap.mesh.shape == (T.MESH_N ** 2, 2) and snap.mesh_n == T.MESH_N
        with torch.no_grad():
            assert np.allclose(snap.mesh, tr.G(toy.z_grid("gaussian", T.MESH_N)).numpy())
            assert np.allclose(snap.scores, torch.sigmoid(tr.D(torch.as_tensor(snap.fake))).numpy(), atol=1e-6)
    finally:
        tr.close()
    tr = T.Trainer(small(z_dim=3))
    try:
        assert tr.snapshot().mesh is None          # a mesh needs a 2-D z
    finally:
        tr.close()


def test_kl_and_js_on_a_grid():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 2))
    same = toy.grid_divergences(a, rng.normal(size=(4000, 2)), 3.0)
    far = toy.grid_divergences(a * 0.2 - 2, a * 0.2 + 2, 3.0)
    assert 0 <= same["js"] < 0.05 and same["kl"] < 0.3
    assert far["js"] > 0.95 and far["kl"] > 5
    # every 2-D dataset, drawn data included, gets them in its metrics and curves
    tr = T.Trainer(small(dataset="drawn", points=[[0, 0], [1, 1], [-1, 1]]))
    try:
        tr.run_steps(2)
        tr._take_snapshot()
        m = tr.snapshot().metrics
        assert 0 <= m["js"] <= 1.01 and m["kl"] >= 0 and "modes_covered" not in m
        assert len(tr.curves()["m_js"]) >= 1
    finally:
        tr.close()


def test_network_optimizer_and_noise_settings():
    tr = T.Trainer(small(g_layers=3, hidden=8, d_layers=1, d_hidden=24, optimizer="sgd", noise="uniform"))
    try:
        lin_g = [m for m in tr.G.modules() if isinstance(m, torch.nn.Linear)]
        lin_d = [m for m in tr.D.modules() if isinstance(m, torch.nn.Linear)]
        assert len(lin_g) == 4 and lin_g[0].out_features == 8
        assert len(lin_d) == 2 and lin_d[0].out_features == 24
        assert isinstance(tr.optimizers["G"], torch.optim.SGD) and isinstance(tr.optimizers["D"], torch.optim.SGD)
        z = tr.objective.sample_z(1000, "cpu")
        assert z.min() >= -1 and z.max() <= 1 and z.std() > 0.5          # uniform on [−1, 1]
        tr.run_steps(2)
        tr.configure(small(g_layers=3, hidden=8, d_layers=1, d_hidden=24, optimizer="sgd", noise="uniform",
                           lr_g=5e-3, k_g=2))
        assert tr.optimizers["G"].param_groups[0]["lr"] == 5e-3 and tr.cfg.k_g == 2
    finally:
        tr.close()
    for bad in (dict(optimizer="rmsprop"), dict(noise="cauchy"), dict(g_layers=0), dict(d_layers=7), dict(k_g=11)):
        with pytest.raises(ValueError):
            T.check_config(small(**bad))
    # the defaults build exactly the networks of before (the presets' measured numbers still hold)
    torch.manual_seed(0)
    old = toy.ToyGenerator(toy.ToyConfig(z_dim=2, hidden=64))
    new = T.Trainer(T.preset_config("nonsat"))
    try:
        assert all(torch.equal(a, b) for a, b in zip(old.state_dict().values(), new.G.state_dict().values()))
    finally:
        new.close()


def test_poll_sends_frames_once_and_the_real_points_once(class_app):
    from bench.common import post

    url, ctx = class_app
    release_all(ctx)
    S = "frames"
    out = post(url, "training_poll", [None], session=S)["data"]
    assert "not started" in out[2] and json.loads(out[3])["kind"] == "none"   # no run until Start: no slot used
    assert ctx.training_runs.get(S) is None
    assert call(url, "training_start", [], S)[0] == "ok"
    tr = own(ctx, S)
    assert wait_until(lambda: len(tr.recent) >= 3, 60)
    # the first poll of the session sends the newest frame and the real points; the next ones only the
    # frames it has not seen yet, never the real points again
    first = json.loads(post(url, "training_poll", [None], session=S)["data"][3])
    assert first["kind"] == "toy" and first["real"] and len(first["frames"]) == 1 and first["frames"][0]["mesh"]
    v = tr.recent[-1].version
    assert wait_until(lambda: tr.recent[-1].version > v, 30)
    nxt = json.loads(post(url, "training_poll", [None], session=S)["data"][3])
    assert "real" not in nxt and nxt["frames"]
    assert all(f["step"] >= first["frames"][0]["step"] for f in nxt["frames"])
    tr.pause()
    release_all(ctx)


# ------------------------------------------------------------------ real Chromium


@pytest.mark.browser
def test_browser_two_sessions_train_their_own_runs(class_app, browser):
    url, ctx = class_app
    release_all(ctx)
    p1, p2 = browser.new_page(), browser.new_page()
    try:
        for p in (p1, p2):
            p.goto(url, wait_until="domcontentloaded")
        p1.get_by_role("button", name="Start / resume").click()
        assert wait_until(lambda: len(ctx.training_runs.sessions()) == 1, 60)
        run1 = ctx.training_runs.get(ctx.training_runs.sessions()[0])
        assert wait_until(lambda: run1.step > 30, 60)
        p2.get_by_role("button", name="One step (k_D D steps + k_G G steps)").click()
        assert wait_until(lambda: len(ctx.training_runs.sessions()) == 2, 60)
        plane1, plane2 = p1.locator("#gl-plane"), p2.locator("#gl-plane")
        assert wait_until(lambda: int(plane1.get_attribute("data-step") or 0) > 30, 60)
        assert wait_until(lambda: plane2.get_attribute("data-step") == "1", 60)
        assert int(plane1.get_attribute("data-step")) > 1                # different runs, different steps
        # the manifold mesh is drawn for a 2-D z: the frame the page drew has one
        assert p2.evaluate("() => window.__gl.frame.mesh !== null && window.__gl.frame.mn > 0")
        # D-only stepping in page 2 leaves its G's points where they were (and page 1's run alone)
        run2 = next(ctx.training_runs.get(s) for s in ctx.training_runs.sessions()
                    if ctx.training_runs.get(s) is not run1)
        with torch.no_grad():
            g0 = run2.G(run2.run.z_fixed).clone()
        shown0 = p2.evaluate("() => Array.from(window.__gl.frame.fake.slice(0, 20))")
        p2.get_by_role("button", name="Step D only (G frozen)").click()
        assert wait_until(lambda: run2.d_updates == 1, 60)
        with torch.no_grad():
            assert torch.equal(run2.G(run2.run.z_fixed), g0)
        assert wait_until(lambda: p2.evaluate("() => window.__gl.drawn") >= 2, 30)
        time.sleep(2 * 1.0)
        assert p2.evaluate("() => Array.from(window.__gl.frame.fake.slice(0, 20))") == shown0
        # closing a tab ends its run at once (the browser's unload event); the other run goes on
        s1 = next(s for s in ctx.training_runs.sessions() if ctx.training_runs.get(s) is run1)
        p1.close()
        assert wait_until(lambda: s1 not in ctx.training_runs.sessions(), 60)
        assert wait_until(lambda: run1.state == "closed", 30)              # stopped (release closes it)
        assert ctx.training_runs.sessions() != []
    finally:
        for p in (p1, p2):
            if not p.is_closed():
                p.close()
        release_all(ctx)


@pytest.mark.browser
def test_browser_a_refused_image_dataset_puts_the_box_back(class_app, browser):
    """A student choosing MNIST for their own run: the message says why, and the Dataset box goes back to the
    2-D dataset that Start trains (walk difference 6c: it stayed on MNIST while Start trained the ring)."""
    url, ctx = class_app
    release_all(ctx)
    page = browser.new_page()
    try:
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("button", name=re.compile(r"^Settings\s*▼$")).click()      # the accordion
        box = page.get_by_label("Dataset (image data", exact=False)
        box.click()
        page.get_by_role("option", name="MNIST digits").click()
        assert wait_until(lambda: "only the lecturer" in page.inner_text("body"), 60)
        assert wait_until(lambda: box.input_value() == "ring of 8 Gaussians", 30), box.input_value()
        time.sleep(1.5)                     # the box's own change event has come back by now: the message stays
        assert "only the lecturer" in page.inner_text("body") and box.input_value() == "ring of 8 Gaussians"
    finally:
        page.close()
        release_all(ctx)


def test_a_settings_link_is_checked_like_typed_settings():
    from demo.common import InputError
    from demo.training import settings_from_query

    cfg, preset = settings_from_query("?preset=wgan&dataset=moons&k=3&k_g=2&loss=lsgan&z_dim=3&noise=uniform"
                                      "&optimizer=sgd&d_layers=1&hidden=32")
    assert preset == "wgan" and (cfg.dataset, cfg.loss, cfg.k, cfg.k_g, cfg.z_dim) == ("moons", "lsgan", 3, 2, 3)
    assert (cfg.noise, cfg.optimizer, cfg.d_layers, cfg.hidden) == ("uniform", "sgd", 1, 32)
    assert cfg.beta2 == 0.9 and cfg.gp_weight == 10.0           # what the settings do not name: the preset's
    cfg, _ = settings_from_query("dataset=drawn&points_text=0,0%0A1,1%0A-1,1")
    assert cfg.points == [[0.0, 0.0], [1.0, 1.0], [-1.0, 1.0]]
    assert settings_from_query("folder=/etc&dataset=ring")[0].folder == ""       # no server path in a link
    for bad, words in (("preset=nope", "unknown preset"), ("k=99", "between"), ("lr_g=nan", "finite"),
                       ("loss=magic", "unknown loss"), ("x=" + "a" * 9000, "too long")):
        with pytest.raises(InputError, match=words):
            settings_from_query(bad)


@pytest.mark.browser
def test_browser_a_shared_link_reproduces_the_settings(class_app, browser):
    url, ctx = class_app
    release_all(ctx)
    p1 = browser.new_page()
    p2 = None
    try:
        p1.goto(url + "/?preset=wgan&dataset=moons&k=3&k_g=2&loss=lsgan&z_dim=3&noise=uniform",
                wait_until="domcontentloaded")
        assert wait_until(lambda: "Settings from the link" in p1.content(), 60)
        p1.get_by_role("button", name="Start / resume").click()
        assert wait_until(lambda: len(ctx.training_runs.sessions()) == 1, 60)
        run = ctx.training_runs.get(ctx.training_runs.sessions()[0])
        assert (run.cfg.dataset, run.cfg.loss, run.cfg.k, run.cfg.k_g, run.cfg.z_dim, run.cfg.noise) == \
            ("moons", "lsgan", 3, 2, 3, "uniform")
        assert run.cfg.beta2 == 0.9                              # the preset's, from the link
        run.pause()
        # "Copy a link" writes the same settings back into a link, which opens them again
        p1.get_by_role("button", name="Copy a link to this preset and these settings").click()
        box = p1.get_by_label("Link (opens the tab with them; also copied to the clipboard where the browser allows)")
        assert wait_until(lambda: "dataset=moons" in box.input_value(), 30)
        link = box.input_value()
        assert "loss=lsgan" in link and "k_g=2" in link and "folder" not in link, link
        p2 = browser.new_page()
        p2.goto(link, wait_until="domcontentloaded")
        assert wait_until(lambda: "Settings from the link" in p2.content(), 60)
        p2.get_by_role("button", name="One step (k_D D steps + k_G G steps)").click()
        assert wait_until(lambda: len(ctx.training_runs.sessions()) == 2, 60)
        run2 = next(ctx.training_runs.get(s) for s in ctx.training_runs.sessions()
                    if ctx.training_runs.get(s) is not run)
        import dataclasses

        assert dataclasses.asdict(run2.cfg) == dataclasses.asdict(run.cfg), link
    finally:
        for p in (p1, p2):
            if p is not None and not p.is_closed():
                p.close()
        release_all(ctx)


def test_settings_echoes_after_a_preset_are_told_from_real_changes(monkeypatch):
    """A preset puts new settings into every control; each control then fires a change event carrying a mix
    of the old and the new values.  Those echoes are ignored, also when a busy queue delivers them after
    the first seconds; a real change (a value that is neither old nor new) is applied and ends the echoes."""
    import dataclasses

    from demo import training as TR

    h = TR._Handlers(None, None, (), runs=object(), key=None, everyone=True)
    now = [100.0]
    monkeypatch.setattr(TR.time, "monotonic", lambda: now[0])
    req = type("R", (), {"session_hash": "s1"})()
    old, new = T.preset_config("collapse"), T.preset_config("nonsat")
    assert old.loss != new.loss and old.lr_g != new.lr_g
    mixed = dataclasses.replace(new, loss=old.loss)                  # one control has not caught up yet
    real = dataclasses.replace(new, lr_g=0.0123)                     # the student typed a learning rate
    h.expect(req, new, old)
    now[0] += 1.0
    assert h._echo(req, mixed) and not h._echo(req, new)
    now[0] += 9.0                                                    # 10 s later: a queue held it this long
    assert h._echo(req, mixed)
    assert not h._echo(req, real)                                    # a real change is applied …
    assert not h._echo(req, mixed)                                   # … and the echo phase is over
    h.expect(req, new, old)
    now[0] += TR.ECHO_MAX_S + 1
    assert not h._echo(req, mixed)                                   # much later, nothing is an echo


def test_step_d_only_takes_the_updates_per_press_and_refuses_bad_counts():
    tr = T.Trainer(small())
    try:
        msg = tr.update_once("D", 7)
        assert "7 D updates" in msg and tr.d_updates == 7 and tr.g_updates == 0 and tr.step == 0
        for bad in (0, -3, T.MAX_UPDATES + 1, "many", None, float("nan")):
            with pytest.raises(ValueError):
                tr.update_once("G", bad)
        assert tr.g_updates == 0
    finally:
        tr.close()


def test_toy_state_cli_writes_a_live_checkpoint_with_its_manifest_entry(tmp_path):
    """``python -m ganmodels.train toy_state``: a trained 2-D run saved as the tab saves one, with the
    command that makes it in the manifest; loaded, it is paused at that step with the preset's settings."""
    from ganmodels import weights as W
    from ganmodels.cli import train as cli
    from ganmodels.training import toy_state as TS

    assert cli.main(["toy_state", "--preset", "nonsat", "--steps", "12", "--export", str(tmp_path)]) == 0
    name = TS.file_name("nonsat", 12)
    entry = W.read_manifest(tmp_path)["files"][name]
    assert entry["steps"] == 12 and entry["command"].startswith("python -m ganmodels.train toy_state --preset nonsat")
    assert entry["sha256"] == W.sha256(tmp_path / name) and "ring" in entry["data"]
    tr = TS.load(tmp_path / name, W.read_manifest(tmp_path))
    try:
        assert tr.step == 12 and tr.cfg == T.check_config(T.preset_config("nonsat")) and tr.snapshot().state == "paused"
        assert len(tr.curves()["step"]) == 12                         # its curves came along
    finally:
        tr.close()
    (tmp_path / name).write_bytes((tmp_path / name).read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(W.WeightsError):                               # a changed file is refused
        TS.load(tmp_path / name, W.read_manifest(tmp_path))


def test_freeze_preset_starts_from_the_shipped_state_and_says_what_was_measured(tmp_path):
    """The "freeze" preset loads the trained state (step 2,000 in the shipped weights; a 12-step one here), and
    its paragraph carries the numbers the evaluator wrote into the manifest; without the state: a clear error."""
    from types import SimpleNamespace

    import gradio as gr

    from demo import training as TR
    from ganmodels import weights as W
    from ganmodels.training import toy_state as TS

    p = T.PRESETS["freeze"]
    assert p.start == TS.file_name("nonsat", T.PRESET_STEPS) and p.config == T.PRESETS["nonsat"].config
    tr12 = TS.train("nonsat", 12)
    try:
        tr12.save(tmp_path / p.start)
    finally:
        tr12.close()
    frozen = TS.frozen_moments(lambda: TS.load(tmp_path / p.start), 3)
    W.update_manifest(tmp_path, p.start, metrics={"toy_state": {"frozen": frozen}})
    shared = T.Trainer(small())
    try:
        h = TR._Handlers(shared, None, (), runs=object(), key=None, everyone=True, store=W.WeightStore(tmp_path))
        req = SimpleNamespace(session_hash="lecturer", client=SimpleNamespace(host="127.0.0.1"))
        out = h.use_preset("freeze", req)
        assert shared.step == 12 and shared.cfg == T.check_config(T.preset_config("nonsat"))
        assert "**Measured**" in out[len(TR.SETTING_NAMES)] and "3 updates" in out[len(TR.SETTING_NAMES)]
        assert "Measured" not in h.explain("nonsat")
        h_empty = TR._Handlers(shared, None, (), runs=object(), key=None, everyone=True,
                               store=W.WeightStore(tmp_path / "none"))
        with pytest.raises(gr.Error, match="toy_state"):
            h_empty.use_preset("freeze", req)
    finally:
        shared.close()


def test_a_student_choosing_an_image_dataset_is_told_it_is_the_lecturers_first():
    """The settings' answer to an image dataset in a student's own run is the image-run message, even with a
    2-D batch size that image data would refuse (it was "batch must be … for image data")."""
    from types import SimpleNamespace

    from demo import training as TR

    shared = T.Trainer(small())
    try:
        h = TR._Handlers(shared, None, (), runs=SimpleNamespace(get=lambda s: None), key=KEY, everyone=False)
        req = SimpleNamespace(session_hash="student-settings", client=SimpleNamespace(host="10.0.0.9"))
        msg, box = h.apply_settings(*settings(dataset="mnist", batch=256), request=req)
        assert "only the lecturer" in msg and "batch" not in msg, msg
        # the Dataset box goes back to the 2-D dataset that Start would train (walk difference 6c) ...
        assert box == "ring"
        # ... and its change event coming back leaves the message up
        assert all(isinstance(v, dict) and v.get("__type__") == "update" and len(v) == 1
                   for v in h.apply_settings(*settings(dataset="ring", batch=256), request=req))
        # a real change afterwards answers as always (a bad value: its message; a good one: none)
        msg, box = h.apply_settings(*settings(dataset="ring", lr="x"), request=req)
        assert msg.startswith("⚠️") and isinstance(box, dict)
    finally:
        shared.close()


def test_single_updates_say_what_d_outputs_now():
    tr = T.Trainer(small())
    try:
        tr.run_steps(3)
        msg = tr.update_once("D", 5)
        assert "Now D(x)" in msg and "D(G(z))" in msg and "mean σ" in msg, msg
        tr.reset(small(loss="wgan-gp"))
        assert "raw output" in tr.update_once("G", 2)
    finally:
        tr.close()
