"""Image and sample metrics, one implementation each (PSNR, SSIM, Fréchet distance, …)."""
from __future__ import annotations

import numpy as np


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½) between two feature sets (rows = samples): FID's formula."""
    from scipy import linalg

    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    if not np.isfinite(covmean).all():
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def sample_quality(probs: np.ndarray, threshold: float = 0.9) -> dict:
    """From a classifier's probabilities (N, classes): the share of confidently classified samples
    and the share of each predicted class (how evenly a generator covers the classes)."""
    pred = probs.argmax(1)
    counts = np.bincount(pred, minlength=probs.shape[1]) / len(pred)
    return {
        "confident_share": float((probs.max(1) > threshold).mean()),
        "class_shares": [round(float(c), 4) for c in counts],
        "min_class_share": float(counts.min()),
        "max_class_share": float(counts.max()),
        "classes_covered": int((counts > 0.01).sum()),
    }


# ------------------------------------------------------------------ images against a reference


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """10·log10(R² / MSE) of two images (any shape, compared in float64); +inf for identical images."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range ** 2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0) -> float:
    """SSIM (Wang et al. 2004) of two grey images, as the SR literature reports it: Gaussian window
    σ = 1.5 (11×11), K1 = 0.01, K2 = 0.03, population (not sample) covariances, mean over the map
    without the 5-pixel edge the window cannot cover

        SSIM(x,y) = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),  C = (K·R)².
    """
    from skimage.metrics import structural_similarity

    return float(structural_similarity(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                       gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=data_range))


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """uint8 RGB → float64 luma Y in [16, 235] (ITU-R BT.601, as MATLAB's rgb2ycbcr): the channel
    super-resolution papers measure PSNR and SSIM on."""
    x = img.astype(np.float64) / 255.0
    return 16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]


def grad_mag(y: np.ndarray) -> float:
    """Mean gradient magnitude √(∂x² + ∂y²) (central differences) of a grey image: a sharpness measure."""
    gy, gx = np.gradient(np.asarray(y, np.float64))
    return float(np.mean(np.hypot(gx, gy)))
