"""``python -m ganmodels translate``: CycleGAN photo ↔ Monet on a file or a folder."""
from __future__ import annotations

import sys
from pathlib import Path

from ganmodels import weights as W
from ganmodels.cli.common import common_args
from ganmodels.data import list_images
from ganmodels.imageio import open_image
from ganmodels.inference.cyclegan import translate
from ganmodels.models import cyclegan


def add_parser(sub) -> None:
    t = sub.add_parser("translate", help="CycleGAN photo ↔ Monet")
    t.add_argument("--direction", choices=["photo2monet", "monet2photo"], required=True)
    t.add_argument("input")
    t.add_argument("output")
    t.add_argument("--max-pixels", type=int, default=None)
    common_args(t)
    t.set_defaults(run=run)


def run(args) -> int:
    """``python -m ganmodels translate --direction photo2monet IN OUT`` (file or folder)."""
    from PIL import Image

    src, dst = Path(args.input), Path(args.output)
    max_px = args.max_pixels or cyclegan.MAX_PIXELS
    if max_px < cyclegan.MIN_SIDE * cyclegan.MIN_SIDE:
        raise SystemExit(f"--max-pixels must be at least {cyclegan.MIN_SIDE * cyclegan.MIN_SIDE}")
    if not src.exists():
        raise SystemExit(f"{src} does not exist")
    if src.is_dir():
        files = list_images(src)
        if not files:
            raise SystemExit(f"no images in {src}")
        if dst.exists() and not dst.is_dir():
            raise SystemExit(f"{src} is a folder, so OUT must be a folder too ({dst} is a file)")
        dst.mkdir(parents=True, exist_ok=True)
        pairs = [(f, dst / f.relative_to(src)) for f in files]
    else:
        if dst.is_dir():
            dst = dst / src.name
        pairs = [(src, dst)]
    for _, o in pairs:
        if o.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"):
            raise SystemExit(f"{o}: the output must end in .png, .jpg, .webp, .bmp or .tif")
    model = cyclegan.load(args.weights, args.device, store=W.WeightStore(args.weights, args.hub_repo),
                          with_judge=False)
    failed = 0
    for f, o in pairs:
        try:
            img, notes = open_image(f, max_px)
            out = translate(model, img, args.direction)
        except ValueError as e:
            if len(pairs) == 1:
                raise SystemExit(f"error: {e}")
            print(f"skipped {f}: {e}", file=sys.stderr)
            failed += 1
            continue
        o.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(out).save(o)
        print(f"{f} → {o}" + (f" ({'; '.join(notes)})" if notes else ""), file=sys.stderr)
    return 1 if failed else 0
