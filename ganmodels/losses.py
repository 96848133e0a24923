"""The GAN objectives as plain functions of the discriminator's raw outputs (logits/scores).

Notation: r = D(x) on real data, f = D(G(z)) on generated data (both *before* any
sigmoid), σ the logistic function; b / a the real / fake labels (1 / 0 unless smoothed).

| loss      | D minimises                                   | G minimises                | D's output means      |
|-----------|-----------------------------------------------|----------------------------|-----------------------|
| minimax   | −log σ(r) − log(1 − σ(f))                     | log(1 − σ(f))   (saturates)| σ(r): P(x is real)    |
| ns        | same as minimax                               | −log σ(f)                  | σ(r): P(x is real)    |
| lsgan     | ½(r − b)² + ½(f − a)²                         | ½(f − 1)²                  | r: regression to b, a |
| wgan-gp   | f − r + λ (‖∇D(x̂)‖₂ − 1)²                     | −f                         | r: critic score       |
| wgan-clip | f − r, then every D weight clipped to [−c, c] | −f                         | r: critic score       |
| hinge     | max(0, 1 − r) + max(0, 1 + f)                 | −f                         | r: score, margins ±1  |

(f and r in the table stand for their batch means where the loss is linear in them.)
All return the batch mean.  ``real_label`` < 1 gives one-sided label smoothing
(Salimans et al. 2016) for the log-likelihood losses and LSGAN; the WGAN critics and hinge have no labels.

At the equilibrium p_g = p_data the optimal D is D*(x) = (b·p_data + a·p_g)/(p_data + p_g) = (a + b)/2 for
minimax/ns (as the probability σ(r)) and for LSGAN (as the raw output r): ½ with labels 1 / 0.  A WGAN
critic or a hinge D has no such value: at p_g = p_data every score difference E[D(x)] − E[D(G(z))] is 0 and
the scores themselves may sit anywhere.

**wgan-clip** (Arjovsky et al. 2017): the critic is kept K-Lipschitz by clipping every weight to
[−c, c] after every critic step (``CLIP_C`` = 0.01, the paper's c; ``clip_weights``).  The paper trains it
with RMSProp (lr 5·10⁻⁵, n_critic = 5) because momentum made the clipped critic unstable; the app's trainers
use Adam for every loss, and the WGAN (weight clipping) preset sets β₁ = 0 — Adam without momentum, i.e.
RMSProp with bias correction — so that one optimizer serves every loss and its checkpoints.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOSSES = ("minimax", "ns", "lsgan", "wgan-gp", "wgan-clip", "hinge")
LOSS_NAMES = {
    "minimax": "minimax (saturating)",
    "ns": "non-saturating",
    "lsgan": "LSGAN (least squares)",
    "wgan-gp": "WGAN-GP",
    "wgan-clip": "WGAN (weight clipping)",
    "hinge": "hinge",
}


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


# -- minimax (Goodfellow et al. 2014): min_G max_D E[log D(x)] + E[log(1 − D(G(z)))]
def minimax_d(r, f, real_label=1.0, fake_label=0.0):
    return _bce(r, real_label) + _bce(f, fake_label)


def minimax_g(f):
    # log(1 − σ(f)) = −softplus(f): G *minimises* it; its gradient vanishes when D rejects G(z).
    return (-F.softplus(f)).mean()


# -- non-saturating: G maximises log D(G(z)) instead
ns_d = minimax_d


def ns_g(f):
    return F.softplus(-f).mean()  # = −log σ(f)


# -- LSGAN (Mao et al. 2017)
def lsgan_d(r, f, real_label=1.0, fake_label=0.0):
    return 0.5 * ((r - real_label) ** 2).mean() + 0.5 * ((f - fake_label) ** 2).mean()


def lsgan_g(f):
    return 0.5 * ((f - 1.0) ** 2).mean()


# -- WGAN-GP (Gulrajani et al. 2017); the penalty is added by gradient_penalty()
def wgan_d(r, f, real_label=1.0, fake_label=0.0):
    return f.mean() - r.mean()


def wgan_g(f):
    return -f.mean()


# -- WGAN with weight clipping (Arjovsky et al. 2017): the same critic and G losses as WGAN-GP; the
#    Lipschitz constraint is clip_weights() after every critic step instead of a penalty
CLIP_C = 0.01          # the paper's c


@torch.no_grad()
def clip_weights(module: torch.nn.Module, c: float = CLIP_C) -> None:
    """Every parameter of ``module`` clamped to [−c, c], in place (WGAN's weight clipping)."""
    for p in module.parameters():
        p.clamp_(-c, c)


def clip_after_step(optimizer: torch.optim.Optimizer, module: torch.nn.Module, c: float = CLIP_C):
    """Clip ``module``'s weights after every ``optimizer.step()`` — WGAN's critic update, exactly as
    in the paper's algorithm.  Returns the hook's handle."""
    return optimizer.register_step_post_hook(lambda opt, args, kwargs: clip_weights(module, c))


def _clip_before_forward(c: float):
    """A forward pre-hook that clips the module's weights when a step has moved one outside [−c, c]
    (so that every forward of D, whoever stepped its optimizer, sees a clipped critic).  It writes
    only when something is outside: an in-place write between two forwards of one loss would break
    the first forward's backward pass."""
    @torch.no_grad()
    def hook(module, args):
        if any(p.abs().max() > c for p in module.parameters() if p.numel()):
            clip_weights(module, c)
    return hook


# -- hinge (Lim & Ye 2017; Miyato et al. 2018)
def hinge_d(r, f, real_label=1.0, fake_label=0.0):
    return F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean()


hinge_g = wgan_g

D_LOSS = {"minimax": minimax_d, "ns": ns_d, "lsgan": lsgan_d, "wgan-gp": wgan_d, "wgan-clip": wgan_d,
          "hinge": hinge_d}
G_LOSS = {"minimax": minimax_g, "ns": ns_g, "lsgan": lsgan_g, "wgan-gp": wgan_g, "wgan-clip": wgan_g,
          "hinge": hinge_g}


def check(kind: str) -> str:
    if kind not in D_LOSS:
        raise ValueError(f"unknown loss {kind!r}; choose one of {', '.join(LOSSES)}")
    return kind


def d_loss(kind: str, r: torch.Tensor, f: torch.Tensor, real_label: float = 1.0,
           fake_label: float = 0.0) -> torch.Tensor:
    return D_LOSS[check(kind)](r, f, real_label, fake_label)


def g_loss(kind: str, f: torch.Tensor) -> torch.Tensor:
    return G_LOSS[check(kind)](f)


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor, *cond) -> torch.Tensor:
    """E[(‖∇_x̂ D(x̂)‖₂ − 1)²] on random interpolates x̂ = εx + (1 − ε)G(z)."""
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = D(x_hat, *cond)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def r1_penalty(D, real: torch.Tensor, *cond) -> tuple[torch.Tensor, torch.Tensor]:
    """R1 (Mescheder et al. 2018): E[‖∇_x D(x)‖²] on real data; returns (penalty, D(x) logits)."""
    x = real.detach().requires_grad_(True)
    out = D(x, *cond)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean(), out


