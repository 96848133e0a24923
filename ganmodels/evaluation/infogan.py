"""Measuring InfoGAN (``python -m ganmodels.evaluate infogan``): do its codes mean something?

* the categorical code: how well the codes, matched one-to-one to digits
  (:meth:`ganmodels.models.infogan.InfoGAN.measure_mapping`), agree with the project's classifier;
* the continuous codes (the paper's c2, c3; c1 is the categorical code): on 2,000 samples with
  every code and z drawn at random, Spearman's ρ (and a regression slope with R²) of each code
  with two per-sample properties of the digit, its slant (second moments) and its ink area
  (a width/thickness proxy), and what that supports (:func:`code_meaning`);
* sample quality: the classifier's confidence and classifier-FID, as for every digit model.
"""
from __future__ import annotations

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


PROPERTIES = ("slant", "ink_area")
WEAK_RHO = 0.3     # |ρ| below this with every property: the code has no clear single meaning
CODE_NAMES = ("the paper's names (Chen et al. 2016): c1 = the 10-way categorical code (model input c_cat, "
              "CLI --cat); c2, c3 = the continuous codes (inputs c_cont[:, 0] and c_cont[:, 1]; CLI --c1, --c2)")


def paper_name(j: int) -> str:
    """The paper's name of continuous code j (0-based model input): c2, c3, … (c1 is the categorical code)."""
    return f"c{j + 2}"


def code_properties(images: np.ndarray) -> dict[str, np.ndarray]:
    """The per-sample properties the continuous codes are measured against: slant (degrees) and ink area."""
    return {"slant": slant_deg(images), "ink_area": ink_area(images)}


def code_correlations(model: IG.InfoGAN, n: int = 2000, seed: int = 0, lo: float = -1.0,
                      hi: float = 1.0) -> dict:
    """What each continuous code controls, measured on ``n`` independent samples.

    Every sample draws its own z ~ N(0, I), categorical code ~ Cat(K) and continuous codes
    ~ Unif(lo, hi) (all codes independently, as in training); per sample, the digit's slant and
    ink area are measured.  For each continuous code and property, over all n samples:
    Spearman's ρ, the least-squares line property = a + slope · code with its R², and the mean of the
    per-categorical-code ρ (``rho_within_c1``: the digit's own shape taken out).
    Codes are named as in the paper: c2, c3 (c1 is the categorical code).
    ρ is None where it is undefined (the property never changes).
    Returns {"n", "rho": {code: {prop: ρ}}, "regression": {code: {prop: {"slope", "r2"}}},
    "rho_within_c1": {code: {prop: ρ}}}.
    """
    from scipy.stats import linregress, spearmanr

    K, M = model.cfg.n_cat, model.cfg.n_cont
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, model.cfg.z_dim, generator=g)
    cats = torch.randint(0, K, (n,), generator=g)
    cc = torch.rand(n, M, generator=g) * (hi - lo) + lo
    imgs = np.asarray(model.generate_uint8(z, cats, cc))
    if len(imgs) != n:
        raise ValueError(f"the model returned {len(imgs)} images for {n} codes")
    props = code_properties(imgs.reshape(-1, 28, 28))
    cats, cc = cats.numpy(), cc.numpy().astype(np.float64)

    def rho_of(x, y):     # None where ρ is undefined (a constant property), not a spurious number
        return round(float(spearmanr(x, y).statistic), 4) if np.ptp(x) > 0 and np.ptp(y) > 0 else None

    rho, reg, within = {}, {}, {}
    for j in range(M):
        name, c = paper_name(j), cc[:, j]
        rho[name], reg[name], within[name] = {}, {}, {}
        for p, v in props.items():
            rho[name][p] = rho_of(c, v)
            if np.ptp(v) > 0:
                lr = linregress(c, v)
                reg[name][p] = {"slope": round(float(lr.slope), 4), "r2": round(float(lr.rvalue ** 2), 4)}
            else:
                reg[name][p] = {"slope": 0.0, "r2": 0.0}
            per = [rho_of(c[cats == k], v[cats == k]) for k in range(K) if (cats == k).sum() > 2]
            per = [r for r in per if r is not None]
            within[name][p] = round(float(np.mean(per)), 4) if per else None
    return {"n": int(n), "range": [lo, hi], "seed": int(seed), "rho": rho, "regression": reg,
            "rho_within_c1": within}


def code_meaning(rho: dict, weak: float = WEAK_RHO) -> dict:
    """What one code's ρ with each property supports: the property with the largest |ρ| when
    |ρ| ≥ ``weak``, with the other properties that also reach ``weak`` under ``also`` (the code is
    then entangled); ``property`` None when every |ρ| is weak (no clear single property).
    """
    a = {p: (0.0 if r is None or math.isnan(r) else abs(r)) for p, r in rho.items()}
    strong = sorted((p for p in rho if a[p] >= weak), key=lambda p: -a[p])
    if not strong:
        return {"property": None, "rho": None, "also": {}}
    return {"property": strong[0], "rho": rho[strong[0]], "also": {p: rho[p] for p in strong[1:]}}


def evaluate(args) -> dict:
    model = IG.load(args.weights, args.device)
    net = C.load(args.weights, args.device)
    n = 2000
    match = model.measure_mapping(net, n=n, seed=args.seed)
    corr = code_correlations(model, n=n, seed=args.seed)
    imgs, _, _ = IG.sample_balanced(model, min(args.n, 5000), args.seed + 1)
    X_test, _ = mnist_test(mnist_test_path(args))
    q = digit_sample_metrics(imgs, net, X_test)
    m = {
        "categorical_matching_accuracy": round(match["accuracy"], 4),
        "n_matching": n,
        "code_to_digit": match["mapping"],
        "per_code_accuracy": [round(v, 3) for v in match["per_code"]],
        "code_names": CODE_NAMES,
        "n_continuous": corr["n"],
        "continuous_code_spearman": corr["rho"],
        "continuous_code_spearman_within_c1": corr["rho_within_c1"],
        "continuous_code_regression": corr["regression"],
        "continuous_code_meaning": {c: code_meaning(r) for c, r in corr["rho"].items()},
        "confident_share": round(q["confident_share"], 4),
        "classifier_fid_to_test": q["classifier_fid_to_test"],
        "n_fid": q["n_fid"],
        "seed": args.seed,
        "method": ("matching: codes 0-9 each 200×, z~N(0,I), c~U(-1,1), classifier argmax, Hungarian "
                   "(scipy linear_sum_assignment); continuous codes: 2,000 samples (seed), z~N(0,I), c1~Cat(10), "
                   "c2, c3~U(-1,1) independently; per sample slant atan(μ11/μ02) in degrees and ink area "
                   "(pixels ≥128); Spearman ρ of each code with each property over all samples, "
                   "least-squares slope and R², and the mean of the per-c1 ρ; meaning: largest |ρ| "
                   f"if ≥ {WEAK_RHO}, else none"),
        "metric_note": "classifier-FID uses the project's MNIST classifier features, not Inception",
    }
    return {"files": list(IG.FILES.values()), "metrics": m}
