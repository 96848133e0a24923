"""Do the ring presets behave as their names say?  Modes covered and % high-quality samples.

    python bench/modes.py            # the 4 ring presets × seeds 0, 1, 2 at the presets' step budget
    python bench/modes.py --quick    # 1 seed, 100 steps: a smoke test (< 50 s), not the verdict

For each preset on the ring of 8 Gaussians (σ = 0.02), after a fixed budget of generator
steps, 2,500 fresh samples G(z) are measured with the unrolled-GAN / VEEGAN definitions:
a sample is high-quality if it lies within 3σ of its nearest mode; a mode is covered if at
least 20 high-quality samples have it as their nearest mode.  Training runs in this process
on one CPU thread, exactly as the live tab's trainer does (``Trainer.run_steps``).

Then the two "freeze one player" moments of the tab's Step D only / Step G only buttons, from the
"nonsat" preset after ``--pre-steps`` whole steps (seed 0): ``--updates`` updates of D alone (G frozen):
D's mean score σ(D(·)) on real and on generated points before and after; and, from the same state,
``--updates`` updates of G alone (D frozen): modes covered, and the share of generated points within 0.25
of the point D scores highest, before and after; and D alone then G alone (``D_then_G``).

The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench.common import machine  # (sets the offline defaults)

ROOT = Path(__file__).resolve().parent.parent

PRESETS = ("collapse", "nonsat_loss", "nonsat", "wgan", "wgan_clip")


def frozen_moments(pre_steps: int, updates: int, seed: int = 0) -> dict:
    """Step D only / Step G only, measured (see the module docstring; ``ganmodels.training.toy_state``)."""
    from ganmodels.training import toy_state as TS

    out = {"preset": "nonsat", "seed": seed, "pre_steps": pre_steps}
    out.update(TS.frozen_moments(lambda: TS.train("nonsat", pre_steps, seed), updates))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="1 seed, 100 steps (smoke test)")
    p.add_argument("--steps", type=int, default=None, help="generator steps per run (default: the presets' budget)")
    p.add_argument("--seeds", default=None, help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--pre-steps", type=int, default=None, help="whole steps before the freeze moments (default 2000)")
    p.add_argument("--updates", type=int, default=None, help="updates of one network alone (default 1000)")
    args = p.parse_args(argv)

    import torch

    from ganmodels.training import live as T

    torch.set_num_threads(1)
    steps = args.steps or (100 if args.quick else T.PRESET_STEPS)
    seeds = [int(s) for s in (args.seeds or ("0" if args.quick else "0,1,2")).split(",")]
    load0 = os.getloadavg()[0]
    out: dict = {"bench": "modes", "dataset": "ring of 8 Gaussians, radius 2, sigma 0.02",
                 "steps": steps, "seeds": seeds, "quick": bool(args.quick), "n_samples": 2500,
                 "definition": "high-quality: within 3 sigma of the nearest mode; covered: >= 20 "
                               "high-quality samples nearest to the mode", "presets": {}}
    t_all = time.time()
    for name in PRESETS:
        rows = []
        for seed in seeds:
            t0 = time.time()
            tr = T.Trainer(T.preset_config(name, seed=seed))
            try:
                tr.run_steps(steps)
                m = tr.toy_metrics(seed=10_000 + seed)
                rows.append({"seed": seed, "modes_covered": m["modes_covered"],
                             "high_quality_pct": round(100 * m["high_quality"], 1),
                             "seconds": round(time.time() - t0, 1)})
            except Exception as e:  # noqa: BLE001 -- a NaN run is a result, not a crash
                rows.append({"seed": seed, "error": str(e), "modes_covered": 0, "high_quality_pct": 0.0})
            finally:
                tr.close()
            print(f"{name} seed {seed}: {rows[-1]}", file=sys.stderr, flush=True)
        cfg = T.PRESETS[name].config
        mean_modes = sum(r["modes_covered"] for r in rows) / len(rows)
        out["presets"][name] = {
            "title": T.PRESETS[name].title,
            "settings": {k: cfg[k] for k in ("loss", "lr_g", "lr_d", "k", "batch", "z_dim", "hidden")},
            "modes_covered": [r["modes_covered"] for r in rows],
            "mean_modes_covered": round(mean_modes, 2),
            "high_quality_pct": [r["high_quality_pct"] for r in rows],
            "mean_high_quality_pct": round(sum(r["high_quality_pct"] for r in rows) / len(rows), 1),
            "runs": rows,
        }
    out["frozen"] = frozen_moments(args.pre_steps or (100 if args.quick else T.PRESET_STEPS),
                                   args.updates or (50 if args.quick else 1000))
    print(f"frozen: {out['frozen']}", file=sys.stderr, flush=True)
    pr = out["presets"]
    out["collapse_below_4"] = pr["collapse"]["mean_modes_covered"] < 4
    out["wgan_at_least_7"] = pr["wgan"]["mean_modes_covered"] >= 7
    out["nonsat_above_collapse"] = pr["nonsat"]["mean_modes_covered"] > pr["collapse"]["mean_modes_covered"]
    # the one-change lesson: what the loss alone does, at the collapse preset's step sizes
    out["nonsat_loss_above_collapse"] = pr["nonsat_loss"]["mean_modes_covered"] > pr["collapse"]["mean_modes_covered"]
    out["seconds"] = round(time.time() - t_all, 1)
    out.update(machine(load0))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
