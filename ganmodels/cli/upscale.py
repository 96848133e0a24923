"""``python -m ganmodels upscale``: 4× super-resolution (SRResNet or SRGAN) on a file or a folder."""
from __future__ import annotations

import sys
from pathlib import Path

from ganmodels import weights as W
from ganmodels.cli.common import common_args, file_or_folder_args, image_pairs, max_pixels, skip_or_exit
from ganmodels.data import IMAGE_SUFFIXES
from ganmodels.inference.srgan import super_resolve
from ganmodels.models import srgan


def add_parser(sub) -> None:
    u = sub.add_parser("upscale", help="4× super-resolution")
    u.add_argument("--model", choices=["srresnet", "srgan"], required=True)
    file_or_folder_args(u)
    common_args(u)
    u.set_defaults(run=run)


def run(args) -> int:
    """``python -m ganmodels upscale --model srresnet|srgan IN OUT``: a file or a folder (names kept)."""
    from PIL import Image, UnidentifiedImageError

    src, dst = Path(args.input), Path(args.output)
    max_px = max_pixels(args.max_pixels, srgan.MAX_INPUT_PIXELS, srgan.MIN_SIDE)
    pairs = image_pairs(src, dst, missing=f"input not found: {src}",
                        empty=f"no images in {src} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})",
                        out_is_file=f"{src} is a folder, so the output must be a folder too ({dst} is a file)")
    if not src.is_dir() and pairs[0][1].suffix.lower() not in IMAGE_SUFFIXES:
        raise SystemExit(f"the output must be an image file (.png, .jpg, ...), not {pairs[0][1].name!r}")

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
            skip_or_exit(pairs, p, e)
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
