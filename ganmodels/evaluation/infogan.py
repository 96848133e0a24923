"""Measuring InfoGAN (``python -m ganmodels.evaluate infogan``): do its codes mean something?

* the categorical code: how well the codes, matched one-to-one to digits
  (:meth:`ganmodels.models.infogan.InfoGAN.measure_mapping`), agree with the project's classifier;
* the continuous codes: Spearman's ρ of each code with two properties of the digit, its slant
  (second moments) and its ink area (a thickness proxy), swept with z and the category fixed,
  and which code means which (:func:`code_meanings`);
* sample quality: the classifier's confidence and classifier-FID, as for every digit model.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from ganmodels.evaluation.digits import digit_sample_metrics, mnist_test, mnist_test_path
from ganmodels.models import classifier as C
from ganmodels.models import infogan as IG


def slant_deg(images: np.ndarray) -> np.ndarray:
    """Slant of each digit from its second moments: atan(μ₁₁ / μ₀₂) in degrees.

    μ₁₁ = E[(x − x̄)(y − ȳ)], μ₀₂ = E[(y − ȳ)²] with the pixel intensities as weights
    (the shear that deskewing removes); y points up, so positive = leaning right.
    """
    I = np.asarray(images, dtype=np.float64)
    H, Wd = I.shape[-2:]
    ys = (H - 1 - np.arange(H))[:, None].astype(np.float64)     # up = +y
    xs = np.arange(Wd)[None, :].astype(np.float64)
    m = I.sum((-1, -2)) + 1e-9
    xc = (I * xs).sum((-1, -2)) / m
    yc = (I * ys).sum((-1, -2)) / m
    dx = xs[None] - xc[:, None, None]
    dy = ys[None] - yc[:, None, None]
    mu11 = (I * dx * dy).sum((-1, -2)) / m
    mu02 = (I * dy * dy).sum((-1, -2)) / m + 1e-9
    return np.degrees(np.arctan(mu11 / mu02))


def ink_area(images: np.ndarray, threshold: int = 128) -> np.ndarray:
    """Stroke thickness proxy: the number of pixels brighter than ``threshold``."""
    return (np.asarray(images) >= threshold).sum((-1, -2)).astype(np.float64)


def code_correlations(model: IG.InfoGAN, n_z: int = 20, steps: int = 9, lo: float = -1.0, hi: float = 1.0,
                      seed: int = 0) -> dict:
    """Spearman ρ of slant and ink area with each continuous code, swept with z and category fixed.

    For every category k and each of ``n_z`` noise vectors, code j goes through ``steps`` values
    in [lo, hi] (the other codes at 0); ρ is computed per sweep and averaged over z and categories.
    Returns {"rho": {"c1": {"slant": ..., "thickness": ...}, ...}, "per_category": ...}.
    """
    from scipy.stats import spearmanr

    K, M = model.cfg.n_cat, model.cfg.n_cont
    vals = np.linspace(lo, hi, steps)
    z = model.z_from_seed(seed, n_z)
    out, per_cat = {}, {}
    for j in range(M):
        zz = z.repeat_interleave(steps, 0).repeat(K, 1)                     # (K·n_z·steps, z_dim)
        cats = torch.arange(K).repeat_interleave(n_z * steps)
        cc = torch.zeros(len(zz), M)
        cc[:, j] = torch.from_numpy(np.tile(vals, K * n_z)).float()
        imgs = model.generate_uint8(zz, cats, cc).reshape(K, n_z, steps, 28, 28)
        props = {"slant": slant_deg(imgs.reshape(-1, 28, 28)).reshape(K, n_z, steps),
                 "thickness": ink_area(imgs.reshape(-1, 28, 28)).reshape(K, n_z, steps)}
        res, res_cat = {}, {}
        for name, p in props.items():
            rho = np.full((K, n_z), np.nan)
            for k in range(K):
                for i in range(n_z):
                    if np.ptp(p[k, i]) > 0:
                        rho[k, i] = spearmanr(vals, p[k, i]).statistic
            cat_mean = np.nanmean(rho, 1)
            res[name] = round(float(np.nanmean(cat_mean)), 4)
            res_cat[name] = [round(float(v), 3) for v in cat_mean]
        out[f"c{j + 1}"], per_cat[f"c{j + 1}"] = res, res_cat
    return {"rho": out, "per_category": per_cat, "sweep": [lo, hi, steps], "n_z": n_z}


def code_meanings(rho: dict, props: tuple[str, ...] = ("slant", "thickness")) -> dict:
    """Which continuous code means slant and which thickness: a one-to-one assignment of the
    properties to codes with the largest sum of |ρ| (as the categorical codes are matched to digits).

    Each entry also gives ``also``: the code's ρ with the other properties (how entangled it is).
    """
    a = lambda c, p: 0.0 if math.isnan(rho[c][p]) else abs(rho[c][p])     # noqa: E731
    codes = list(rho)
    if len(codes) < len(props):                           # fewer codes than properties: best code each
        pick = [max(codes, key=lambda c: a(c, p)) for p in props]
    else:
        pick = max(itertools.permutations(codes, len(props)),
                   key=lambda cs: sum(a(c, p) for c, p in zip(cs, props)))
    return {p: {"code": c, "rho": rho[c][p], "also": {q: rho[c][q] for q in props if q != p}}
            for c, p in zip(pick, props)}


def evaluate(args) -> dict:
    model = IG.load(args.weights, args.device)
    net = C.load(args.weights, args.device)
    n = 2000
    match = model.measure_mapping(net, n=n, seed=args.seed)
    corr = code_correlations(model, seed=args.seed)
    corr2 = code_correlations(model, lo=-2.0, hi=2.0, seed=args.seed)
    meanings = code_meanings(corr["rho"])
    imgs, _, _ = IG.sample_balanced(model, min(args.n, 5000), args.seed + 1)
    X_test, _ = mnist_test(mnist_test_path(args))
    q = digit_sample_metrics(imgs, net, X_test)
    m = {
        "categorical_matching_accuracy": round(match["accuracy"], 4),
        "n_matching": n,
        "code_to_digit": match["mapping"],
        "per_code_accuracy": [round(v, 3) for v in match["per_code"]],
        "spearman_sweep_-1_1": corr["rho"],
        "spearman_sweep_-2_2": corr2["rho"],
        "code_meaning": meanings,
        "continuous_codes_ok": bool(all(abs(v["rho"]) >= 0.8 for v in meanings.values())
                                    and meanings["slant"]["code"] != meanings["thickness"]["code"]),
        "confident_share": round(q["confident_share"], 4),
        "classifier_fid_to_test": q["classifier_fid_to_test"],
        "n_fid": q["n_fid"],
        "seed": args.seed,
        "method": ("matching: codes 0-9 each 200×, z~N(0,I), c~U(-1,1), classifier argmax, Hungarian "
                   "(scipy linear_sum_assignment); ρ: Spearman of slant atan(μ11/μ02) and ink area "
                   "(pixels ≥128) vs the swept code, 9 steps, 20 z per category, averaged"),
        "metric_note": "classifier-FID uses the project's MNIST classifier features, not Inception",
    }
    return {"files": list(IG.FILES.values()), "metrics": m}
