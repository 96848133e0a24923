"""``python -m ganmodels inpaint``: fill the missing pixels of digits or faces (Yeh et al. 2016).

Digits (``--model dcgan``, the default): a single picture (``--image``/``--mask``, any size,
converted like MNIST) or a batch of MNIST-form digits (``--images``/``--masks``, uint8 (N,28,28)).
Faces (``--model faces``): a single photo (its centred square, resized to 64×64; the mask alike) or a
batch of framed faces (``--images`` uint8 (N,64,64,3) RGB, ``--masks`` uint8 (N,64,64), 255 = missing).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ganmodels import weights as W
from ganmodels.cli.common import common_args
from ganmodels.data import to_uint8
from ganmodels.errors import GanModelsError
from ganmodels.inference.inpaint import LAM, RESTARTS, STEPS, InpaintError, complete, mnist_like
from ganmodels.inference import face_inpaint as FI
from ganmodels.models import dcgan, faces, masked_reader


def add_parser(sub) -> None:
    i = sub.add_parser("inpaint", help="fill the missing pixels of digits or faces (Yeh et al. 2016)")
    i.add_argument("--model", choices=["dcgan", "faces"], default="dcgan",
                   help="dcgan: 28×28 digits (default); faces: 64×64 RGB faces")
    i.add_argument("--image", help="a digit image or (faces) a photo, any size")
    i.add_argument("--mask", help="mask image: white = missing")
    i.add_argument("--images", help="batch: npz with uint8 (N,28,28) digits or (N,64,64,3) faces under 'images'")
    i.add_argument("--masks", help="batch: npz with uint8 (N,28,28) or (N,64,64) under 'masks' (255 = missing)")
    i.add_argument("--out", required=True)
    i.add_argument("--steps", type=int, default=None)
    i.add_argument("--lam", type=float, default=None)
    i.add_argument("--restarts", type=int, default=None)
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--blend", choices=["poisson", "composite"], default="poisson")
    i.add_argument("--no-guide", action="store_true",
                   help="digits: Yeh et al.'s search alone (default: class-guided by the masked reader, "
                        "mnist_masked_reader.safetensors, when it is in the weights)")
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


def _read_npz(path, key, shape=(28, 28)):
    try:
        with np.load(path, allow_pickle=False) as f:
            if key not in f:
                raise SystemExit(f"{path}: no array named {key!r} (has: {', '.join(f.files)})")
            a = f[key]
    except FileNotFoundError:
        raise SystemExit(f"file not found: {path}") from None
    except (ValueError, OSError) as e:
        raise SystemExit(f"{path}: not a readable .npz file ({e})") from None
    if a.ndim != 1 + len(shape) or a.shape[1:] != tuple(shape):
        want = "(N," + ",".join(map(str, shape)) + ")"
        raise SystemExit(f"{path}: {key!r} must be uint8 {want}, got {a.dtype} {a.shape}")
    if a.dtype != np.uint8 and (np.issubdtype(a.dtype, np.integer) and (a.min() < 0 or a.max() > 255)
                                or not np.issubdtype(a.dtype, np.integer)):
        raise SystemExit(f"{path}: {key!r} must hold uint8 values 0..255, got {a.dtype}")
    return a.astype(np.uint8)


def _read_batch(args, image_shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """--images (uint8 (N, *image_shape)) and --masks (uint8 (N, H, W), 255 = missing) → (images, known)."""
    images = _read_npz(args.images, "images", image_shape)
    masks = _read_npz(args.masks, "masks", image_shape[:2])
    if len(masks) != len(images):
        raise SystemExit(f"{len(images)} images but {len(masks)} masks")
    return images, (masks < 128).astype(np.float32)


def _check_known(known: np.ndarray) -> None:
    """Refuse masks with nothing missing; note an image with nothing known (plain generation)."""
    if not (known < 0.5).any():
        raise SystemExit("the mask marks no pixel as missing: nothing to fill (255 / white = missing)")
    for i in np.nonzero((known > 0.5).sum((1, 2)) == 0)[0][:1]:
        print(f"note: image {i}: everything is missing, so this is plain generation", file=sys.stderr)


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
        raise SystemExit("--images needs --masks (255 = missing) and vice versa")
    out = Path(args.out)
    want = ".npz" if batch else ".png"
    if out.suffix.lower() != want and not (single and out.suffix.lower() in (".png", ".bmp", ".tif", ".tiff")):
        raise SystemExit(f"--out must be a {want} file for this form, not {out.name}")
    kw = dict(steps=STEPS if args.steps is None else args.steps, lam=LAM if args.lam is None else args.lam,
              restarts=RESTARTS if args.restarts is None else args.restarts, seed=args.seed,
              blend=args.blend, device=args.device)
    if kw["steps"] < 0 or kw["steps"] > 10_000 or kw["restarts"] < 1 or kw["restarts"] > 1024 or kw["lam"] < 0:
        raise SystemExit("--steps must be in 0..10000, --restarts in 1..1024, --lam ≥ 0")
    if args.model == "faces":
        return _run_faces(args, single, out)

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
        images, known = _read_batch(args, (28, 28))
    _check_known(known)

    store = W.WeightStore(args.weights, args.hub_repo)
    model = dcgan.load(device=args.device, store=store)
    if not args.no_guide:
        try:
            kw["guide"] = masked_reader.load(device=args.device, store=store)
        except (GanModelsError, OSError) as e:   # no reader shipped: the paper's search, and say so
            print(f"note: class guidance off ({e}); Yeh et al.'s search alone", file=sys.stderr)
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


def _run_faces(args, single: bool, out: Path) -> int:
    """The face model: a photo and its mask, or a batch of framed faces and masks."""
    from PIL import Image

    from ganmodels.imageio import as_rgb

    if single:
        img, mk = _read_image(args.image), _read_image(args.mask)
        if mk.size != img.size:
            raise SystemExit(f"--mask is {mk.size[0]}×{mk.size[1]} but --image is {img.size[0]}×{img.size[1]}: "
                             "they must be the same size")
        rgb, notes = as_rgb(img, what=args.image)
        face, more = FI.photo_to_face(rgb)
        # the mask takes the same crop and resize, then is thresholded at ½ again
        miss, _ = FI.photo_to_face(np.repeat(np.asarray(mk.convert("L"))[:, :, None], 3, axis=2))
        for note in notes + more:
            print(f"note: {note}", file=sys.stderr)
        images, known = face[None], (miss[None, :, :, 0] < 128).astype(np.float32)
    else:
        images, known = _read_batch(args, (faces.SIZE, faces.SIZE, 3))
    _check_known(known)
    store = W.WeightStore(args.weights, args.hub_repo)
    model = faces.load(device=args.device, store=store)
    kw = dict(steps=args.steps, lam=args.lam, restarts=args.restarts, seed=args.seed, blend=args.blend,
              device=args.device)
    results, chunk, t0 = [], 8, time.time()
    for i in range(0, len(images), chunk):
        results.append(FI.complete_faces(model.G, model.D, images[i:i + chunk], known[i:i + chunk], **kw))
        if not single:
            print(f"  {min(i + chunk, len(images))}/{len(images)} ({time.time() - t0:.0f} s)", file=sys.stderr)
    done = np.concatenate(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    if single:
        Image.fromarray(done[0]).save(out)
    else:
        np.savez_compressed(out, images=done)
    print(f"wrote {out} ({len(done)} face{'s' if len(done) != 1 else ''}, {time.time() - t0:.1f} s)",
          file=sys.stderr)
    return 0
