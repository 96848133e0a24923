"""``python -m ganmodels <verb>``: the command lines beside the UI.

    generate dcgan    --n 64 --seed 0 --out grid.png | samples.npz
    generate infogan  --cat K --c1 X --c2 Y --n N --out F.npz
    generate cgan     --label D --n N --out F.npz
    generate faces    --n N --seed S --out F.npz                   (uint8 (N,64,64,3) RGB)
    edit faces --attribute NAME --n N --seed S --out F.npz       (keys before, after: uint8 (N,64,64,3))
    inpaint   --image in.png --mask mask.png --out out.png        (mask: white = missing)
    inpaint   --images in.npz --masks masks.npz --out out.npz     (uint8 (N,28,28); mask 255 = missing)
    inpaint   --model faces --images in.npz --masks m.npz --out out.npz
                                              (uint8 (N,64,64,3) faces, masks uint8 (N,64,64), 255 = missing)
    translate --direction photo2monet|monet2photo IN OUT          (file or folder)
    upscale   --model srresnet|srgan IN OUT                       (file or folder; exactly 4×)
    edges     --images faces.npz --out edges.npz      (faces uint8 (N,64,64,3) → drawings (N,64,64), 255 = paper)
    sketch2face --model l1|pix2pix --images edges.npz --out out.npz     (drawings → faces uint8 (N,64,64,3))

An ``.npz`` output holds one array under the key ``images`` (``edit``: ``before`` and ``after``):
digits uint8 (N, 28, 28), 0 = background; faces uint8 (N, 64, 64, 3) RGB.  A ``.png`` output is a
grid of the samples.  Faces: a DCGAN trained on aligned CelebA — non-commercial research and
teaching only.
"""
from __future__ import annotations

import argparse

from ganmodels.cli import edit, generate, inpaint, sketch, translate, upscale
from ganmodels.errors import GanModelsError

VERBS = (generate, edit, inpaint, translate, upscale, sketch)   # each: add_parser(sub) and run(args)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ganmodels", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="verb", required=True)
    for verb in VERBS:
        verb.add_parser(sub)
    args = p.parse_args(argv)
    try:
        return args.run(args)
    except GanModelsError as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    raise SystemExit(main())
