"""Judging the two pix2pix generators (issue #32) on the held-out faces 008001–009000.

Each held-out face → its drawing (``edges.extract``) → both generators.  Measured for each:

* **face-classifier FID** of the outputs to the real held-out faces — the Fréchet distance on the
  project's face-attribute classifier's penultimate features, *not* Inception's (not comparable with
  published FIDs) — beside the real-vs-real floor (training faces 1–1,000 to the held-out faces);
* **L1 error** (mean |output − original| in grey levels, 0–255) and **PSNR** (dB over RGB, the mean of
  the faces') to the originals;
* **attribute agreement**: the share of faces where the classifier reads Male, Smiling, Eyeglasses,
  Mouth_Slightly_Open the same way (probability > ½) on the output and on the original;
* the same on **hand-drawn-like** drawings: strokes 1 px wider and 20 % of the stroke segments dropped
  (``edges.hand_drawn``), and the ratio of their FID to the clean drawings'.

The goals of the issue are reported as booleans: cGAN + L1 at least a quarter closer to real faces
than L1 alone (FID ≤ 0.75 × L1's), Male and Smiling agreement ≥ 85 % for cGAN + L1, and the hand-drawn
FID within 1.5 × the clean figure.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ganmodels import edges as E
from ganmodels import weights as W
from ganmodels.errors import EvaluationError
from ganmodels.metrics import frechet_distance, psnr
from ganmodels.models import face_classifier as FC
from ganmodels.models import faces
from ganmodels.models import pix2pix as P

AGREE = ("Male", "Smiling", "Eyeglasses", "Mouth_Slightly_Open")
HAND = dict(thicken_px=1, drop=0.2)
NOTE = ("face-classifier FID: the Fréchet distance on the project's face-attribute classifier's "
        "256 penultimate features, not Inception's; not comparable with published FIDs")
GENERATORS = (("l1", "L1 only"), ("cgan", "cGAN + L1"))


def _data_dir(args) -> Path:
    from ganmodels.evaluation.faces import _data_dir as face_data_dir

    return face_data_dir(args, "pix2pix is")


def load_classifier(weights_dir, device="cpu"):
    """The face classifier of ``weights_dir`` if it holds one, else the shipped one (weights/)."""
    for d in (Path(weights_dir), W.DEFAULT_DIR):
        if (d / FC.FILE).is_file():
            return FC.load(d, device), str(d / FC.FILE)
    raise EvaluationError(f"no {FC.FILE} in {weights_dir} nor in {W.DEFAULT_DIR}: train it first "
                          "(python -m ganmodels.train face_classifier --data-dir DIR --export weights)")


def judge(clf, outputs: np.ndarray, originals: np.ndarray, f_real: np.ndarray, p_orig: np.ndarray) -> dict:
    """FID to the real features, L1 and PSNR to the originals, attribute agreement with them."""
    p, f = FC.predict(clf, outputs)
    agree = (p > 0.5) == (p_orig > 0.5)
    l1 = np.abs(outputs.astype(np.float64) - originals.astype(np.float64)).mean()
    return {"classifier_fid": round(frechet_distance(f, f_real), 3),
            "l1_grey_levels": round(float(l1), 3),
            "psnr_db": round(float(np.mean([psnr(a, b) for a, b in zip(outputs, originals)])), 3),
            **{f"agreement_{n}": round(float(agree[:, faces.ATTRIBUTES.index(n)].mean()), 4) for n in AGREE}}


def evaluate(args) -> dict:
    data_dir = _data_dir(args)
    store = W.WeightStore(args.weights)
    models = {"l1": P.load_l1(store=store, device=args.device), "cgan": P.load(store=store, device=args.device)}
    clf, clf_path = load_classifier(args.weights, args.device)
    heldout, _, _ = faces.load_faces(data_dir, "heldout")
    train, _, _ = faces.load_faces(data_dir, "train")
    n = len(heldout)
    if P.drawing_settings(models["l1"].cfg) != P.drawing_settings(models["cgan"].cfg):
        raise EvaluationError("the two generators learnt from different drawings (L1: "
                              f"{models['l1'].drawing_description}; cGAN + L1: "
                              f"{models['cgan'].drawing_description}): train both on the same ones to compare them")
    drawings = {"clean": models["cgan"].drawings(heldout)}
    drawings["hand_drawn"] = E.hand_drawn(drawings["clean"], seed=args.seed, **HAND)
    p_orig, f_held = FC.predict(clf, heldout)
    _, f_train = FC.predict(clf, train[:n])
    m: dict = {"n": int(n), "classifier_fid_floor_train_to_heldout": round(frechet_distance(f_train, f_held), 3)}
    for kind, x in drawings.items():
        res = {key: judge(clf, models[key].translate(x), heldout, f_held, p_orig) for key, _ in GENERATORS}
        res["ink_share"] = round(float(E.ink(x).mean()), 4)
        m[kind] = res
    # D's mean patch score ("real") on each generator's clean outputs: how fake it finds L1's blur
    x = drawings["clean"]
    m["d_mean_real_prob"] = {key: round(float(models["cgan"].patch_scores(x, models[key].translate(x)).mean()), 4)
                             for key, _ in GENERATORS}
    m["d_mean_real_prob"]["real_faces"] = round(float(models["cgan"].patch_scores(x, heldout).mean()), 4)
    clean, hand = m["clean"], m["hand_drawn"]
    m["goals"] = {
        "cgan_fid_at_most_0.75_of_l1": clean["cgan"]["classifier_fid"] <= 0.75 * clean["l1"]["classifier_fid"],
        "cgan_male_and_smiling_agreement_at_least_0.85": min(clean["cgan"]["agreement_Male"],
                                                             clean["cgan"]["agreement_Smiling"]) >= 0.85,
        "hand_drawn_fid_within_1.5x": all(hand[k]["classifier_fid"] <= 1.5 * clean[k]["classifier_fid"]
                                          for k, _ in GENERATORS),
        "l1_wins_l1_and_psnr": (clean["l1"]["l1_grey_levels"] <= clean["cgan"]["l1_grey_levels"]
                                and clean["l1"]["psnr_db"] >= clean["cgan"]["psnr_db"]),
    }
    m["classifier_fid_l1"], m["classifier_fid_cgan"] = clean["l1"]["classifier_fid"], clean["cgan"]["classifier_fid"]
    m["fid_ratio_cgan_to_l1"] = round(clean["cgan"]["classifier_fid"] / max(clean["l1"]["classifier_fid"], 1e-9), 4)
    m["hand_drawn_fid_ratio"] = {k: round(hand[k]["classifier_fid"] / max(clean[k]["classifier_fid"], 1e-9), 4)
                                 for k, _ in GENERATORS}
    m.update({"drawings": models["cgan"].drawing_description, "hand_drawn_drawings": f"strokes {HAND['thicken_px']} px wider, "
              f"{HAND['drop']:.0%} of the stroke segments (connected ink within 8×8 cells) dropped, seed {args.seed}",
              "receptive_field_px": P.receptive_field(models["cgan"].D), "classifier": Path(clf_path).name,
              "classifier_sha256": W.sha256(clf_path), "seed": int(args.seed),
              "heldout": "aligned CelebA 008001–009000 (framed 64×64), never read by training",
              "metric_note": NOTE, "data_licence": faces.LICENCE})
    return {"files": [*P.FILES_L1.values(), *P.FILES.values()], "metrics": m}
