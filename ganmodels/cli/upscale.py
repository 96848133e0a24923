"""``python -m ganmodels upscale``: 4× super-resolution (SRResNet or SRGAN) on a file or a folder."""
from __future__ import annotations

import sys
from pathlib import Path

from ganmodels import weights as W
from ganmodels.cli.common import common_args
from ganmodels.data import IMAGE_SUFFIXES, list_images
from ganmodels.inference.srgan import super_resolve
from ganmodels.models import srgan


def add_parser(sub) -> None:
    u = sub.add_parser("upscale", help="4× super-resolution")
    u.add_argument("--model", choices=["srresnet", "srgan"], required=True)
    u.add_argument("input")
    u.add_argument("output")
    u.add_argument("--max-pixels", type=int, default=None)
    common_args(u)
    u.set_defaults(run=run)


def run(args) -> int:
    """``python -m ganmodels upscale --model srresnet|srgan IN OUT``: a file or a folder (names kept)."""
    from PIL import Image, UnidentifiedImageError

    src, dst = Path(args.input), Path(args.output)
    max_px = args.max_pixels or srgan.MAX_INPUT_PIXELS
    if max_px < srgan.MIN_SIDE * srgan.MIN_SIDE:
        raise SystemExit(f"--max-pixels must be at least {srgan.MIN_SIDE * srgan.MIN_SIDE}")
    if src.is_dir():
        pairs = [(p, dst / p.relative_to(src)) for p in list_images(src)]
        if not pairs:
            raise SystemExit(f"no images in {src} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
        if dst.exists() and not dst.is_dir():
            raise SystemExit(f"{src} is a folder, so the output must be a folder too ({dst} is a file)")
    elif src.is_file():
        if dst.is_dir():
            dst = dst / src.name
        if dst.suffix.lower() not in IMAGE_SUFFIXES:
            raise SystemExit(f"the output must be an image file (.png, .jpg, ...), not {dst.name!r}")
        pairs = [(src, dst)]
    else:
        raise SystemExit(f"input not found: {src}")

    G = None
    if args.model != "bicubic":
        G = srgan.load_generator(W.WeightStore(args.weights, args.hub_repo), args.model, args.device)
    failed = 0
    for p, q in pairs:
        try:
            with Image.open(p) as im:
                im.load()
                img, notes = srgan.check_image(im, max_pixels=max_px, what=str(p))
        except (UnidentifiedImageError, OSError) as e:
            print(f"skipped {p}: not a readable image ({e.__class__.__name__})", file=sys.stderr)
            failed += 1
            continue
        except ValueError as e:
            if len(pairs) == 1:
                raise SystemExit(f"error: {e}")
            print(f"skipped {p}: {e}", file=sys.stderr)
            failed += 1
            continue
        for n in notes:
            print(f"note ({p.name}): {n}", file=sys.stderr)
        sr = super_resolve(G, img, device=args.device)
        assert sr.shape[:2] == (img.shape[0] * srgan.SCALE, img.shape[1] * srgan.SCALE)
        q.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(sr).save(q)
        print(f"{p} ({img.shape[1]}×{img.shape[0]}) → {q} ({sr.shape[1]}×{sr.shape[0]}, {args.model})",
              file=sys.stderr)
    if failed == len(pairs):
        raise SystemExit(f"error: none of the {len(pairs)} input(s) could be upscaled")
    return 0 if failed == 0 else 1
