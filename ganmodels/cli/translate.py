"""``python -m ganmodels translate``: CycleGAN photo ↔ Monet on a file or a folder."""
from __future__ import annotations

import sys
from pathlib import Path

from ganmodels import weights as W
from ganmodels.cli.common import common_args, file_or_folder_args, image_pairs, max_pixels, skip_or_exit
from ganmodels.imageio import open_image
from ganmodels.inference.cyclegan import translate
from ganmodels.models import cyclegan


def add_parser(sub) -> None:
    t = sub.add_parser("translate", help="CycleGAN photo ↔ Monet")
    t.add_argument("--direction", choices=["photo2monet", "monet2photo"], required=True)
    file_or_folder_args(t)
    common_args(t)
    t.set_defaults(run=run)


def run(args) -> int:
    """``python -m ganmodels translate --direction photo2monet IN OUT`` (file or folder)."""
    from PIL import Image

    src, dst = Path(args.input), Path(args.output)
    max_px = max_pixels(args.max_pixels, cyclegan.MAX_PIXELS, cyclegan.MIN_SIDE)
    pairs = image_pairs(src, dst, missing=f"{src} does not exist", empty=f"no images in {src}",
                        out_is_file=f"{src} is a folder, so OUT must be a folder too ({dst} is a file)")
    if src.is_dir():
        dst.mkdir(parents=True, exist_ok=True)
    for _, o in pairs:
        if o.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"):
            raise SystemExit(f"{o}: the output must end in .png, .jpg, .webp, .bmp or .tif")
    model = cyclegan.load(args.weights, args.device, store=W.WeightStore(args.weights, args.hub_repo),
                          with_judge=False)
    failed = 0
    for f, o in pairs:
        try:
            img, notes = open_image(f, max_px, limit=None)   # a local file: Pillow's own bomb limit
            out = translate(model, img, args.direction)
        except ValueError as e:
            skip_or_exit(pairs, f, e)
            failed += 1
            continue
        o.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(out).save(o)
        print(f"{f} → {o}" + (f" ({'; '.join(notes)})" if notes else ""), file=sys.stderr)
    return 1 if failed else 0
