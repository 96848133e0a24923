"""Judging the digit models with the project's MNIST classifier.

Its accuracy on MNIST test digits, the share of confidently classified samples,
the class shares and **classifier-FID** (the Fréchet distance on the
classifier's penultimate features; not Inception FID).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ganmodels import data
from ganmodels.errors import EvaluationError
from ganmodels.metrics import frechet_distance, sample_quality
from ganmodels.models import classifier as C
from ganmodels.models import dcgan


MNIST_TEST_NAME = "mnist/mnist_test_first5000.npz"   # inside the --data-dir folder


def mnist_test_path(args) -> Path:
    """``--mnist-test``, else ``<--data-dir>/mnist/mnist_test_first5000.npz``."""
    if getattr(args, "mnist_test", None):
        return Path(args.mnist_test)
    if getattr(args, "data_dir", None):
        return Path(args.data_dir) / MNIST_TEST_NAME
    raise EvaluationError("the digit models are judged on MNIST test digits: pass --data-dir FOLDER "
                          f"(holding {MNIST_TEST_NAME}) or --mnist-test FILE.npz")


def mnist_test(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    p = Path(path)
    if not p.is_file():
        raise EvaluationError(f"MNIST test digits not found at {p}: pass --mnist-test PATH "
                              "(an npz with uint8 'images' (N,28,28) and 'labels')")
    with np.load(p, allow_pickle=False) as f:
        return f["images"], f["labels"].astype(np.int64)


def evaluate_classifier(args) -> dict:
    net = C.load(args.weights, args.device)
    X, y = mnist_test(mnist_test_path(args))
    probs, _ = C.predict(net, X)
    return {"files": [C.FILE],
            "metrics": {"test_accuracy": round(float((probs.argmax(1) == y).mean()), 4),
                        "test_set": "MNIST t10k, first 5,000 digits", "n": int(len(y))}}


def evaluate_masked_reader(args) -> dict:
    """The masked readers' accuracy through each preset mask (masks as ``bench/inpaint.py`` draws them):
    the general reader on every mask, each preset specialist on its own."""
    from ganmodels.inference.inpaint import MASK_KINDS, make_mask
    from ganmodels.models import masked_reader as MR

    readers = MR.load(args.weights, args.device)
    X, y = mnist_test(mnist_test_path(args))
    acc, spec = {}, {}
    for kind in ("none", *MASK_KINDS):
        m = None if kind == "none" else np.stack([make_mask(kind, seed=i) for i in range(len(X))])
        acc[kind] = round(float((MR.read(readers.general, X, m).argmax(1) == y).mean()), 4)
        if kind in readers.specialists:
            spec[kind] = round(float((MR.read(readers.specialists[kind], X, m).argmax(1) == y).mean()), 4)
    used = {k: spec.get(k, acc[k]) for k in acc}
    return {"files": [MR.FILE, *(MR.file_for(k) for k in readers.specialists)],
            "metrics": {"accuracy_center": used["center"], "accuracy_by_mask": used,
                        "general_reader_by_mask": acc, "specialists_by_mask": spec,
                        "test_set": "MNIST t10k, first 5,000 digits", "n": int(len(y)),
                        "method": "argmax of p(digit | known pixels) of the reader the search uses for that mask "
                                  "(a preset's specialist when shipped, else the general reader); masks: "
                                  "inference.inpaint.make_mask(kind, seed=i) for digit i, as bench/inpaint.py; "
                                  "none = all pixels known"}}


def digit_sample_metrics(images: np.ndarray, net, X_test: np.ndarray, X_train: np.ndarray | None = None,
                         fid_n: int = 5000) -> dict:
    """Confidence/class shares on the first 1,000 samples; classifier-FID of up to ``fid_n`` samples."""
    probs, feats = C.predict(net, images)
    q = sample_quality(probs[:1000])
    _, f_test = C.predict(net, X_test[:fid_n])
    out = {"n_samples_quality": int(min(1000, len(images))), **q,
           "classifier_fid_to_test": round(frechet_distance(feats[:fid_n], f_test), 3),
           "n_fid": int(min(fid_n, len(images), len(X_test)))}
    if X_train is not None:
        _, f_train = C.predict(net, X_train[:fid_n])
        out["classifier_fid_floor_train_vs_test"] = round(frechet_distance(f_train, f_test), 3)
    return out


def evaluate_dcgan(args) -> dict:
    model = dcgan.load(args.weights, args.device)
    net = C.load(args.weights, args.device)
    X_test, _ = mnist_test(mnist_test_path(args))
    X_train, _ = data.mnist_digits()
    imgs = model.generate_uint8(model.z_from_seed(args.seed, args.n))
    m = digit_sample_metrics(imgs, net, X_test, X_train)
    m.update(seed=args.seed, sampling="z ~ N(0, I), no truncation, EMA generator",
             metric_note="classifier-FID uses the project's MNIST classifier features, not Inception")
    return {"files": list(dcgan.FILES.values()), "metrics": m}
