"""``python -m ganmodels inpaint``: fill the missing pixels of digits (Yeh et al. 2016).

A single picture (``--image``/``--mask``, any size, converted like MNIST) or a batch of
MNIST-form digits (``--images``/``--masks``, uint8 (N,28,28) in .npz files).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ganmodels import weights as W
from ganmodels.cli.common import common_args
from ganmodels.data import to_uint8
from ganmodels.inference.inpaint import LAM, RESTARTS, STEPS, InpaintError, complete, mnist_like
from ganmodels.models import dcgan


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


def _read_image(path):
    from PIL import Image, UnidentifiedImageError

    try:
        im = Image.open(path)
        im.load()
    except FileNotFoundError:
        raise SystemExit(f"file not found: {path}") from None
    except (UnidentifiedImageError, OSError) as e:
        raise SystemExit(f"{path}: not an image PIL can read ({e})") from None
    return im


def _read_npz(path, key):
    try:
        with np.load(path, allow_pickle=False) as f:
            if key not in f:
                raise SystemExit(f"{path}: no array named {key!r} (has: {', '.join(f.files)})")
            a = f[key]
    except FileNotFoundError:
        raise SystemExit(f"file not found: {path}") from None
    except (ValueError, OSError) as e:
        raise SystemExit(f"{path}: not a readable .npz file ({e})") from None
    if a.ndim != 3 or a.shape[1:] != (28, 28):
        raise SystemExit(f"{path}: {key!r} must be uint8 (N,28,28), got {a.dtype} {a.shape}")
    return a.astype(np.uint8)


def run(args) -> int:
    """Single image (--image/--mask) or batch (--images/--masks)."""
    from PIL import Image

    single = bool(args.image or args.mask)
    batch = bool(args.images or args.masks)
    if single == batch:
        raise SystemExit("give either --image and --mask, or --images and --masks")
    if single and not (args.image and args.mask):
        raise SystemExit("--image needs --mask (a picture where white = missing) and vice versa")
    if batch and not (args.images and args.masks):
        raise SystemExit("--images needs --masks (uint8 (N,28,28), 255 = missing) and vice versa")
    out = Path(args.out)
    want = ".npz" if batch else ".png"
    if out.suffix.lower() != want and not (single and out.suffix.lower() in (".png", ".bmp", ".tif", ".tiff")):
        raise SystemExit(f"--out must be a {want} file for this form, not {out.name}")
    kw = dict(steps=STEPS if args.steps is None else args.steps, lam=LAM if args.lam is None else args.lam,
              restarts=RESTARTS if args.restarts is None else args.restarts, seed=args.seed,
              blend=args.blend, device=args.device)
    if kw["steps"] < 0 or kw["steps"] > 10_000 or kw["restarts"] < 1 or kw["restarts"] > 1024 or kw["lam"] < 0:
        raise SystemExit("--steps must be in 0..10000, --restarts in 1..1024, --lam ≥ 0")

    if single:
        img = _read_image(args.image)
        mk = _read_image(args.mask)
        if mk.size != img.size:
            raise SystemExit(f"--mask is {mk.size[0]}×{mk.size[1]} but --image is {img.size[0]}×{img.size[1]}: "
                             "they must be the same size")
        try:
            digit, tf = mnist_like(img, return_transform=True)
            missing = tf(np.asarray(mk.convert("L"), dtype=np.float64) / 255.0)
        except InpaintError as e:
            raise SystemExit(f"{args.image}: {e}") from None
        images, known = digit[None], (~missing)[None].astype(np.float32)
    else:
        images = _read_npz(args.images, "images")
        masks = _read_npz(args.masks, "masks")
        if len(masks) != len(images):
            raise SystemExit(f"{len(images)} images but {len(masks)} masks")
        known = (masks < 128).astype(np.float32)
    if not (known < 0.5).any():
        raise SystemExit("the mask marks no pixel as missing: nothing to fill (white = missing)")
    for i in np.nonzero((known > 0.5).sum((1, 2)) == 0)[0][:1]:
        print(f"note: image {i}: everything is missing, so this is plain generation", file=sys.stderr)

    store = W.WeightStore(args.weights, args.hub_repo)
    model = dcgan.load(device=args.device, store=store)
    results = []
    chunk = 16
    t0 = time.time()
    for i in range(0, len(images), chunk):
        r = complete(model.G, model.D, images[i:i + chunk], known[i:i + chunk], **kw)
        results.append(to_uint8(r.image))
        if batch:
            print(f"  {min(i + chunk, len(images))}/{len(images)} ({time.time() - t0:.0f} s)", file=sys.stderr)
    done = np.concatenate(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    if batch:
        np.savez_compressed(out, images=done)
    else:
        Image.fromarray(done[0]).save(out)
    print(f"wrote {out} ({len(done)} digit{'s' if len(done) != 1 else ''}, {time.time() - t0:.1f} s)",
          file=sys.stderr)
    return 0
