"""InfoGAN on MNIST (Chen et al. 2016): a GAN whose latent codes come to *mean* something, without labels.

The generator gets noise z (62 numbers, as in the paper) plus a latent code c:

* ``c_cat`` — a 10-way categorical code (one-hot), prior Cat(K = 10, p = 0.1);
* ``c1, c2`` — two continuous codes, prior Unif(−1, 1).

A plain GAN is free to ignore c.  InfoGAN adds a mutual-information term:

    min_{G,Q} max_D   V(D, G) − λ · L_I(G, Q)
    L_I(G, Q) = E_{c∼p(c), x∼G(z,c)}[log Q(c | x)] + H(c)   ≤   I(c; G(z, c))

L_I is the *variational lower bound* of the mutual information: Q(c | x) is a
head on the discriminator's body that tries to recover c from the image.  For
the categorical code log Q is a cross-entropy, for the continuous codes a
Gaussian log-likelihood (mean from Q; σ fixed to 1 by default, as in the
paper's code).  Both G and Q maximise L_I, so G must keep c *recoverable* from
its images — on MNIST, the easiest way to do that is to let the categorical
code select the digit and the continuous codes the slant and the width/thickness.

The paper's networks are used with narrower layers (``fc_g``, ``ngf``,
``ndf``, ``fc_d`` in the config) so that more steps fit in a CPU budget;
the shipped generator is the exponential moving average of G's weights.

The categorical code is *not* numbered like the digits: code 3 may draw nines.
``match_codes`` finds the best one-to-one mapping code → digit with the
Hungarian algorithm on the confusion matrix measured by the project's classifier.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ganmodels import weights as W
from ganmodels.errors import InputError
from ganmodels.losses import d_loss as adv_d_loss
from ganmodels.losses import d_prob
from ganmodels.losses import g_loss as adv_g_loss
from ganmodels.models.classifier import predict
from ganmodels.models.dcgan import LoadedGAN, init_weights

FAMILY = "infogan"
FILES = {"G": "infogan_G.safetensors", "D": "infogan_D.safetensors"}


@dataclass
class InfoGANConfig:
    z_dim: int = 62          # incompressible noise z (the paper's 62)
    n_cat: int = 10          # categorical code: K values
    n_cont: int = 2          # continuous codes c1, c2 ~ Unif(−1, 1)
    fc_g: int = 256          # G: first fully connected layer (paper: 1024)
    ngf: int = 32            # G: channels at 14×14 (paper: 64); 2·ngf at 7×7
    ndf: int = 32            # D: channels at 14×14 (paper: 64); 2·ndf at 7×7
    fc_d: int = 256          # D: fully connected layer shared by the D and Q heads (paper: 1024)
    fc_q: int = 128          # Q head hidden layer (paper: 128)
    learn_sigma: bool = False  # Q predicts log σ of the continuous codes (else σ = 1)

    @property
    def code_dim(self) -> int:
        return self.n_cat + self.n_cont


class Generator(nn.Module):
    """G(z, c): the paper's MNIST generator (fc → fc → 2 transposed convs), narrower."""

    def __init__(self, cfg: InfoGANConfig):
        super().__init__()
        self.cfg = cfg
        g = cfg.ngf
        self.fc = nn.Sequential(
            # (B, z_dim + n_cat + n_cont) = (B, 74)
            nn.Linear(cfg.z_dim + cfg.code_dim, cfg.fc_g, bias=False),
            nn.BatchNorm1d(cfg.fc_g), nn.ReLU(True),
            # (B, fc_g)
            nn.Linear(cfg.fc_g, 2 * g * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * g * 7 * 7), nn.ReLU(True),
            # (B, 2·ngf·7·7)
        )
        self.net = nn.Sequential(
            # (B, 2·ngf, 7, 7)
            nn.ConvTranspose2d(2 * g, g, 4, 2, 1, bias=False),
            nn.BatchNorm2d(g), nn.ReLU(True),
            # (B, ngf, 14, 14)
            nn.ConvTranspose2d(g, 1, 4, 2, 1),
            nn.Tanh(),
            # (B, 1, 28, 28) in [-1, 1]
        )
        self.apply(init_weights)

    def forward(self, z: torch.Tensor, c_cat: torch.Tensor, c_cont: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim); c_cat (B,) integer codes; c_cont (B, n_cont) → images (B, 1, 28, 28)."""
        onehot = F.one_hot(c_cat.long(), self.cfg.n_cat).to(z.dtype)     # (B, n_cat)
        h = self.fc(torch.cat([z, onehot, c_cont.to(z.dtype)], 1))      # (B, 2·ngf·49)
        return self.net(h.view(z.shape[0], 2 * self.cfg.ngf, 7, 7))      # (B, 1, 28, 28)


class Discriminator(nn.Module):
    """A shared body with two heads: D(x) (a logit: real or fake) and Q(c | x).

    ``forward(x)`` → (d_logit (B,), cat_logits (B, n_cat), cont_mu (B, n_cont), cont_logsigma (B, n_cont)).
    Q costs almost nothing extra: it reuses D's features (the paper's trick).
    """

    def __init__(self, cfg: InfoGANConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.ndf
        self.body = nn.Sequential(
            # (B, 1, 28, 28)
            nn.Conv2d(1, d, 4, 2, 1),
            nn.LeakyReLU(0.2, True),
            # (B, ndf, 14, 14)
            nn.Conv2d(d, 2 * d, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * d), nn.LeakyReLU(0.2, True),
            # (B, 2·ndf, 7, 7)
            nn.Flatten(),
            # no batchnorm here (unlike the paper): with separate real and fake batches it let
            # D normalise grey noise to look like digits, and G stayed noise for 500+ steps
            nn.Linear(2 * d * 49, cfg.fc_d),
            nn.LeakyReLU(0.2, True),
            # (B, fc_d): shared features
        )
        self.d_head = nn.Linear(cfg.fc_d, 1)                           # (B, 1)
        self.q_head = nn.Sequential(
            nn.Linear(cfg.fc_d, cfg.fc_q, bias=False),
            nn.BatchNorm1d(cfg.fc_q), nn.LeakyReLU(0.2, True),
            nn.Linear(cfg.fc_q, cfg.n_cat + 2 * cfg.n_cont),           # (B, n_cat + 2·n_cont)
        )
        self.apply(init_weights)

    def forward(self, x: torch.Tensor):
        h = self.body(x)                                               # (B, fc_d)
        q = self.q_head(h)
        k, m = self.cfg.n_cat, self.cfg.n_cont
        logsig = q[:, k + m:] if self.cfg.learn_sigma else torch.zeros_like(q[:, k + m:])
        return self.d_head(h).view(-1), q[:, :k], q[:, k:k + m], logsig

    def q(self, x: torch.Tensor):
        """Q(c | x) only: (cat_logits, cont_mu, cont_logsigma)."""
        return self.forward(x)[1:]


# ------------------------------------------------------------------ the objective


def sample_codes(n: int, cfg: InfoGANConfig, device="cpu", generator: torch.Generator | None = None):
    """c_cat ~ Cat(K, 1/K) (B,), c_cont ~ Unif(−1, 1) (B, n_cont)."""
    c_cat = torch.randint(0, cfg.n_cat, (n,), generator=generator)
    c_cont = torch.rand(n, cfg.n_cont, generator=generator) * 2 - 1
    return c_cat.to(device), c_cont.to(device)


def gaussian_nll(x: torch.Tensor, mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """−log N(x; μ, σ²) per element = log σ + ½ log 2π + (x − μ)² / (2σ²)."""
    return log_sigma + 0.5 * math.log(2 * math.pi) + 0.5 * ((x - mu) * torch.exp(-log_sigma)) ** 2


def mi_loss(cat_logits, cont_mu, cont_logsigma, c_cat, c_cont, lam_cat: float = 1.0,
            lam_cont: float = 1.0):
    """−L_I + const: the negative variational lower bound on I(c; G(z, c)), weighted.

    −E[log Q(c_cat | x)] is the cross-entropy; −E[log Q(c_cont | x)] the Gaussian NLL
    (summed over the continuous codes).  Returns (loss, cat_nll, cont_nll, q_acc).
    """
    cat_nll = F.cross_entropy(cat_logits, c_cat)
    cont_nll = gaussian_nll(c_cont, cont_mu, cont_logsigma).sum(1).mean()
    acc = (cat_logits.argmax(1) == c_cat).float().mean()
    return lam_cat * cat_nll + lam_cont * cont_nll, cat_nll, cont_nll, acc


def mi_lower_bound(cat_nll: float, cfg: InfoGANConfig) -> float:
    """L_I for the categorical code in nats: H(c) − CE = log K − CE  (≤ I(c_cat; x) ≤ log K)."""
    return math.log(cfg.n_cat) - cat_nll


class InfoGANObjective:
    """min_{G,Q} max_D V(D,G) − λ L_I(G,Q): the MI term lives here, not in the loop.

    By default the "D" optimizer holds D's body, the D head and the Q head, and the MI term
    is in both steps.  With ``q_in_g`` (the common PyTorch InfoGAN recipe) the Q head sits in
    G's optimizer and learns only in G's step, at G's learning rate; D's step is adversarial only.
    ``ema`` (a :class:`ganmodels.training.ema.EMA`, or None) is updated with G after every step.
    """

    def __init__(self, G: Generator, D: Discriminator, *, loss: str = "ns", lam_cat: float = 1.0,
                 lam_cont: float = 1.0, ema=None, real_label: float = 1.0,
                 q_in_g: bool = False):
        self.G, self.D, self.loss, self.q_in_g = G, D, loss, q_in_g
        self.cfg = G.cfg if not hasattr(G, "module") else G.module.cfg
        self.lam_cat, self.lam_cont, self.ema, self.real_label = lam_cat, lam_cont, ema, real_label

    def _fake(self, n, device):
        z = torch.randn(n, self.cfg.z_dim, device=device)
        c_cat, c_cont = sample_codes(n, self.cfg, device)
        return z, c_cat, c_cont

    def d_loss(self, x):
        # (1) Update D and Q: maximise log D(x) + log(1 − D(G(z,c)))  and  L_I (Q recovers c)
        z, c_cat, c_cont = self._fake(x.shape[0], x.device)
        with torch.no_grad():
            fake = self.G(z, c_cat, c_cont)
        r = self.D(x)[0]
        f, cat_logits, mu, logsig = self.D(fake)
        adv = adv_d_loss(self.loss, r, f, self.real_label)
        mi, cat_nll, cont_nll, acc = mi_loss(cat_logits, mu, logsig, c_cat, c_cont, self.lam_cat, self.lam_cont)
        loss = adv if self.q_in_g else adv + mi
        return loss, {"d_loss": adv.item(), "d_real": d_prob(r).mean().item(),
                      "d_fake": d_prob(f).mean().item(), "q_acc": acc.item(),
                      "cat_nll": cat_nll.item(), "cont_nll": cont_nll.item()}

    def g_loss(self, x):
        # (2) Update G: minimise −log D(G(z,c)) − λ L_I  (G keeps c recoverable by Q)
        z, c_cat, c_cont = self._fake(x.shape[0], x.device)
        f, cat_logits, mu, logsig = self.D(self.G(z, c_cat, c_cont))
        adv = adv_g_loss(self.loss, f)
        mi, cat_nll, cont_nll, acc = mi_loss(cat_logits, mu, logsig, c_cat, c_cont, self.lam_cat, self.lam_cont)
        return adv + mi, {"g_loss": adv.item(), "mi_lb_cat": mi_lower_bound(cat_nll.item(), self.cfg),
                          "q_acc_g": acc.item()}

    def after_step(self):
        if self.ema is not None:      # the loop calls this after every G step
            self.ema.update(self.G.module if hasattr(self.G, "module") else self.G)


# ------------------------------------------------------------------ the loaded model


class InfoGAN(LoadedGAN):
    """The loaded model: G (EMA, eval mode), D/Q when present, and the code → digit mapping."""

    family, files, networks = FAMILY, FILES, (Generator, Discriminator, InfoGANConfig)

    def __init__(self, G: Generator, D: Discriminator | None, cfg: InfoGANConfig, device="cpu"):
        super().__init__(G, D, cfg, device)
        self.mapping: np.ndarray | None = None   # code k → digit (set by measure_mapping)
        self.match: dict | None = None

    @torch.no_grad()
    def generate(self, z: torch.Tensor, c_cat, c_cont) -> torch.Tensor:
        """z (N, z_dim), c_cat (N,) ints, c_cont (N, n_cont) → images (N, 1, 28, 28) in [-1, 1] on the CPU."""
        z = z.to(self.device).float()
        c_cat = torch.as_tensor(c_cat, dtype=torch.long).to(self.device)
        c_cont = torch.as_tensor(c_cont, dtype=torch.float32).to(self.device)
        return self.G(z, c_cat, c_cont).cpu()

    def measure_mapping(self, classifier, n: int = 2000, seed: int = 0) -> dict:
        """Sample n images with every code equally often, classify them, Hungarian-match codes → digits."""
        imgs, c_cat, _ = sample_balanced(self, n, seed)
        probs, _ = predict(classifier, imgs)
        self.match = match_codes(c_cat, probs.argmax(1), self.cfg.n_cat, probs.shape[1])
        self.mapping = np.asarray(self.match["mapping"])
        return self.match


def sample_balanced(model: InfoGAN, n: int, seed: int):
    """n samples with codes 0..K−1 in turn, z ~ N(0, I), c_cont ~ Unif(−1, 1) → (uint8, c_cat, c_cont)."""
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, model.cfg.z_dim, generator=g)
    c_cat = torch.arange(n) % model.cfg.n_cat
    c_cont = torch.rand(n, model.cfg.n_cont, generator=g) * 2 - 1
    return model.generate_uint8(z, c_cat, c_cont), c_cat.numpy(), c_cont.numpy()


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None,
         with_D: bool = True) -> InfoGAN:
    return InfoGAN.from_store(store or W.WeightStore(weights_dir), device, with_D=with_D)


save = InfoGAN.save


@torch.no_grad()
def sample_uint8(model: InfoGAN, n: int = 64, seed: int = 0, cat=None, c1=None, c2=None) -> np.ndarray:
    """n samples; codes not given are drawn from their priors (cat uniform, c ~ Unif(−1, 1)).

    ``cat`` is the *code* k (0..K−1), not a digit.  c1/c2 may leave [−1, 1] (the paper
    shows the meaning extrapolates); outside [−5, 5] is refused.
    """
    K = model.cfg.n_cat
    if cat is not None and not (0 <= int(cat) < K and float(cat) == int(cat)):
        raise InputError(f"--cat must be a whole number from 0 to {K - 1} (a code, not a digit), got {cat}")
    for name, v in (("--c1", c1), ("--c2", c2)):
        if v is not None and not (math.isfinite(v) and -5 <= v <= 5):
            raise InputError(f"{name} must be a number between -5 and 5 (trained on -1…1), got {v}")
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, model.cfg.z_dim, generator=g)
    c_cat, c_cont = sample_codes(n, model.cfg, generator=g)
    if cat is not None:
        c_cat[:] = int(cat)
    for j, v in enumerate((c1, c2)[:model.cfg.n_cont]):
        if v is not None:
            c_cont[:, j] = float(v)
    return model.generate_uint8(z, c_cat, c_cont)


# ------------------------------------------------------------------ which code draws which digit


def match_codes(codes, preds, n_codes: int = 10, n_classes: int = 10) -> dict:
    """Best one-to-one mapping of codes to classes (Hungarian algorithm on the confusion matrix).

    codes, preds: int arrays (N,).  Returns {"mapping": [class of code k], "accuracy": share of
    samples whose predicted class is their code's class, "confusion": (n_codes, n_classes) counts,
    "per_code": accuracy per code}.
    """
    from scipy.optimize import linear_sum_assignment

    codes, preds = np.asarray(codes, dtype=np.int64), np.asarray(preds, dtype=np.int64)
    conf = np.zeros((n_codes, n_classes), dtype=np.int64)
    np.add.at(conf, (codes, preds), 1)
    rows, cols = linear_sum_assignment(-conf)          # maximise the matched counts
    mapping = np.full(n_codes, -1, dtype=np.int64)
    mapping[rows] = cols
    per_code = [float(conf[k, mapping[k]] / max(1, conf[k].sum())) if mapping[k] >= 0 else 0.0
                for k in range(n_codes)]
    return {"mapping": mapping.tolist(), "accuracy": float(conf[rows, cols].sum() / max(1, len(codes))),
            "confusion": conf.tolist(), "per_code": per_code}
