"""The theory the lectures teach, as small pure functions (NumPy only, no plotting, no UI).

* the optimal discriminator and the value of the game at it (Goodfellow et al. 2014, Prop. 1, Thm. 1):
      D*(x) = p_data(x) / (p_data(x) + p_g(x)),   V(D*, G) = −log 4 + 2·JSD(p_data ‖ p_g)   [nats]
* the Dirac-GAN (Mescheder et al. 2018, "Which training methods for GANs actually converge?"):
  p_data = δ₀, G = δ_θ, D's logit D_ψ(x) = ψ·x, L(θ, ψ) = f(ψθ) + f(0); G descends L, D ascends it;
  gradient steps circle or spiral outward unless D is regularised (R1: γ/2·‖∇ₓD_ψ‖² at real data = γ/2·ψ²)
* the generator's two losses as functions of d = D(G(z)) (Goodfellow et al. 2014, §3): minimax
  log(1 − d) and non-saturating −log d, with their gradients
* the Inception Score on a matrix of class probabilities p(y|x) and a 2-D example of the Fréchet
  distance (FID's formula, ``ganmodels.metrics.frechet_distance``)

Natural logarithms throughout: losses, values and divergences are in nats.
"""
from __future__ import annotations

import math

import numpy as np

from ganmodels.metrics import frechet_distance

LOG4 = math.log(4.0)        # −V(D*, G) at p_g = p_data: 1.386… nats
LOG2 = math.log(2.0)        # the largest JSD (disjoint supports), nats


# ---------------------------------------------------------------- the optimal discriminator


def gaussian_logpdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    """log N(x; mean, std²) (1-D)."""
    x = np.asarray(x, np.float64)
    return -0.5 * ((x - mean) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)


def mixture_logpdf(x: np.ndarray, means, stds, weights=None) -> np.ndarray:
    """log of a 1-D Gaussian mixture's density (equal weights unless given)."""
    means, stds = list(means), list(stds)
    w = np.full(len(means), 1.0 / len(means)) if weights is None else np.asarray(weights, np.float64)
    parts = [math.log(wi) + gaussian_logpdf(x, m, s) for wi, m, s in zip(w, means, stds)]
    return np.logaddexp.reduce(np.stack(parts), axis=0)


def optimal_d(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) from the two densities at x.

    Where both densities are 0 every D is optimal (x never occurs); 0.5 is returned there."""
    p_data, p_g = np.asarray(p_data, np.float64), np.asarray(p_g, np.float64)
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)


def optimal_d_log(logp_data, logp_g) -> np.ndarray:
    """D* from log densities: σ(log p_data − log p_g) — its logit is the log density ratio."""
    r = np.asarray(logp_data, np.float64) - np.asarray(logp_g, np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * r))        # σ(r) without overflow


def _integrate(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x)))


def value_at_optimum(x: np.ndarray, logp_data: np.ndarray, logp_g: np.ndarray) -> float:
    """V(D*, G) = ∫ p_data log D* + p_g log(1 − D*) dx on the grid ``x`` (nats)."""
    lse = np.logaddexp(logp_data, logp_g)
    y = np.exp(logp_data) * (logp_data - lse) + np.exp(logp_g) * (logp_g - lse)
    return _integrate(y, np.asarray(x, np.float64))


def jsd(x: np.ndarray, logp_data: np.ndarray, logp_g: np.ndarray) -> float:
    """Jensen–Shannon divergence ½KL(p_data‖m) + ½KL(p_g‖m), m = ½(p_data + p_g), on the grid (nats, 0…log 2)."""
    logm = np.logaddexp(logp_data, logp_g) - LOG2
    y = 0.5 * (np.exp(logp_data) * (logp_data - logm) + np.exp(logp_g) * (logp_g - logm))
    return _integrate(y, np.asarray(x, np.float64))


# ---------------------------------------------------------------- the Dirac-GAN

DIRAC_LOSSES = ("gan", "wgan")
DIVERGED = 1e6          # a trajectory is stopped once its distance to (0, 0) exceeds this


def _fprime(t: np.ndarray | float, loss: str):
    """f'(t) of the Dirac-GAN's objective: GAN f(t) = −log(1 + e^{−t}) → f' = 1/(1 + e^t); WGAN f(t) = t → 1."""
    if loss == "gan":
        return 0.5 * (1.0 - np.tanh(0.5 * np.asarray(t, np.float64)))    # σ(−t)
    if loss == "wgan":
        return np.ones_like(np.asarray(t, np.float64))
    raise ValueError(f"loss must be one of {DIRAC_LOSSES}, got {loss!r}")


def dirac_field(theta, psi, *, loss: str = "gan", gamma: float = 0.0):
    """The gradient vector field (θ̇, ψ̇) = (−ψ f'(ψθ), θ f'(ψθ) − γψ): G descends L, D ascends L − γ/2·ψ²."""
    theta, psi = np.asarray(theta, np.float64), np.asarray(psi, np.float64)
    fp = _fprime(psi * theta, loss)
    return -psi * fp, theta * fp - gamma * psi


