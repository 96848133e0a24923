"""Measuring the conditional GAN (``python -m ganmodels.evaluate cgan``): does G(z | y) draw digit y?

The project's classifier reads 200 samples of each digit; its agreement with the requested
digit is the headline number, beside the sample quality that every digit model reports.
"""
from __future__ import annotations

import numpy as np

from ganmodels.evaluation.digits import digit_sample_metrics, mnist_test, mnist_test_path
from ganmodels.models import cgan as CG
from ganmodels.models import classifier as C


def evaluate(args) -> dict:
    model = CG.load(args.weights, args.device)
    net = C.load(args.weights, args.device)
    n = 2000
    z = model.z_from_seed(args.seed, n)
    y = np.arange(n) % model.cfg.n_classes
    imgs = model.generate_uint8(z, y)
    probs, _ = C.predict(net, imgs)
    pred = probs.argmax(1)
    per_digit = [round(float((pred[y == d] == d).mean()), 3) for d in range(model.cfg.n_classes)]
    X_test, _ = mnist_test(mnist_test_path(args))
    z2 = model.z_from_seed(args.seed + 1, min(args.n, 5000))
    y2 = np.arange(len(z2)) % model.cfg.n_classes
    q = digit_sample_metrics(model.generate_uint8(z2, y2), net, X_test)
    m = {"classifier_agreement": round(float((pred == y).mean()), 4), "n_agreement": n,
         "per_digit_agreement": per_digit,
         "confident_share": round(q["confident_share"], 4),
         "classifier_fid_to_test": q["classifier_fid_to_test"], "n_fid": q["n_fid"], "seed": args.seed,
         "method": "each digit 200×, z~N(0,I), EMA generator; agreement = classifier argmax == requested digit",
         "metric_note": "classifier-FID uses the project's MNIST classifier features, not Inception"}
    return {"files": list(CG.FILES.values()), "metrics": m}