def top_k_fraction(step: int, *, steps_per_epoch: int, gamma: float = 0.99, nu: float = 0.75) -> float:
    """Share of the fake batch that G learns from at ``step`` (top-k training, Sinha et al. 2020):
    all of it at first, then ×γ per epoch down to ν."""
    return max(nu, gamma ** (step / max(1, steps_per_epoch)))


def top_k(f: torch.Tensor, fraction: float) -> torch.Tensor:
    """The ⌈fraction·B⌉ fakes that D scores as most real; G's loss ignores the rest (whose
    gradients pull G towards the blurry in-between of modes)."""
    if fraction >= 1:
        return f
    k = max(1, math.ceil(fraction * f.shape[0]))
    return f.topk(k, dim=0).values


def d_prob(logits: torch.Tensor) -> torch.Tensor:
    """σ(output): for minimax and non-saturating D's probability that x is real.

    Logged as ``d_real``/``d_fake`` for every loss, but only those two losses' D outputs a probability:
    LSGAN's raw output is a regression towards its labels, a WGAN critic's or a hinge D's an unbounded
    score (σ of those is not a probability).  ``D_OUTPUT`` says what each loss's D outputs; the
    raw means are logged as ``score_real``/``score_fake``."""
    return torch.sigmoid(logits)


# What each loss's D outputs, and so what a plot of "D's outputs" must show:
#   "probability": σ(logit) ∈ (0, 1), at the equilibrium (a + b)/2 (½ with labels 1 / 0);
#   "regression":  the raw output, trained towards b (real) and a (fake) — LSGAN; at the equilibrium (a + b)/2;
#   "critic":      an unbounded score; E[D(x)] − E[D(G(z))] is the critic's estimate of the Wasserstein distance
#                  (up to the Lipschitz constant: with clipping, K·W₁ for an unknown K);
#   "margin":      an unbounded score, pushed above +1 on real and below −1 on fake data — hinge.
D_OUTPUT = {"minimax": "probability", "ns": "probability", "lsgan": "regression", "wgan-gp": "critic",
            "wgan-clip": "critic", "hinge": "margin"}


