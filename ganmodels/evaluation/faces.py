"""Judging the face models (issue #30) with the project's face-attribute classifier.

* ``face_classifier``: per-attribute accuracy on its validation faces 007001–008000, beside always
  answering each attribute's majority value (so 90 % on a rare attribute is not mistaken for skill).
* ``faces``: (1) **face-classifier FID** — the Fréchet distance on the classifier's penultimate
  features, *not* Inception's, so not comparable with published FIDs — of 1,000 samples to the
  1,000 held-out faces 008001–009000, beside the real-vs-real floor (1,000 training faces) and a
  reference (the same training faces shrunk to 40×40 and enlarged back, bicubic both ways);
  (2) attribute vectors: for Smiling, Eyeglasses, Male, Blond_Hair, of the samples read as lacking
  the attribute, the share read as having it after the tab's default edit, and the share whose
  other three attributes keep their reading; (3) Yeh et al.'s inpainting of 200 held-out faces under
  the centre 32×32 mask, against biharmonic inpainting: FID of the completions to the held-out faces
  and the attribute agreement of completion and original.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from ganmodels.errors import EvaluationError
from ganmodels.inference import face_attributes as FA
from ganmodels.inference import face_inpaint as FI
from ganmodels.inference.inpaint import biharmonic
from ganmodels.metrics import frechet_distance
from ganmodels.models import face_classifier as FC
from ganmodels.models import faces

N_SAMPLES = 1000          # samples for FID, and real faces on each side
N_INPAINT = 200           # held-out faces completed
EDIT_SEED_OFFSET = 1      # the edited samples use --seed + this (not the pool's seed)
AGREE = ("Smiling", "Male", "Mouth_Slightly_Open")
NOTE = ("face-classifier FID: the Fréchet distance on the project's face-attribute classifier's "
        "256 penultimate features, not Inception's; not comparable with published FIDs")


def _data_dir(args, who: str = "the face models are") -> Path:
    d = getattr(args, "data_dir", None)
    if not d:
        raise EvaluationError(f"{who} judged on CelebA faces: pass --data-dir FOLDER "
                              f"(holding {faces.CELEBA_IMAGES}/ and {faces.CELEBA_ATTRS})")
    return Path(d)


def evaluate_classifier(args) -> dict:
    net = FC.load(args.weights, args.device)
    X, A, names = faces.load_faces(_data_dir(args), "classifier_val")
    acc = FC.attribute_accuracy(net, X, A)
    majority = np.maximum(A.mean(0), 1 - A.mean(0))
    return {"files": [FC.FILE], "metrics": {
        "val_accuracy_mean": round(float(acc.mean()), 4),
        "majority_baseline_mean": round(float(majority.mean()), 4),
        "val_accuracy": {n: round(float(a), 4) for n, a in zip(names, acc)},
        "val_accuracy_sliders": {n: round(float(acc[faces.ATTRIBUTES.index(n)]), 4) for n in FA.SLIDERS},
        "val_set": "aligned CelebA 007001–008000 (framed 64×64), unseen in training",
        "n": int(len(X))}}


def shrink_and_enlarge(images: np.ndarray, side: int = 40) -> np.ndarray:
    """uint8 (N, 64, 64, 3) → shrunk to side×side and enlarged back to 64×64, bicubic both ways."""
    from PIL import Image

    out = np.empty_like(images)
    for i, im in enumerate(images):
        small = Image.fromarray(im).resize((side, side), Image.BICUBIC)
        out[i] = np.asarray(small.resize(im.shape[1::-1], Image.BICUBIC))
    return out


def attribute_edit_metrics(model, attrs: FA.FaceAttributes, clf, n: int, seed: int,
                           amount: float = FA.DEFAULT_AMOUNT) -> dict:
    """For each slider attribute: of the n samples read as lacking it, the share read as having it
    after z + amount·v (the tab's default edit), and the share keeping the other three readings."""
    z = model.z_from_seed(seed, n)
    p0, _ = FC.predict(clf, model.generate_uint8(z))
    out = {}
    for name in FA.SLIDERS:
        a = faces.ATTRIBUTES.index(name)
        others = [faces.ATTRIBUTES.index(o) for o in FA.SLIDERS if o != name]
        p1, _ = FC.predict(clf, model.generate_uint8(attrs.edit(z, {name: amount})))
        lack = p0[:, a] <= 0.5
        gained = p1[lack, a] > 0.5
        kept = ((p1[lack][:, others] > 0.5) == (p0[lack][:, others] > 0.5)).all(1)
        out[name] = {"lacking": int(lack.sum()), "gained_share": round(float(gained.mean()), 4) if lack.any() else None,
                     "others_kept_share": round(float(kept.mean()), 4) if lack.any() else None}
    return out


def inpainting_metrics(model, clf, heldout: np.ndarray, f_heldout: np.ndarray, *, seed: int,
                       device: str = "cpu", chunk: int = 8) -> dict:
    """Yeh et al.'s search (the face defaults) and biharmonic on the centre 32×32 hole of the given
    held-out faces: FID of each set of completions to the held-out features, attribute agreement."""
    known1 = FI.face_mask("center")
    known = np.repeat(known1[None], len(heldout), axis=0)
    t0 = time.time()
    ours = np.concatenate([FI.complete_faces(model.G, model.D, heldout[i:i + chunk], known[i:i + chunk],
                                             seed=seed + i, device=device)
                           for i in range(0, len(heldout), chunk)])
    seconds = time.time() - t0
    bih = np.stack([biharmonic(im, known1) for im in heldout])
    p_orig, f_orig = FC.predict(clf, heldout)
    res = {"n": int(len(heldout)), "mask": "centre 32×32 of 64×64", "seconds_per_face": round(seconds / len(heldout), 2),
           "classifier_fid_originals": round(frechet_distance(f_orig, f_heldout), 3)}
    for key, imgs in (("gan", ours), ("biharmonic", bih)):
        p, f = FC.predict(clf, imgs)
        agree = (p > 0.5) == (p_orig > 0.5)
        res[key] = {"classifier_fid": round(frechet_distance(f, f_heldout), 3),
                    "agreement_mean_40": round(float(agree.mean()), 4),
                    **{f"agreement_{n}": round(float(agree[:, faces.ATTRIBUTES.index(n)].mean()), 4) for n in AGREE}}
    gap = res["biharmonic"]["classifier_fid"] - res["classifier_fid_originals"]
    res["gan_closes_share_of_gap"] = round(float((res["biharmonic"]["classifier_fid"] - res["gan"]["classifier_fid"])
                                                 / gap), 4) if gap > 0 else None
    return res


def evaluate(args) -> dict:
    data_dir = _data_dir(args)
    model = faces.load(args.weights, args.device)
    clf = FC.load(args.weights, args.device)
    attrs = FA.load(args.weights)
    heldout, _, _ = faces.load_faces(data_dir, "heldout")
    train, _, _ = faces.load_faces(data_dir, "train")
    n = min(N_SAMPLES, len(heldout))
    heldout = heldout[:n]
    train = train[:n]
    _, f_held = FC.predict(clf, heldout)
    samples = model.generate_uint8(model.z_from_seed(args.seed, n))
    _, f_samp = FC.predict(clf, samples)
    _, f_train = FC.predict(clf, train)
    _, f_40 = FC.predict(clf, shrink_and_enlarge(train, 40))
    fid = {"samples_to_heldout": round(frechet_distance(f_samp, f_held), 3),
           "floor_train_to_heldout": round(frechet_distance(f_train, f_held), 3),
           "reference_40px_train_to_heldout": round(frechet_distance(f_40, f_held), 3)}
    edits = attribute_edit_metrics(model, attrs, clf, n, args.seed + EDIT_SEED_OFFSET)
    inp = inpainting_metrics(model, clf, heldout[:N_INPAINT], f_held, seed=args.seed, device=args.device)
    m = {"classifier_fid": fid, "samples_closer_than_40px": fid["samples_to_heldout"] < fid["reference_40px_train_to_heldout"],
         "n_fid": n, "attribute_edits": edits, "edit_amount": FA.DEFAULT_AMOUNT,
         "edit_keeps_other_sliders": FA.KEEP_DEFAULT, "inpainting": inp, "seed": int(args.seed),
         "sampling": "z ~ N(0, I), no truncation, EMA generator",
         "heldout": "aligned CelebA 008001–009000 (framed 64×64), never read by training",
         "metric_note": NOTE, "data_licence": faces.LICENCE}
    return {"files": [*faces.FILES.values(), FA.FILE], "metrics": m}
