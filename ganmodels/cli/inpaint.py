"""``python -m ganmodels inpaint``: fill the missing pixels of digits (Yeh et al. 2016)."""
from __future__ import annotations

from ganmodels.cli.common import common_args


def add_parser(sub) -> None:
    i = sub.add_parser("inpaint", help="fill the missing pixels of digits (Yeh et al. 2016)")
    i.add_argument("--image", help="a digit image (any size; converted like MNIST)")
    i.add_argument("--mask", help="mask image: white = missing")
    i.add_argument("--images", help="batch: npz with uint8 (N,28,28) under 'images'")
    i.add_argument("--masks", help="batch: npz with uint8 (N,28,28) under 'masks' (255 = missing)")
    i.add_argument("--out", required=True)
    i.add_argument("--steps", type=int, default=None)
    i.add_argument("--lam", type=float, default=None)
    i.add_argument("--restarts", type=int, default=None)
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--blend", choices=["poisson", "composite"], default="poisson")
    common_args(i)
    i.set_defaults(run=run)


def run(args) -> int:
    from ganmodels.inference import inpaint
    return inpaint.cli(args)
