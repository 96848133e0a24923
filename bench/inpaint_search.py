"""Is it the search or the objective?  Where centre-mask inpainting completes the wrong digit.

    python bench/inpaint_search.py [--data ../shared/data/mnist/mnist_test_first5000.npz] [--n 200]

For the first ``--n`` held-out test digits, centre 14×14 mask:

* ``found``: ``ganmodels.inpaint`` with the default settings (what the tab does);
* ``from_truth``: the same descent on the same centre objective (``init_z``), but started from the
  projection of the *whole* digit (every pixel known, 32 restarts, 100 steps) — a start the
  search could never know, but which sits next to the right answer.

Both completions are Poisson-blended and classified by the project's classifier.  For the digits
that ``found`` gets wrong and ``from_truth`` gets right: if ``from_truth`` ends with the lower total
loss, the search missed a better optimum (``search_failures``); if it ends with the higher loss,
the objective itself prefers the wrong digit (``objective_failures``).  Last stdout line: JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist" / "mnist_test_first5000.npz"


def main(argv=None) -> int:
    from bench.common import load_test_digits
    from ganmodels.models import classifier as C
    from ganmodels.models import dcgan
    from ganmodels.data import to_uint8
    from ganmodels.inference import inpaint as I
    from ganmodels import weights as W

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(DEFAULT_DATA))
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--weights", default=str(W.DEFAULT_DIR))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=25)
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    X, y = load_test_digits(args.data, args.n)
    store = W.WeightStore(args.weights)
    gan, net = dcgan.load(store=store), C.load(store=store)
    known = np.stack([I.make_mask("center") for _ in range(len(X))])
    rows, t0 = [], time.time()
    for i in range(0, len(X), args.batch):
        sl = slice(i, i + args.batch)
        found = I.complete(gan.G, gan.D, X[sl], known[sl])
        whole = I.complete(gan.G, gan.D, X[sl], np.ones_like(known[sl]), steps=100, restarts=32)
        truth = I.complete(gan.G, gan.D, X[sl], known[sl], restarts=1, init_z=whole.z[:, :1])
        ok_found = C.predict(net, to_uint8(found.image))[0].argmax(1) == y[sl]
        ok_truth = C.predict(net, to_uint8(truth.image))[0].argmax(1) == y[sl]
        rows += list(zip(found.losses["total"][:, 0], truth.losses["total"][:, 0], ok_found, ok_truth))
        print(f"  {min(i + args.batch, len(X))}/{len(X)} ({time.time() - t0:.0f} s)", file=sys.stderr)
    lf, lt, af, at = (np.array(c) for c in zip(*rows))
    rescued = ~af & at
    print(json.dumps({"n": len(X), "mask": "center", "accuracy_found": round(float(af.mean()), 4),
                      "accuracy_from_truth": round(float(at.mean()), 4), "rescued_by_truth_start": int(rescued.sum()),
                      "search_failures": int((rescued & (lt < lf)).sum()),
                      "objective_failures": int((rescued & (lt >= lf)).sum()),
                      "seconds": round(time.time() - t0, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