def score_logs(r: torch.Tensor, f: torch.Tensor) -> dict[str, float]:
    """The D outputs a step logs: σ means (``d_real``, ``d_fake``) and raw means (``score_real``,
    ``score_fake``)."""
    with torch.no_grad():
        r, f = r.detach().float(), f.detach().float()
        return {"d_real": d_prob(r).mean().item(), "d_fake": d_prob(f).mean().item(),
                "score_real": r.mean().item(), "score_fake": f.mean().item()}


class GANObjective:
    """The adversarial objective for any unconditional (or label-conditional) G and D.

    The loop calls ``d_loss(batch)`` and ``g_loss(batch)``; this object knows how
    to sample z, which loss is used, the gradient penalty and label smoothing.
    ``batch`` is a tensor of real data or a tuple (data, labels) for conditional nets.
    ``ema`` (a :class:`ganmodels.training.ema.EMA`, or anything with ``update(net)``) is
    updated with G after every step: the moving average that a run ships.
    """

    def __init__(self, G, D, *, loss: str = "ns", z_dim: int, gp_weight: float = 10.0,
                 real_label: float = 1.0, conditional: bool = False, n_classes: int = 10,
                 topk_nu: float = 1.0, steps_per_epoch: int = 1, r1_gamma: float = 0.0, ema=None):
        self.G, self.D, self.ema = G, D, ema
        self.r1_gamma = r1_gamma
        self.topk_nu, self.steps_per_epoch, self.g_steps = topk_nu, steps_per_epoch, 0
        self.loss = check(loss)
        self.z_dim = z_dim
        self.gp_weight = gp_weight
        self.real_label = real_label
        self.conditional = conditional
        self.n_classes = n_classes
        self.clip_c = CLIP_C if self.loss == "wgan-clip" else 0.0
        if self.clip_c:   # every forward of D sees weights in [−c, c], whoever steps D's optimizer
            D.register_forward_pre_hook(_clip_before_forward(self.clip_c))

    def _split(self, batch):
        if isinstance(batch, (tuple, list)):
            return batch[0], tuple(batch[1:]) if self.conditional else ()
        return batch, ()

    def sample_z(self, n: int, device) -> torch.Tensor:
        return torch.randn(n, self.z_dim, device=device)

    def d_loss(self, batch):
        # (1) Update D: maximise log D(x) + log(1 − D(G(z)))  (or the chosen loss's D term)
        x, cond = self._split(batch)
        z = self.sample_z(x.shape[0], x.device)
        with torch.no_grad():
            fake = self.G(z, *cond)
        logs = {}
        if self.r1_gamma > 0:   # R1: D's gradient on real data is penalised (flat around the data)
            r1, r = r1_penalty(self.D, x, *cond)
            logs["r1"] = r1.item()
        else:
            r = self.D(x, *cond)
        f = self.D(fake, *cond)
        loss = d_loss(self.loss, r, f, self.real_label)
        if self.r1_gamma > 0:
            loss = loss + 0.5 * self.r1_gamma * r1
        if self.loss == "wgan-gp":
            gp = gradient_penalty(self.D, x, fake, *cond)
            loss = loss + self.gp_weight * gp
            logs["gp"] = gp.item()
        logs.update(d_loss=loss.item(), **score_logs(r, f))
        return loss, logs

    def g_loss(self, batch):
        # (2) Update G: minimise log(1 − D(G(z))) (minimax) or −log D(G(z)) (non-saturating), ...
        x, cond = self._split(batch)
        if cond:  # conditional: fresh labels drawn from the data's label distribution
            cond = (cond[0][torch.randperm(len(cond[0]), device=cond[0].device)],)
        z = self.sample_z(x.shape[0], x.device)
        f = self.D(self.G(z, *cond), *cond)
        logs = {}
        if self.topk_nu < 1:   # top-k training: G learns only from its best fakes
            frac = top_k_fraction(self.g_steps, steps_per_epoch=self.steps_per_epoch, nu=self.topk_nu)
            loss = g_loss(self.loss, top_k(f, frac))
            logs["topk"] = frac
        else:
            loss = g_loss(self.loss, f)
        self.g_steps += 1
        return loss, {"g_loss": loss.item(), "d_fake_g": d_prob(f).mean().item(), **logs}

    def after_step(self):
        if self.ema is not None:      # the loop calls this after every G step
            self.ema.update(self.G.module if hasattr(self.G, "module") else self.G)
