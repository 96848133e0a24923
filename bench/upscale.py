"""Speed of 4× super-resolution on this machine; the LAST stdout line is one JSON object.

    python bench/upscale.py                      # shipped weights (weights/)
    python bench/upscale.py --weights DIR --repeats 5 --threads 2

Measures, for SRResNet and SRGAN (the same network, so about the same time):
* 256×256 → 1024×1024, untiled (median of ``--repeats`` runs after one warm-up);
* a 1024×1024 input (→ 4096×4096) through the tiled path, with the peak RSS of the process;
* tiled vs untiled on a small image: the largest pixel difference (uint8) — should be ≤ 1.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch

from bench.common import machine, peak_rss_mb  # (sets the offline defaults)
from ganmodels import weights as W
from ganmodels.imageio import skimage_image
from ganmodels.inference.srgan import super_resolve
from ganmodels.models import srgan as S


def test_image(h: int, w: int) -> np.ndarray:
    """A natural-looking input of any size: skimage's astronaut, tiled/cropped."""
    a = skimage_image("astronaut")
    reps = (-(-h // a.shape[0]), -(-w // a.shape[1]), 1)
    return np.ascontiguousarray(np.tile(a, reps)[:h, :w])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", default=str(W.DEFAULT_DIR))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--big", type=int, default=1024, help="side of the input for the tiled run")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model = S.load(args.weights)
    out: dict = {"bench": "upscale", "threads": torch.get_num_threads(), "tile": S.TILE, "overlap": S.OVERLAP}
    lr = test_image(256, 256)
    for name in ("srresnet", "srgan"):
        G = model.nets[name]
        super_resolve(G, lr, tile=0)  # warm-up
        ts = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            sr = super_resolve(G, lr, tile=0)
            ts.append(time.perf_counter() - t0)
        assert sr.shape == (1024, 1024, 3)
        out[f"{name}_256_to_1024_s"] = round(statistics.median(ts), 3)
        print(f"{name}: 256×256 → 1024×1024 median {statistics.median(ts):.3f} s ({args.repeats} runs)",
              file=sys.stderr)
    out["bicubic_256_to_1024_s"] = round(min(_timed(lambda: super_resolve(None, lr)) for _ in range(3)), 3)

    small = test_image(200, 180)
    G = model.nets["srresnet"]
    full = super_resolve(G, small, tile=0)
    tiled = super_resolve(G, small, tile=64)
    out["tiled_vs_untiled_max_abs_diff"] = int(np.abs(full.astype(int) - tiled.astype(int)).max())
    out["tiled_vs_untiled_test"] = "200×180 input, tile 64, overlap %d (uint8 outputs)" % S.OVERLAP

    rss0 = peak_rss_mb()
    big = test_image(args.big, args.big)
    t0 = time.perf_counter()
    sr = super_resolve(G, big)                     # auto: tiled (input > TILE×TILE)
    out[f"tiled_{args.big}_to_{4 * args.big}_s"] = round(time.perf_counter() - t0, 2)
    assert sr.shape == (4 * args.big, 4 * args.big, 3)
    out["peak_rss_mb_before_tiled"] = round(rss0, 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out.update(machine())
    out["limit_256_s"] = 2.0
    out["meets_2s"] = all(out[f"{n}_256_to_1024_s"] <= 2.0 for n in ("srresnet", "srgan"))
    print(json.dumps(out))
    return 0


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    raise SystemExit(main())
