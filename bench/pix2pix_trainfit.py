"""How well does a pix2pix generator fit its own training faces?  The development figure for issue #32.

    OMP_NUM_THREADS=1 python bench/pix2pix_trainfit.py [--weights weights] [--model pix2pix|l1]
        [--data-dir ../shared/data] [--cache-dir runs/face_classifier]

``python -m ganmodels.evaluate pix2pix`` measures the generators on the held-out faces 8,001–9,000.  To
choose between training runs without reading those, this measures the same figures on faces the
generators were *trained* on: 7,001–8,000 (the face classifier's validation split) and 1–1,000.  Each
face's drawing is made the way the generator learnt (the Canny settings in its config), the generator
redraws it, and the face classifier reads both: agreement (probability > ½ on both or on neither) for
Male, Smiling and Mouth_Slightly_Open, and the face-classifier FID of the 1,000 outputs to the 1,000
originals.  A generator that agrees here no better than held out under-fits; the warm restarts of the
shipped pair were chosen on ``train_7001_8000`` (the README's pix2pix section has the rule and the figures).

Measured 2026-12-07 (one thread, ≈ 30 s), cGAN + L1, faces 7,001–8,000: the 10,000-step generator Male
83.0 %, Smiling 86.2 %, FID 46.6; warm-restarted to 16,000 steps 86.3 % / 85.4 % / 33.35; to 20,000 steps
84.9 % / 86.5 % / 33.72; to 24,000 steps 84.8 % / 86.9 % / 30.86.  Restarted from the 20,000-step files with the
moving average of G and its BatchNorm statistics recomputed (``--init-from weights --ema 0.999 --ema-bn 1``), 8,000
steps: 86.0 % / 86.5 % / 29.02; 8,000 more (shipped, 36,000 steps): 87.0 % / 87.2 % / 27.66.

The last stdout line is one JSON object: {split: {attribute: agreement, "fid": FID}, ...}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from bench.common import machine  # (sets the offline defaults)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
ATTRS = ("Male", "Smiling", "Mouth_Slightly_Open")
SPLITS = (("train_7001_8000", "classifier_val", slice(0, 1000)), ("train_1_1000", "classifier_train", slice(0, 1000)))


def main(argv=None) -> int:
    from ganmodels import weights as W
    from ganmodels.evaluation.pix2pix import judge, load_classifier
    from ganmodels.models import face_classifier as FC
    from ganmodels.models import faces
    from ganmodels.models import pix2pix as P

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=str(W.DEFAULT_DIR), help="folder with the generator and the face classifier")
    p.add_argument("--model", choices=("pix2pix", "l1"), default="pix2pix", help="pix2pix: cGAN + L1; l1: L1 only")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA), help="folder holding celeba/ (as for the evaluation)")
    p.add_argument("--cache-dir", default=None, help="reuse/keep the framed faces here (faces.load_faces' cache)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)

    t0 = time.time()
    store = W.WeightStore(args.weights)
    g = P.load(store=store) if args.model == "pix2pix" else P.load_l1(store=store)
    clf, _ = load_classifier(args.weights)
    out = {}
    for name, split, rows in SPLITS:
        real, _, _ = faces.load_faces(args.data_dir, split, cache_dir=args.cache_dir)
        real = real[rows]
        p_real, f_real = FC.predict(clf, real)
        m = judge(clf, g.translate(g.drawings(real)), real, f_real, p_real)    # the evaluation's own figures
        out[name] = {**{a: m[f"agreement_{a}"] for a in ATTRS}, "fid": round(m["classifier_fid"], 2)}
        print(f"{name}: {out[name]} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
