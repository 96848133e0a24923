"""``python -m ganmodels edges`` and ``python -m ganmodels sketch2face``: pix2pix's two halves.

    edges       --images faces.npz --out edges.npz       faces uint8 (N,64,64,3) → drawings uint8 (N,64,64)
    sketch2face --model l1|pix2pix --images edges.npz --out out.npz   drawings → faces uint8 (N,64,64,3)

Drawings: 255 = paper, 0 = line (``ganmodels.edges``).  ``--out`` may also be a ``.png`` grid.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ganmodels import edges as E
from ganmodels import weights as W
from ganmodels.cli.common import common_args
from ganmodels.cli.generate import write_samples
from ganmodels.models import pix2pix as P

SIZE = P.SIZE


def add_parser(sub) -> None:
    e = sub.add_parser("edges", help="faces → line drawings (the project's edge extractor, as pix2pix trains on)")
    e.add_argument("--images", required=True, help=f"npz with uint8 (N,{SIZE},{SIZE},3) RGB faces under 'images'")
    e.add_argument("--out", required=True, help=f"npz: uint8 (N,{SIZE},{SIZE}) under 'images', 255 = paper, 0 = line")
    e.add_argument("--weights", default=str(W.DEFAULT_DIR),
                   help="the drawings are made as the pix2pix generator there learnt from (its Canny settings); "
                        "without that file, the extractor's defaults")
    e.set_defaults(run=run_edges)
    s = sub.add_parser("sketch2face", help="line drawings → faces with a pix2pix generator")
    s.add_argument("--model", choices=["l1", "pix2pix"], default="pix2pix",
                   help="l1: the generator trained with L1 alone; pix2pix: cGAN + L1 (default)")
    s.add_argument("--images", required=True, help=f"npz with uint8 (N,{SIZE},{SIZE}) drawings under 'images' "
                   "(255 = paper, 0 = line), e.g. from 'python -m ganmodels edges'")
    s.add_argument("--out", required=True, help=f"npz: uint8 (N,{SIZE},{SIZE},3) faces under 'images'; or a .png grid")
    common_args(s)
    s.set_defaults(run=run_sketch2face)


def read_images(path, shape: tuple, what: str, hint: str = "") -> np.ndarray:
    """The ``images`` array of an npz, checked: uint8 values of the given per-item shape."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if "images" not in f:
                raise SystemExit(f"{path}: no array named 'images' (has: {', '.join(f.files) or 'nothing'})")
            a = f["images"]
    except FileNotFoundError:
        raise SystemExit(f"file not found: {path}") from None
    except (ValueError, OSError) as e:
        raise SystemExit(f"{path}: not a readable .npz file ({e})") from None
    want = "(N," + ",".join(map(str, shape)) + ")"
    if a.ndim != 1 + len(shape) or a.shape[1:] != tuple(shape):
        raise SystemExit(f"{path}: 'images' must be {what} uint8 {want}, got {a.dtype} {a.shape}{hint}")
    if len(a) == 0:
        raise SystemExit(f"{path}: 'images' holds no {what}")
    if a.dtype != np.uint8:
        if not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() > 255:
            raise SystemExit(f"{path}: 'images' must hold uint8 values 0..255, got {a.dtype}")
        a = a.astype(np.uint8)
    return a


def _check_out(out: str, allow_png: bool) -> Path:
    p = Path(out)
    ok = (".npz", ".png") if allow_png else (".npz",)
    if p.suffix.lower() not in ok:
        raise SystemExit(f"--out must end in {' or '.join(ok)}, not {p.suffix or '(nothing)'}")
    return p


def shipped_drawing_settings(weights_dir) -> dict:
    """``edges.extract``'s settings for the cGAN + L1 generator in ``weights_dir`` (from its file's config,
    read without building the network); the extractor's defaults when there is no such file."""
    path = Path(weights_dir) / P.FILES["G"]
    if not path.is_file():
        return P.drawing_settings(P.Pix2PixConfig())
    try:
        cfg = W.read_config(path, P.Pix2PixConfig)
    except W.WeightsError as e:
        raise SystemExit(str(e)) from None
    return P.drawing_settings(cfg)


def run_edges(args) -> int:
    out = _check_out(args.out, allow_png=False)
    faces_u8 = read_images(args.images, (SIZE, SIZE, 3), f"{SIZE}×{SIZE} RGB faces",
                           f" (a (N,{SIZE},{SIZE}) array is drawings already: give those to sketch2face)")
    t0 = time.time()
    settings = shipped_drawing_settings(args.weights)
    drawings = E.extract(faces_u8, **settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=drawings)
    print(f"wrote {out} ({len(drawings)} drawings, {E.ink(drawings).mean():.1%} ink, {time.time() - t0:.1f} s)",
          file=sys.stderr)
    return 0


def run_sketch2face(args) -> int:
    out = _check_out(args.out, allow_png=True)
    hint = ""
    try:
        with np.load(args.images, allow_pickle=False) as f:
            if "images" in f and f["images"].ndim == 4 and f["images"].shape[-1] == 3:
                hint = (": these look like colour faces — turn them into drawings first with "
                        "'python -m ganmodels edges --images FACES.npz --out edges.npz'")
    except (FileNotFoundError, ValueError, OSError):
        pass                                          # read_images says what is wrong
    drawings = read_images(args.images, (SIZE, SIZE), f"{SIZE}×{SIZE} line drawings", hint)
    share = E.ink(drawings).reshape(len(drawings), -1).mean(1)
    for i in np.nonzero(share == 0)[0][:3]:
        print(f"note: drawing {i} is blank paper: its face is the generator's guess from no lines", file=sys.stderr)
    for i in np.nonzero(share > 0.5)[0][:3]:
        print(f"note: drawing {i} is {share[i]:.0%} ink: the generators learnt from line drawings on white "
              "paper (the training drawings are about 14 % ink)", file=sys.stderr)
    store = W.WeightStore(args.weights, args.hub_repo)
    model = P.load_l1(store=store, device=args.device) if args.model == "l1" else \
        P.load(store=store, device=args.device, with_D=False)
    t0 = time.time()
    images = model.translate(drawings)
    write_samples(images, out)
    print(f"wrote {out} ({len(images)} faces by the {'L1-only' if args.model == 'l1' else 'cGAN + L1'} "
          f"generator, {time.time() - t0:.1f} s)", file=sys.stderr)
    return 0
