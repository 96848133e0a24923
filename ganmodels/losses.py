"""The GAN objectives as plain functions of the discriminator's raw outputs (logits/scores).

Notation: r = D(x) on real data, f = D(G(z)) on generated data (both *before* any
sigmoid), σ the logistic function.  With D*(x) = σ(r):

| loss      | D minimises                                   | G minimises                |
|-----------|-----------------------------------------------|----------------------------|
| minimax   | −log σ(r) − log(1 − σ(f))                     | log(1 − σ(f))   (saturates)|
| ns        | same as minimax                               | −log σ(f)                  |
| lsgan     | ½(r − 1)² + ½ f²                              | ½(f − 1)²                  |
| wgan-gp   | f − r + λ (‖∇D(x̂)‖₂ − 1)²                     | −f                         |
| hinge     | max(0, 1 − r) + max(0, 1 + f)                 | −f                         |

All return the batch mean.  ``real_label`` < 1 gives one-sided label smoothing
(Salimans et al. 2016) for the log-likelihood losses and LSGAN.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOSSES = ("minimax", "ns", "lsgan", "wgan-gp", "hinge")
LOSS_NAMES = {
    "minimax": "minimax (saturating)",
    "ns": "non-saturating",
    "lsgan": "LSGAN (least squares)",
    "wgan-gp": "WGAN-GP",
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


# -- hinge (Lim & Ye 2017; Miyato et al. 2018)
def hinge_d(r, f, real_label=1.0, fake_label=0.0):
    return F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean()


hinge_g = wgan_g

D_LOSS = {"minimax": minimax_d, "ns": ns_d, "lsgan": lsgan_d, "wgan-gp": wgan_d, "hinge": hinge_d}
G_LOSS = {"minimax": minimax_g, "ns": ns_g, "lsgan": lsgan_g, "wgan-gp": wgan_g, "hinge": hinge_g}


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
    """What the logs and the UI show as "D(x)": σ(output), whatever the loss.

    For minimax, non-saturating and LSGAN it is D's probability that x is real; a WGAN critic's
    or a hinge D's score has no probability meaning, and σ only squashes it into (0, 1) so that
    every loss can be plotted on the same axis."""
    return torch.sigmoid(logits)


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
        logs.update(d_loss=loss.item(), d_real=d_prob(r).mean().item(),
                    d_fake=d_prob(f).mean().item())
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
