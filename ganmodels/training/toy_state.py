"""Trained 2-D runs shipped as weights: a preset that starts where the lesson needs it.

The "freeze one player" lesson (Step D only / Step G only) needs a run that has already learned the
ring — 2,000 steps of the non-saturating preset.  Trained live that is a minute of waiting in class;
this module trains it once and saves it as a live-run checkpoint (``Trainer.save``: networks, Adam's
moments, settings and curves, safetensors) that the Live-training tab loads in an instant.

    python -m ganmodels.train toy_state --preset nonsat --steps 2000 --export weights

writes ``weights/toy_nonsat_step2000.safetensors`` and its manifest entry; ``python -m ganmodels.evaluate
toy_state`` measures it: the modes it covers, and the two freeze-one-player moments from it
(:func:`frozen_moments`).  One CPU thread, seeded: the same command gives the same file on the same
PyTorch.  This module never imports gradio.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ganmodels import weights as W
from ganmodels.training import live as T

DATA = "the ring of 8 Gaussians (radius 2, σ = 0.02), sampled by the run from its seed: no data files"


def file_name(preset: str, steps: int) -> str:
    return f"toy_{preset}_step{int(steps)}.safetensors"


def train(preset: str, steps: int, seed: int = 0) -> T.Trainer:
    """A paused trainer of ``preset`` after ``steps`` whole steps in this thread (the caller closes it)."""
    torch.set_num_threads(1)
    tr = T.Trainer(T.preset_config(preset, seed=seed))
    try:
        tr.run_steps(int(steps))
    except BaseException:
        tr.close()
        raise
    tr.state = "paused"
    return tr


@torch.no_grad()
def scores(tr: T.Trainer) -> dict:
    """D's mean σ(output) on the 2,500 real points KL/JS are measured on and on G's fixed-z points; the modes
    those points cover; the share of them within 0.25 of the point D scores highest (on a 64×64 grid)."""
    from ganmodels.models import toy

    fake = tr.G(tr.run.z_fixed)
    real = torch.as_tensor(tr.run.real_metric)
    e = tr.run.toy_data.extent
    field = toy.d_field(tr.D, e)                               # row 0 = top
    r, c = np.unravel_index(int(np.argmax(field)), field.shape)
    v = np.linspace(-e, e, field.shape[0])
    best = torch.tensor([v[c], v[::-1][r]], dtype=torch.float32)
    near = float((torch.linalg.norm(fake - best, dim=1) <= 0.25).float().mean())
    m = toy.mode_metrics(fake, tr.run.toy_data.modes, tr.run.toy_data.sigma)
    return {"d_real": round(float(torch.sigmoid(tr.D(real)).mean()), 3),
            "d_fake": round(float(torch.sigmoid(tr.D(fake)).mean()), 3),
            "modes_covered": m["modes_covered"], "near_d_max_pct": round(100 * near, 1)}


def frozen_moments(start, updates: int) -> dict:
    """Step D only / Step G only, measured: ``start()`` gives a fresh paused trainer each time; from it
    ``updates`` updates of D alone, of G alone, and of D alone then G alone (:func:`scores` before/after)."""
    out: dict = {"updates": int(updates)}
    for name, order in (("D_only", "D"), ("G_only", "G"), ("D_then_G", "DG")):
        tr = start()
        try:
            row = {"before": scores(tr)}
            for which in order:
                tr.update_once(which, int(updates))
                row[f"after_{which}"] = scores(tr)
            out[name] = row
        finally:
            tr.close()
    return out


def load(path: str | Path, manifest: dict | None = None) -> T.Trainer:
    """A paused trainer from a shipped state (its sha256 checked against ``manifest`` when given)."""
    path = Path(path)
    if manifest is not None:
        W.verify(path, manifest)
    tr = T.Trainer()                  # load() replaces its settings with the state's
    tr.load(path)
    return tr


def export(preset: str, steps: int, out: str | Path, seed: int = 0) -> str:
    """Train ``preset`` for ``steps`` steps, save it into folder ``out`` with its manifest entry; its file name."""
    if int(steps) < 1:
        raise ValueError("the number of steps must be at least 1")
    t0 = time.time()
    tr = train(preset, steps, seed)
    try:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        name = file_name(preset, steps)
        tr.save(out / name)
    finally:
        tr.close()
    cmd = (f"python -m ganmodels.train toy_state --preset {preset} --steps {int(steps)}"
           + (f" --seed {seed}" if seed else "") + " --export weights")
    W.update_manifest(out, name, data=DATA, command=cmd, steps=int(steps), trained_on="CPU (1 thread)",
                      train_minutes=round((time.time() - t0) / 60, 2))
    return name


def measured_markdown(entry: dict | None) -> str:
    """The freeze-one-player numbers ``python -m ganmodels.evaluate toy_state`` wrote into the state's manifest
    entry, as one Markdown line ("" when the entry has none)."""
    try:
        f = entry["metrics"]["toy_state"]["frozen"]
        d0, d1 = f["D_only"]["before"], f["D_only"]["after_D"]
        g1 = f["D_then_G"]["after_G"]
        g0, g_only = f["G_only"]["before"], f["G_only"]["after_G"]
        n = int(f["updates"])
    except (KeyError, TypeError, ValueError):
        return ""
    return (f"**Measured** from this state (`python -m ganmodels.evaluate toy_state`, {n:,} updates of one network at a "
            "time; D's mean σ(output) on 2,500 real points and on G's 2,500 fixed-z points; modes covered of 8): "
            f"**D alone** — on real points {d0['d_real']:.2f} → {d1['d_real']:.2f}, on G's points {d0['d_fake']:.2f} → "
            f"{d1['d_fake']:.2f}, modes {d0['modes_covered']} → {d1['modes_covered']}. **Then G alone** against that D — "
            f"on G's points {d1['d_fake']:.2f} → {g1['d_fake']:.2f}, modes {d1['modes_covered']} → {g1['modes_covered']}, "
            f"points within 0.25 of D's favourite spot {d1['near_d_max_pct']:.0f} % → {g1['near_d_max_pct']:.0f} %. "
            f"(G alone straight from the state, against the D it was trained with: {g0['d_fake']:.2f} → "
            f"{g_only['d_fake']:.2f}, modes {g0['modes_covered']} → {g_only['modes_covered']}.)")