def dirac_gan(theta0: float = 1.0, psi0: float = 1.0, *, loss: str = "gan", gamma: float = 0.0,
              lr: float = 0.1, steps: int = 200, alternating: bool = False) -> np.ndarray:
    """Gradient steps on the Dirac-GAN from (θ₀, ψ₀): the trajectory, shape (steps + 1, 2) = (θ, ψ).

    ``alternating``: G steps first, then D steps at G's new θ; otherwise both step at once
    (simultaneous gradient descent).  ``gamma`` > 0 adds the R1 penalty γ/2·ψ² to D's loss.
    A trajectory that leaves the disc of radius ``DIVERGED`` is stopped there (fewer rows): with R1, D's
    own step overshoots once h·γ > 2 (ψ ← (1 − hγ)ψ near ψθ = 0)."""
    if lr <= 0 or steps < 0:
        raise ValueError("lr must be positive and steps non-negative")
    if loss not in DIRAC_LOSSES:
        raise ValueError(f"loss must be one of {DIRAC_LOSSES}, got {loss!r}")

    def fp(t: float) -> float:          # f'(t), as _fprime, on plain floats (this loop runs per slider move)
        return 0.5 * (1.0 - math.tanh(0.5 * t)) if loss == "gan" else 1.0

    out = np.empty((steps + 1, 2))
    th, ps = float(theta0), float(psi0)
    out[0] = th, ps
    for k in range(1, steps + 1):
        a = fp(ps * th)
        th_new = th - lr * ps * a                       # G descends L
        if alternating:
            a = fp(ps * th_new)
            ps = ps + lr * (th_new * a - gamma * ps)    # D ascends L − γ/2·ψ², at G's new θ
        else:
            ps = ps + lr * (th * a - gamma * ps)        # D ascends L − γ/2·ψ², at the same θ
        th = th_new
        out[k] = th, ps
        if not math.hypot(th, ps) <= DIVERGED:
            return out[:k + 1]
    return out


# ---------------------------------------------------------------- the generator's two losses


def generator_losses(d) -> dict[str, np.ndarray]:
    """G's losses at d = D(G(z)) ∈ (0, 1) and their gradients (nats).

    ``minimax`` = log(1 − d) and ``nonsaturating`` = −log d (both minimised by G);
    ``*_dd``: derivative with respect to d; ``*_dlogit``: with respect to D's logit a (d = σ(a)),
    the gradient that reaches G through D's sigmoid: −d (minimax; → 0 as d → 0) and −(1 − d)
    (non-saturating; → −1 as d → 0)."""
    d = np.asarray(d, np.float64)
    return {"minimax": np.log1p(-d), "nonsaturating": -np.log(d),
            "minimax_dd": -1.0 / (1.0 - d), "nonsaturating_dd": -1.0 / d,
            "minimax_dlogit": -d, "nonsaturating_dlogit": -(1.0 - d)}


# ---------------------------------------------------------------- Inception Score and FID


def inception_score(probs) -> float:
    """IS = exp(E_x KL(p(y|x) ‖ p(y))), p(y) = E_x p(y|x), from probabilities (N, classes).

    1 (no class information or one class for every x) … number of classes (confident and evenly spread)."""
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError("probs must be a non-empty (N, classes) matrix")
    py = p.mean(0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(np.where(py > 0, py, 1.0))), 0.0)
    return float(np.exp(terms.sum(1).mean()))


def toy_predictions(n_classes: int = 10, covered: int = 10, confidence: float = 1.0, n: int = 1000) -> np.ndarray:
    """A classifier's p(y|x) for ``n`` imagined samples: sample i is of class i mod ``covered`` (so the first
    ``covered`` classes are hit evenly) and gets probability ``confidence`` on it, the rest spread evenly."""
    if not 1 <= covered <= n_classes:
        raise ValueError(f"covered must be in 1…{n_classes}")
    if not 1.0 / n_classes <= confidence <= 1.0:
        raise ValueError(f"confidence must be in {1 / n_classes:g}…1")
    p = np.full((n, n_classes), (1.0 - confidence) / (n_classes - 1) if n_classes > 1 else 0.0)
    p[np.arange(n), np.arange(n) % covered] = confidence
    return p


def fid_gaussian_example(shift: float, scale: float, *, n: int = 2000, seed: int = 0):
    """Real features ~ N(0, I₂), generated ~ N((shift, 0), scale²·I₂): the samples, the Fréchet distance
    estimated from them (``metrics.frechet_distance``) and its exact value shift² + 2(1 − scale)²."""
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n, 2))
    fake = rng.standard_normal((n, 2)) * scale + np.array([shift, 0.0])
    return real, fake, frechet_distance(real, fake), shift ** 2 + 2 * (1 - scale) ** 2
