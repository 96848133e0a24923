"""``python -m ganmodels <verb>``: the command lines beside the UI.

    generate dcgan    --n 64 --seed 0 --out grid.png | samples.npz
    generate infogan  --cat K --c1 X --c2 Y --n N --out F.npz
    generate cgan     --label D --n N --out F.npz
    inpaint   --image in.png --mask mask.png --out out.png        (mask: white = missing)
    inpaint   --images in.npz --masks masks.npz --out out.npz     (uint8 (N,28,28); mask 255 = missing)
    translate --direction photo2monet|monet2photo IN OUT          (file or folder)
    upscale   --model srresnet|srgan IN OUT                       (file or folder; exactly 4×)

An ``.npz`` output holds one array under the key ``images``: uint8, shape (N, 28, 28),
0 = background.  A ``.png`` output is a grid of the samples.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from . import weights as W


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default=str(W.DEFAULT_DIR), help="folder with the weight files")
    p.add_argument("--hub-repo", default=None, help="opt-in: load weights from this Hugging Face repo")
    p.add_argument("--device", default="cpu")


def write_samples(images: np.ndarray, out: str | Path, nrow: int | None = None) -> None:
    """uint8 (N,28,28) → ``.npz`` (key ``images``) or a PNG grid."""
    from .data import image_grid

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


def cmd_generate(args) -> int:
    store = W.WeightStore(args.weights, args.hub_repo)
    if args.n < 1 or args.n > 100_000:
        raise SystemExit("--n must be between 1 and 100000")
    if args.model == "dcgan":
        from . import dcgan
        model = dcgan.load(device=args.device, store=store, with_D=False)
        images = dcgan.sample_uint8(model, n=args.n, seed=args.seed, truncation=args.truncation)
    elif args.model == "infogan":
        from . import infogan
        model = infogan.load(device=args.device, store=store)
        images = infogan.sample_uint8(model, n=args.n, seed=args.seed, cat=args.cat, c1=args.c1, c2=args.c2)
    else:
        from . import cgan
        model = cgan.load(device=args.device, store=store)
        images = cgan.sample_uint8(model, n=args.n, seed=args.seed, label=args.label)
    write_samples(images, args.out)
    print(f"wrote {len(images)} samples to {args.out}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ganmodels", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="verb", required=True)

    g = sub.add_parser("generate", help="sample digits from a generator")
    g.add_argument("model", choices=["dcgan", "infogan", "cgan"])
    g.add_argument("--n", type=int, default=64)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", required=True, help="grid.png or samples.npz")
    g.add_argument("--truncation", type=float, default=1.0, help="dcgan: scale of z (1 = the prior)")
    g.add_argument("--cat", type=int, default=None, help="infogan: categorical code 0-9 (default: drawn)")
    g.add_argument("--c1", type=float, default=None, help="infogan: continuous code 1 (default: drawn)")
    g.add_argument("--c2", type=float, default=None, help="infogan: continuous code 2 (default: drawn)")
    g.add_argument("--label", type=int, default=None, help="cgan: digit 0-9 (default: drawn)")
    _common(g)

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
    _common(i)

    t = sub.add_parser("translate", help="CycleGAN photo ↔ Monet")
    t.add_argument("--direction", choices=["photo2monet", "monet2photo"], required=True)
    t.add_argument("input")
    t.add_argument("output")
    t.add_argument("--max-pixels", type=int, default=None)
    _common(t)

    u = sub.add_parser("upscale", help="4× super-resolution")
    u.add_argument("--model", choices=["srresnet", "srgan"], required=True)
    u.add_argument("input")
    u.add_argument("output")
    u.add_argument("--max-pixels", type=int, default=None)
    _common(u)

    args = p.parse_args(argv)
    try:
        if args.verb == "generate":
            return cmd_generate(args)
        if args.verb == "inpaint":
            from . import inpaint
            return inpaint.cli(args)
        if args.verb == "translate":
            from . import cyclegan
            return cyclegan.translate_cli(args)
        from . import srgan
        return srgan.upscale_cli(args)
    except W.WeightsError as e:
        raise SystemExit(f"error: {e}")


if __name__ == "__main__":
    raise SystemExit(main())
