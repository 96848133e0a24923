"""CycleGAN's held-out metrics (``python -m ganmodels.evaluate cyclegan``).

On the held-out split (never trained on): the Monet judge's accuracy on real images, how
often it calls a translation the target domain, the cycle's PSNR and the identity error.
"""
from __future__ import annotations

import numpy as np

from ganmodels import weights as W
from ganmodels.imageio import read_rgb
from ganmodels.inference.cyclegan import translate
from ganmodels.metrics import psnr
from ganmodels.models import cyclegan, monet_judge


def translate_held_out(model, images, direction: str, other: str):
    """Each image translated (``direction``) and back: (translations, cycle PSNRs in dB, identity errors).

    The identity error is mean |other(x) − x| on the [-1, 1] scale: the network that maps *into*
    the image's own domain should leave it untouched.
    """
    outs, cycle_psnr, identity = [], [], []
    for im in images:
        o, r = translate(model, im, direction, cycle=True)
        outs.append(o)
        cycle_psnr.append(psnr(im, r))
        identity.append(np.abs(translate(model, im, other).astype(np.float64) - im).mean() / 127.5)
    return outs, cycle_psnr, identity


def evaluate(args) -> dict:
    """Held-out metrics, judged by the shipped Monet judge (trained on the training split only).

    The data folder is ``--data`` or ``--data-dir`` (holding photo/ and monet/).
    """
    d = cyclegan.data_root(getattr(args, "data", None) or getattr(args, "data_dir", None))
    store = W.WeightStore(args.weights)
    model = cyclegan.load(args.weights, args.device, store=store, with_judge=False)
    judge = monet_judge.load(args.weights, args.device, store=store)
    _, hx = cyclegan.split_folder(d / "photo")
    _, hy = cyclegan.split_folder(d / "monet")
    X, Y = read_rgb(hx), read_rgb(hy)
    # judge on real held-out images
    px, py = monet_judge.monet_prob(judge, X), monet_judge.monet_prob(judge, Y)
    acc = float(((px < 0.5).sum() + (py >= 0.5).sum()) / (len(X) + len(Y)))
    # translations, cycles, identity
    gx, ps_x, idx_err = translate_held_out(model, X, "photo2monet", "monet2photo")
    fy, ps_y, idy_err = translate_held_out(model, Y, "monet2photo", "photo2monet")
    p_gx = monet_judge.monet_prob(judge, np.stack(gx))
    p_fy = monet_judge.monet_prob(judge, np.stack(fy))
    m = {
        "heldout_photos": len(X), "heldout_monets": len(Y),
        "split": f"{cyclegan.HELDOUT_PERCENT}% of each folder by sha256(file name), never trained on",
        "judge_heldout_accuracy": round(acc, 4),
        "judge_heldout_photo_accuracy": round(float((px < 0.5).mean()), 4),
        "judge_heldout_monet_accuracy": round(float((py >= 0.5).mean()), 4),
        "photo2monet_called_monet": round(float((p_gx >= 0.5).mean()), 4),
        "monet2photo_called_photo": round(float((p_fy < 0.5).mean()), 4),
        "cycle_psnr_photo_db": round(float(np.mean(ps_x)), 2),
        "cycle_psnr_monet_db": round(float(np.mean(ps_y)), 2),
        "cycle_psnr_db": round(float(np.mean(ps_x + ps_y)), 2),
        "identity_l1_F_on_photos": round(float(np.mean(idx_err)), 4),
        "identity_l1_G_on_monets": round(float(np.mean(idy_err)), 4),
        "identity_note": "mean |F(x) − x| and |G(y) − y| on the [-1, 1] scale (0 = untouched)",
        "judge": f"MonetJudge CNN ({judge.cfg.size}² whole-image input) trained on the training split only",
        "image_size": "256×256 held-out images, translated whole",
    }
    return {"files": [cyclegan.FILES["G"], cyclegan.FILES["F"], monet_judge.FILE], "metrics": m}
