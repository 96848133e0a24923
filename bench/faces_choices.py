"""How the face defaults were chosen — on samples and faces that ``python -m ganmodels.evaluate faces``
does not use (issue #30: keep a split you do not look at until the last choice is made).

    python bench/faces_choices.py --edits                         # the edit amount α, raw vs kept vectors
    python bench/faces_choices.py --inpaint --data-dir ../shared/data   # λ and steps of the face inpainting

* ``--edits``: 1,000 samples drawn with seed 100 (the evaluation uses seed 1); for each slider
  attribute and each α, the share of samples read as lacking it that read as having it after the edit,
  and the share keeping the other three slider attributes' readings — for the raw difference of means
  and for the vector that keeps the other slider attributes.
* ``--inpaint``: 48 faces numbered 007001–007048 (the face classifier's validation faces, *not* the
  held-out 008001–009000), centre 32×32 mask; for each setting the seconds per face and the agreement
  of Smiling/Male/Mouth_Slightly_Open readings between completion and original, and the mean L1 error
  in the hole (0–255 scale) — beside biharmonic.

The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from bench.common import machine

AMOUNTS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
SETTINGS = (  # (λ, steps, restarts)
    (0.1, 30, 8), (0.03, 30, 8), (0.3, 30, 8), (0.1, 15, 8), (0.1, 60, 8), (0.1, 30, 16), (0.0, 30, 8),
)


def edits(store, n: int = 1000, seed: int = 100) -> dict:
    from ganmodels.inference import face_attributes as FA
    from ganmodels.models import face_classifier as FC
    from ganmodels.models import faces

    model = faces.load(store=store, with_D=False)
    clf = FC.load(store=store)
    attrs = FA.load(store=store)
    z = model.z_from_seed(seed, n)
    p0, _ = FC.predict(clf, model.generate_uint8(z))
    out: dict = {}
    for mode, keep in (("raw", ()), ("keep_other_sliders", FA.SLIDERS)):
        for name in FA.SLIDERS:
            a = faces.ATTRIBUTES.index(name)
            others = [faces.ATTRIBUTES.index(o) for o in FA.SLIDERS if o != name]
            lack = p0[:, a] <= 0.5
            row = {}
            for amt in AMOUNTS:
                p1, _ = FC.predict(clf, model.generate_uint8(
                    attrs.edit(z, {name: amt}, keep=[k for k in keep if k != name])))
                row[str(amt)] = {
                    "gained": round(float((p1[lack, a] > 0.5).mean()), 3),
                    "others_kept": round(float(((p1[lack][:, others] > 0.5) == (p0[lack][:, others] > 0.5))
                                               .all(1).mean()), 3)}
            out.setdefault(mode, {})[name] = row
            print(mode, name, row, flush=True)
    return out


def inpaint(store, data_dir: str, n: int = 48) -> dict:
    from ganmodels.inference import face_inpaint as FI
    from ganmodels.inference.inpaint import biharmonic
    from ganmodels.models import face_classifier as FC
    from ganmodels.models import faces

    model = faces.load(store=store)
    clf = FC.load(store=store)
    X, _, _ = faces.load_faces(data_dir, "classifier_val")
    X = X[:n]
    known1 = FI.face_mask("center")
    known = np.repeat(known1[None], n, axis=0)
    hole = known1 < 0.5
    p_orig, _ = FC.predict(clf, X)
    idx = [faces.ATTRIBUTES.index(a) for a in ("Smiling", "Male", "Mouth_Slightly_Open")]

    def score(imgs):
        p, _ = FC.predict(clf, imgs)
        agree = ((p > 0.5) == (p_orig > 0.5))[:, idx].mean(0)
        l1 = float(np.abs(imgs[:, hole].astype(float) - X[:, hole].astype(float)).mean())
        return {"agree_smiling_male_mouth": [round(float(a), 3) for a in agree], "hole_l1": round(l1, 2)}

    out = {"biharmonic": score(np.stack([biharmonic(im, known1) for im in X]))}
    print("biharmonic", out["biharmonic"], flush=True)
    for lam, steps, restarts in SETTINGS:
        t0 = time.time()
        imgs = np.concatenate([FI.complete_faces(model.G, model.D, X[i:i + 8], known[i:i + 8], lam=lam,
                                                 steps=steps, restarts=restarts, seed=i)
                               for i in range(0, n, 8)])
        key = f"lam={lam} steps={steps} restarts={restarts}"
        out[key] = {**score(imgs), "seconds_per_face_batched8": round((time.time() - t0) / n, 2)}
        print(key, out[key], flush=True)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--edits", action="store_true")
    p.add_argument("--inpaint", action="store_true")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--weights", default=None)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    import torch

    from ganmodels import weights as W
    if args.threads:
        torch.set_num_threads(args.threads)
    store = W.WeightStore(args.weights or W.DEFAULT_DIR)
    res: dict = {"machine": machine()}
    if args.edits:
        res["edits"] = edits(store)
    if args.inpaint:
        if not args.data_dir:
            raise SystemExit("--inpaint needs --data-dir (the folder holding celeba/)")
        res["inpaint"] = inpaint(store, args.data_dir)
    if not (args.edits or args.inpaint):
        raise SystemExit("give --edits and/or --inpaint")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
