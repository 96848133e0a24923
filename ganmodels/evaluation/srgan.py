"""SRResNet / SRGAN on the standard SR protocol (``python -m ganmodels.evaluate srgan``).

Eight scikit-image colour pictures (never used for training): HR cropped to a multiple of 4,
LR = antialiased bicubic ÷4 saved as uint8, then bicubic, SRResNet and SRGAN ×4 are compared
with HR on the Y channel (BT.601) without a 4-pixel border: PSNR, SSIM and sharpness.
"""
from __future__ import annotations

import time

from ganmodels.imageio import skimage_image
from ganmodels.inference.srgan import upscale
from ganmodels.models import srgan
from ganmodels.models.srgan import METHODS

EVAL_IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right",
               "hubble_deep_field", "retina")


def evaluate(args) -> dict:
    """The protocol above on :data:`EVAL_IMAGES`; per image and mean over them."""
    model = srgan.load(args.weights, args.device)
    per, sums = {}, {m: {"psnr": 0.0, "ssim": 0.0, "sharpness": 0.0} for m in METHODS}
    times = {m: 0.0 for m in METHODS}
    for name in EVAL_IMAGES:
        hr = srgan.modcrop(skimage_image(name))
        lr = srgan.downscale(hr)
        per[name] = {}
        for m in METHODS:
            t0 = time.time()
            sr = upscale(model, m, lr)
            times[m] += time.time() - t0
            r = srgan.sr_metrics(sr, hr)
            per[name][m] = {k: round(v, 4) for k, v in r.items()}
            for k in r:
                sums[m][k] += r[k]
    n = len(EVAL_IMAGES)
    mean = {m: {k: round(v / n, 4) for k, v in sums[m].items()} for m in METHODS}
    metrics = {
        "test_images": "skimage.data: " + ", ".join(EVAL_IMAGES) + " (none used for training)",
        "protocol": "HR modcrop 4; LR = antialiased bicubic ÷4 (uint8); Y channel (BT.601), 4-px border "
                    "removed; SSIM Gaussian σ=1.5; sharpness = mean |∇Y| of SR / of HR",
        "mean": mean,
        "srresnet_gain_db": round(mean["srresnet"]["psnr"] - mean["bicubic"]["psnr"], 3),
        "srgan_gain_db": round(mean["srgan"]["psnr"] - mean["bicubic"]["psnr"], 3),
        "srgan_sharper_than_srresnet": bool(mean["srgan"]["sharpness"] > mean["srresnet"]["sharpness"]),
        "per_image": per,
        "seconds_total": {m: round(t, 2) for m, t in times.items()},
    }
    return {"files": [srgan.FILES["srresnet"], srgan.FILES["srgan"]], "metrics": metrics}
