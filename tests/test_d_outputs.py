"""Issue 34 #5: what D outputs, per loss (σ is a probability only for minimax / non-saturating), and
WGAN with weight clipping (Arjovsky et al. 2017) beside WGAN-GP.

Small nets and batches; nothing here reads ../shared.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from demo import training as TR
from ganmodels import losses
from ganmodels.models import dcgan, toy
from ganmodels.training import live as T
from ganmodels.training.loop import train_loop


def small(**kw) -> T.RunConfig:
    base = dict(dataset="ring", loss="ns", batch=32, hidden=16, lr_g=1e-3, lr_d=1e-3)
    return T.RunConfig(**{**base, **kw})


def _alt(html: str) -> str:
    return re.search(r'alt="([^"]*)"', html).group(1)


# ------------------------------------------------------------------ what the D-output panel says


def test_d_output_panel_names_what_each_loss_outputs():
    for loss in ("minimax", "ns"):
        spec = TR.d_output_spec(loss)
        assert "σ" in spec["title"] and "probability" in spec["title"]
        assert spec["ylim"] == (-0.02, 1.02) and [c for c, _ in spec["curves"]] == ["d_real", "d_fake"]
        assert [r[0] for r in spec["refs"]] == [0.5]                       # D* = ½ with labels 1 / 0
    assert [r[0] for r in TR.d_output_spec("ns", 0.9, 0.0)["refs"]] == [0.45]   # (a + b)/2 with smoothing

    ls = TR.d_output_spec("lsgan", 0.9, 0.0)
    for text in (ls["title"], ls["ylabel"], ls["status"]):
        assert "σ" not in text and "probab" not in text.lower()
    assert [c for c, _ in ls["curves"]] == ["score_real", "score_fake"] and ls["ylim"] is None
    refs = {r[0]: r[1] for r in ls["refs"]}
    assert "target for real" in refs[0.9] and "target for fake" in refs[0.0]     # the labels the code uses
    assert "G's target" in refs[1.0] and 0.45 in refs
    assert "b = 0.9" in ls["status"] and "a = 0" in ls["status"]

    for loss in ("wgan-gp", "wgan-clip"):
        w = TR.d_output_spec(loss)
        assert "critic score" in w["title"] and "critic score" in w["ylabel"] and "σ" not in w["title"]
        assert [c for c, _ in w["curves"]] == ["score_real", "score_fake", "w_est"] and w["ylim"] is None
        assert "Wasserstein" in w["status"] and "σ" not in w["status"]
    hinge = TR.d_output_spec("hinge")
    assert sorted(r[0] for r in hinge["refs"]) == [-1.0, 1.0] and "σ" not in hinge["title"]
    assert set(losses.D_OUTPUT) == set(losses.LOSSES)


@pytest.mark.parametrize("loss", ["ns", "lsgan", "wgan-clip", "hinge"])
def test_curves_and_status_show_the_losses_own_d_output(loss):
    tr = T.Trainer(small(loss=loss, k=2))
    try:
        tr.run_steps(4)
        snap = TR.snapshot_dict(tr.snapshot())
        spec = TR.d_output_spec(loss)
        _, curves = TR.render_all(snap, tr.curves())
        alt = _alt(curves)
        assert spec["title"] in alt and spec["ylabel"] in alt
        ax = TR._curves_fig("toy", 6.4, 90)[1][0, 1]                       # the panel just drawn
        assert ax.get_title() == spec["title"] and ax.get_ylabel() == spec["ylabel"]
        c = tr.curves()
        want = {"d_real": c["d_real"], "d_fake": c["d_fake"], "score_real": c["score_real"],
                "score_fake": c["score_fake"], "w_est": c["score_real"] - c["score_fake"]}
        for line, (col, label) in zip(ax.get_lines(), spec["curves"]):
            assert line.get_label() == label
            np.testing.assert_allclose(line.get_ydata(), want[col])
        status = TR.status_markdown(snap)
        m = snap["metrics"]
        if loss == "ns":
            assert f"D(x) {m['d_real']:.2f}" in status and "probabilities" in status
        else:
            assert "σ" not in status and "(probabilities" not in status
            assert f"{m['score_real']:.2f}"[:4] in status or f"{m['score_real']:.3g}" in status
        if loss == "wgan-clip":
            assert "critic scores" in status and "Wasserstein" in status
    finally:
        tr.close()


# ------------------------------------------------------------------ the recorded scores are D's outputs


@pytest.mark.parametrize("fuse", [True, False])
@pytest.mark.parametrize("loss", ["ns", "lsgan", "wgan-gp", "hinge"])
def test_recorded_raw_scores_are_ds_outputs(loss, fuse):
    torch.manual_seed(0)
    cfg = toy.ToyConfig(z_dim=2, hidden=8)
    G, D = toy.ToyGenerator(cfg), toy.ToyDiscriminator(cfg)
    obj = T.LiveObjective(G, D, loss=loss, z_dim=2, real_label=0.9, fuse=fuse)
    z = torch.randn(5, 2)
    obj.sample_z = lambda n, device: z[:n]
    x = torch.randn(5, 2)
    loss_d, logs = obj.d_loss(x)
    with torch.no_grad():
        r, f = D(x), D(G(z))
    assert logs["score_real"] == pytest.approx(r.mean().item(), abs=1e-6)
    assert logs["score_fake"] == pytest.approx(f.mean().item(), abs=1e-6)
    assert logs["d_real"] == pytest.approx(torch.sigmoid(r).mean().item(), abs=1e-6)
    assert logs["d_fake"] == pytest.approx(torch.sigmoid(f).mean().item(), abs=1e-6)
    if loss != "wgan-gp":                                       # (WGAN-GP adds a random-point penalty)
        assert logs["d_loss"] == pytest.approx(losses.d_loss(loss, r, f, 0.9, 0.0).item(), abs=1e-6)


def test_history_and_snapshot_carry_the_raw_scores():
    tr = T.Trainer(small(loss="lsgan"))
    try:
        tr.run_steps(3)
        assert T.HISTORY_COLUMNS[-2:] == ("score_real", "score_fake")
        row = dict(zip(T.HISTORY_COLUMNS, tr.history[-1]))
        assert all(math.isfinite(v) for k, v in row.items() if k != "gp")         # (gp: WGAN-GP only)
        m = tr.snapshot().metrics
        assert m["score_real"] == tr.history[-1][T.HISTORY_COLUMNS.index("score_real")]
        assert tr.snapshot().real_label == 1.0 and tr.snapshot().fake_label == 0.0
    finally:
        tr.close()
    # a checkpoint written before the raw scores were recorded: 6 numbers a row, NaN for the scores
    rows = T._history_rows([[1, 0.5, 0.6, 0.4, 0.3, None]])
    assert len(rows[0]) == len(T.HISTORY_COLUMNS) and all(math.isnan(v) for v in rows[0][-3:])


# ------------------------------------------------------------------ WGAN with weight clipping


def test_wgan_clip_is_listed_everywhere_with_its_formula():
    assert "wgan-clip" in losses.LOSSES and losses.LOSS_NAMES["wgan-clip"] == "WGAN (weight clipping)"
    assert "wgan-clip" in losses.__doc__ and "clipped to" in losses.__doc__
    md = TR.losses_markdown()
    for loss in losses.LOSSES:                     # every loss the menu offers has its row of formulas
        assert f"| {losses.LOSS_NAMES[loss]} (`{loss}`) |" in md
    assert r"\mathrm{clip}(w,-c,c)" in md and "c=0.01" in md
    assert "Lucic" in md and "Quoted" in md and "*“" in md          # the warning, marked as a quote
    from ganmodels.recipes import dcgan as recipe
    import argparse

    p = argparse.ArgumentParser()
    recipe.add_args(p)
    assert p.parse_args(["--loss", "wgan-clip"]).loss == "wgan-clip"    # the CLI offers it too


def test_wgan_clip_losses():
    r, f = torch.tensor([3.0, 1.0]), torch.tensor([1.0, 0.0])
    assert losses.d_loss("wgan-clip", r, f).item() == pytest.approx(0.5 - 2.0)   # E[f] − E[r]
    assert losses.g_loss("wgan-clip", f).item() == pytest.approx(-0.5)           # −E[f]
    assert losses.CLIP_C == 0.01


def test_every_d_weight_is_clipped_after_each_critic_step():
    tr = T.Trainer(small(loss="wgan-clip", k=3, lr_d=0.05))     # a large step: unclipped weights leave [−c, c]
    c = losses.CLIP_C
    try:
        assert tr.objective.clip_c == c
        assert all(p.abs().max() <= c for p in tr.D.parameters())          # clipped from the start
        seen = []
        opt = tr.optimizers["D"]
        opt.register_step_post_hook(lambda o, a, k: seen.append(
            max(p.abs().max().item() for p in tr.D.parameters())))
        tr.run_steps(2)
        assert len(seen) == 6                                               # k = 3 critic steps × 2
        assert max(seen) <= c + 1e-9                                       # after every critic step
        assert any(p.abs().max() > c * 0.999 for p in tr.D.parameters())   # and the clip binds
        # the loss shown is the loss trained: D's loss = E[D(G(z))] − E[D(x)], nothing added
        h = dict(zip(T.HISTORY_COLUMNS, tr.history[-1]))
        assert h["d_loss"] == pytest.approx(h["score_fake"] - h["score_real"], abs=1e-6)
        assert math.isnan(h["gp"])
    finally:
        tr.close()
    # any D whose optimizer this package did not build (the command line's): clipped before every forward
    torch.manual_seed(0)
    tiny = dcgan.DCGANConfig(z_dim=16, ngf=8, ndf=8)
    G, D = dcgan.Generator(tiny), dcgan.Discriminator(tiny)
    obj = losses.GANObjective(G, D, loss="wgan-clip", z_dim=16)
    opts = {"G": torch.optim.Adam(G.parameters(), 1e-3), "D": torch.optim.Adam(D.parameters(), 0.05)}
    x = torch.randn(32, 1, 28, 28).clamp(-1, 1)
    from ganmodels import data

    train_loop(obj, data.batches(x, 8), opts, steps=2, k=2)
    D(x[:2])
    assert max(p.abs().max().item() for p in D.parameters()) <= c


def test_wgan_clip_preset_trains_the_loss_its_title_names():
    p = T.PRESETS["wgan_clip"]
    assert p.config["loss"] == "wgan-clip" and p.config["k"] == 5
    assert "weight clipping" in p.title and "c = 0.01" in p.title and "seeds" in p.title
    assert list(T.PRESETS).index("wgan_clip") == list(T.PRESETS).index("wgan") + 1     # beside WGAN-GP
    assert "c=0.01" in p.explain.replace(" ", "") and "RMSProp" in p.explain and "Adam" in p.explain
    tr = T.Trainer(T.preset_config("wgan_clip", batch=32, hidden=16))
    try:
        assert tr.objective.loss == "wgan-clip" and tr.cfg.loss == "wgan-clip"
        tr.run_steps(1)
        assert all(p.abs().max() <= losses.CLIP_C for p in tr.D.parameters())
        assert losses.LOSS_NAMES["wgan-clip"] in TR.status_markdown(TR.snapshot_dict(tr.snapshot()))
    finally:
        tr.close()
    wgan = T.PRESETS["wgan"]
    assert wgan.config["loss"] == "wgan-gp" and "seeds" in wgan.title


def test_preset_titles_say_what_was_measured():
    """Titles of the ring presets give the measured modes of 8 and the seeds, and oversell nothing."""
    for name in ("collapse", "nonsat_loss", "nonsat", "wgan", "wgan_clip"):
        title = T.PRESETS[name].title
        assert re.search(r"\d+, \d+, \d+ of 8 modes", title) and "seeds 0, 1, 2" in title, title
        assert "covers all" not in title.lower() and "cure" not in title.lower()
