"""``python -m ganmodels edit faces --attribute NAME --n N --seed S --out F.npz``: samples moved along an
attribute vector (Radford et al. 2016 §6.3).

The ``.npz`` holds ``before`` and ``after``, uint8 (N, 64, 64, 3) RGB: N samples G(z) and the same
samples G(z + α·v) with the tab's default α (:data:`ganmodels.inference.face_attributes.DEFAULT_AMOUNT`,
in units of the vector; ``--amount`` changes it), adding the attribute.  The vector keeps the other
slider attributes' readings unless ``--raw`` (see ``face_attributes``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ganmodels import weights as W
from ganmodels.cli.common import common_args
from ganmodels.data import to_uint8
from ganmodels.errors import InputError
from ganmodels.inference import face_attributes as FA
from ganmodels.models import faces


def add_parser(sub) -> None:
    e = sub.add_parser("edit", help="move face samples along an attribute vector (before/after .npz)")
    e.add_argument("model", choices=["faces"])
    e.add_argument("--attribute", required=True, help="one of the 40 CelebA attributes, e.g. Smiling")
    e.add_argument("--n", type=int, default=16)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--amount", type=float, default=FA.DEFAULT_AMOUNT,
                   help=f"α in units of the attribute vector (default {FA.DEFAULT_AMOUNT}: the tab's default)")
    e.add_argument("--raw", action="store_true",
                   help="the plain difference of means (default: the vector keeps the other slider attributes)")
    e.add_argument("--out", required=True, help="F.npz (keys before, after) or a .png (before row, after row)")
    common_args(e)
    e.set_defaults(run=run)


def run(args) -> int:
    if args.n < 1 or args.n > 10_000:
        raise SystemExit("--n must be between 1 and 10000")
    if not np.isfinite(args.amount) or abs(args.amount) > 20:
        raise SystemExit("--amount must be a number between -20 and 20")
    FA.attribute_index(args.attribute)          # the error lists the 40 names
    out = Path(args.out)
    if out.suffix.lower() not in (".npz", ".png"):
        raise SystemExit(f"--out must end in .npz or .png, not {out.suffix or '(nothing)'}")
    store = W.WeightStore(args.weights, args.hub_repo)
    model = faces.load(device=args.device, store=store, with_D=False)
    attrs = FA.load(store=store)
    if attrs.z_dim != model.z_dim:
        raise InputError(f"{FA.FILE} was built for z_dim {attrs.z_dim}, but the face G has {model.z_dim}")
    z = model.z_from_seed(args.seed, args.n)
    z2 = attrs.edit(z, {args.attribute: args.amount}, keep=() if args.raw else None)
    before = np.concatenate([to_uint8(model.generate(z[i:i + 256])) for i in range(0, args.n, 256)])
    after = np.concatenate([to_uint8(model.generate(z2[i:i + 256])) for i in range(0, args.n, 256)])
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        np.savez_compressed(out, before=before, after=after)
    else:
        from PIL import Image

        from ganmodels.data import image_grid
        Image.fromarray(image_grid(np.concatenate([before, after]), nrow=args.n)).save(out)
    print(f"wrote {args.n} faces before and after +{args.amount:g}·v({args.attribute}) to {out}",
          file=sys.stderr)
    return 0
