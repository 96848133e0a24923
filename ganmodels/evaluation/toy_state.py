"""``python -m ganmodels.evaluate toy_state``: the shipped trained 2-D run and the freeze-one-player moments from it."""
from __future__ import annotations

from ganmodels import weights as W
from ganmodels.training import live as T
from ganmodels.training import toy_state as TS

PRESET, STEPS, UPDATES = "nonsat", T.PRESET_STEPS, 1000


def evaluate(args) -> dict:
    store = W.WeightStore(args.weights)
    name = TS.file_name(PRESET, STEPS)
    path = store.path(name)
    manifest = store.manifest_for_check()
    tr = TS.load(path, manifest)
    try:
        m = tr.toy_metrics(seed=10_000 + int(args.seed))
        state = {"step": tr.step, "preset": PRESET, "modes_covered": m["modes_covered"],
                 "high_quality_pct": round(100 * m["high_quality"], 1), **TS.scores(tr)}
    finally:
        tr.close()
    frozen = TS.frozen_moments(lambda: TS.load(path), UPDATES)
    return {"files": [name], "metrics": {
        "state": state, "frozen": frozen, "n_samples": 2500,
        "definition": "high-quality: within 3 sigma of the nearest mode; covered: >= 20 high-quality samples "
                      "nearest to the mode; d_real/d_fake: D's mean sigma(output) on 2,500 real points and on the "
                      "run's fixed-z points; near_d_max_pct: share of those points within 0.25 of D's highest score"}}
