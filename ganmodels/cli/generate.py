"""``python -m ganmodels generate dcgan|infogan|cgan|faces``: sample digits or faces into an .npz or a PNG grid."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ganmodels import weights as W
from ganmodels.cli.common import common_args
from ganmodels.data import image_grid
from ganmodels.models import cgan, dcgan, faces, infogan


def add_parser(sub) -> None:
    g = sub.add_parser("generate", help="sample digits or faces from a generator")
    g.add_argument("model", choices=["dcgan", "infogan", "cgan", "faces"])
    g.add_argument("--n", type=int, default=64)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", required=True, help="grid.png or samples.npz")
    g.add_argument("--truncation", type=float, default=1.0, help="dcgan, faces: scale of z (1 = the prior)")
    g.add_argument("--cat", type=int, default=None,
                   help="infogan: the categorical code 0-9, the paper's c₁ (a code, not a digit; default: drawn)")
    g.add_argument("--c1", type=float, default=None,
                   help="infogan: the first continuous code, the paper's c₂ (default: drawn from U(-1, 1))")
    g.add_argument("--c2", type=float, default=None,
                   help="infogan: the second continuous code, the paper's c₃ (default: drawn from U(-1, 1))")
    g.add_argument("--label", type=int, default=None, help="cgan: digit 0-9 (default: drawn)")
    common_args(g)
    g.set_defaults(run=run)


def write_samples(images: np.ndarray, out: str | Path, nrow: int | None = None) -> None:
    """uint8 (N,28,28) digits or (N,64,64,3) faces → ``.npz`` (key ``images``) or a PNG grid."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        np.savez_compressed(out, images=np.ascontiguousarray(images, dtype=np.uint8))
    elif out.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"):
        from PIL import Image
        n = len(images)
        Image.fromarray(image_grid(images, nrow=nrow or int(np.ceil(np.sqrt(n))))).save(out)
    else:
        raise SystemExit(f"--out must end in .npz or .png, not {out.suffix or '(nothing)'}")


def run(args) -> int:
    store = W.WeightStore(args.weights, args.hub_repo)
    if args.n < 1 or args.n > 100_000:
        raise SystemExit("--n must be between 1 and 100000")
    if args.model == "dcgan":
        model = dcgan.load(device=args.device, store=store, with_D=False)
        images = dcgan.sample_uint8(model, n=args.n, seed=args.seed, truncation=args.truncation)
    elif args.model == "infogan":
        model = infogan.load(device=args.device, store=store)
        images = infogan.sample_uint8(model, n=args.n, seed=args.seed, cat=args.cat, c1=args.c1, c2=args.c2)
    elif args.model == "faces":
        model = faces.load(device=args.device, store=store, with_D=False)
        images = faces.sample_uint8(model, n=args.n, seed=args.seed, truncation=args.truncation)
    else:
        model = cgan.load(device=args.device, store=store)
        images = cgan.sample_uint8(model, n=args.n, seed=args.seed, label=args.label)
    write_samples(images, args.out)
    print(f"wrote {len(images)} samples to {args.out}", file=sys.stderr)
    return 0
