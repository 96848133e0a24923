"""Speed of CycleGAN translation on this machine (photo → Monet, the shipped G).

    python bench/translate.py [--weights DIR] [--threads 2] [--repeats 5]

Measures (wall clock, after one warm-up run):
* 512×512 photo → Monet, one pass (goal ≤ 1 s on the 2-core CPU);
* (also the CPU seconds used, which do not grow when other jobs share the cores);
* 2048×2048 through the tiled path (512² tiles, overlap 128, shared instance-norm
  statistics; goal ≤ 20 s), and the process's peak resident memory after it (goal ≤ 2 GB;
  this includes Python, PyTorch and the model, so it is an upper bound for the tiling).
The input is scikit-image's astronaut (512²), upscaled bicubically to 2048².
The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time


import numpy as np
import torch

from bench.common import machine, peak_rss_mb  # (sets the offline defaults)


def main(argv=None) -> int:
    from ganmodels.inference.cyclegan import translate
    from ganmodels.models import cyclegan as C
    from ganmodels import weights as W

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=str(W.DEFAULT_DIR))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--big", type=int, default=2048, help="side of the tiled test image")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    from PIL import Image
    from skimage import data as skd

    model = C.load(args.weights, "cpu", with_judge=False)
    img = np.asarray(skd.astronaut())                                   # (512, 512, 3)
    big = np.asarray(Image.fromarray(img).resize((args.big, args.big), Image.BICUBIC))

    translate(model, img, "photo2monet")                               # warm-up
    t512, c512 = [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        translate(model, img, "photo2monet")
        t512.append(time.perf_counter() - t0)
        c512.append(time.process_time() - c0)
    rss_before = peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    tiles = []
    out = translate(model, big, "photo2monet", progress=lambda d, n: tiles.append(n))
    t_big, c_big = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mb()
    assert out.shape == big.shape
    res = {
        "bench": "cyclegan_translate",
        "config": {k: getattr(model.cfg, k) for k in ("ngf", "n_blocks")},
        "threads": args.threads,
        "t512_median_s": round(statistics.median(t512), 3),
        "t512_min_s": round(min(t512), 3),
        "cpu512_median_s": round(statistics.median(c512), 3),
        "goal_t512_s": 1.0,
        f"t{args.big}_tiled_s": round(t_big, 2),
        f"cpu{args.big}_tiled_s": round(c_big, 2),
        "tiles": tiles[-1] if tiles else 1,
        "goal_t2048_s": 20.0,
        "peak_rss_mb_before_big": round(rss_before),
        "peak_rss_mb": round(peak),
        "goal_peak_mb": 2048,
        **machine(),
        "note": "t* = wall clock; cpu* = CPU seconds summed over threads (robust when the machine "
                "is shared: wall ≈ cpu / threads on an idle machine)",
    }
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
