"""Semantic inpainting by optimising the generator's input (Yeh et al. 2016).

With G and D fixed (trained on digits), a digit ``y`` with a binary mask ``M``
(1 = known pixel, 0 = missing) is completed by searching the latent space:

    ẑ = argmin_z  L_c(z) + λ·L_p(z)
    L_c(z) = ‖W ⊙ (G(z) − y)‖₁          contextual loss: match the known pixels
    L_p(z) = log(1 − D(G(z)))            perceptual loss: look real to D
    x̂      = blend(M ⊙ y + (1 − M) ⊙ G(ẑ))

``W`` is the paper's importance weighting: a known pixel counts in proportion to
the share of missing pixels in its ``window``×``window`` neighbourhood, so the
pixels next to the hole matter most and, in the paper, far-away ones not at all
(Yeh et al. use 0 there; here ``weight_floor`` = ``WEIGHT_FLOOR`` = 0.2 by default, so
every known pixel counts at least 0.2 and the whole kept digit, not only the hole's rim,
pulls G(z) towards it).

As in the paper: many restarts optimised together as one batch (Adam on z), z
clipped after every step, the best restart chosen by its
total loss, and Poisson blending of the fill into the known pixels (or the plain
masked composite).  Before the descent the ``restarts`` starting points are the
best (by contextual loss) of ``pool`` random draws, a cheap forward-only search.
The clip differs from the paper's: Yeh et al. drew z from a uniform prior on [-1, 1]
and clipped to that range; our prior is N(0, I), which has no range, so each
coordinate is clipped to ±``Z_CLAMP`` = ±2.5 (98.8 % of N(0, 1)) to keep z where G
saw its training inputs.

``inpaint(...)`` is a generator in the style of StyleGAN's ``projector.project``:
it *yields* :class:`InpaintState` snapshots (the current best G(z) and the loss
curves) so that a UI can show the optimisation live, and *returns* an
:class:`InpaintResult`.  ``complete(...)`` runs it to the end.  It works on a
batch of N digits at once (N × restarts latent vectors in one batch); the
restarts of one digit never interact with another digit's.

Images are float in [-1, 1] (G's Tanh range) or uint8 0..255 (white digit on
black, as MNIST); masks are 1 = known.  This module never imports gradio.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Generator, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from ganmodels.errors import InputError

# ----------------------------------------------------------------- defaults

STEPS = 30          # Adam steps on z
LAM = 0.1           # λ, weight of the perceptual loss
RESTARTS = 32       # z's optimised together for one image
LR = 0.08           # Adam learning rate on z
POOL = 1024         # random draws among which the starting z's are chosen
WINDOW = 7          # importance-weighting window (Yeh et al.: 7)
WEIGHT_FLOOR = 0.2  # weight of a known pixel with no missing neighbour (paper: 0)
Z_CLAMP = 2.5       # z is kept in [-Z_CLAMP, Z_CLAMP] per coordinate (N(0,1): 98.8 %)
FRAME_EVERY = 5     # yield a snapshot every this many steps
POOL_CHUNK = 256    # random draws scored at a time (a "pool" snapshot follows the first chunk)
TAU = 2.0           # class guidance: weight of −log p(the completion's digit | known pixels) in the choice
GUIDE_MIN = 0.02    # class guidance: a digit at least this likely from the known pixels gets ≥ 1 restart
GUIDE_SHORTLIST = 4  # class guidance: the restarts are shared out among the best R × this of the pool
BLENDS = ("poisson", "composite")

MASK_KINDS = ("center", "left", "right", "top", "bottom", "random")
MASK_LABELS = {"center": "centre 14×14 square", "left": "left half", "right": "right half",
               "top": "top half", "bottom": "bottom half", "random": "random 80 % of pixels"}


class InpaintError(InputError):
    """Bad input to :func:`inpaint` or :func:`mnist_like` (the message says what to do)."""


@dataclass
class InpaintState:
    """One snapshot of the optimisation (yielded every ``frame_every`` steps)."""
    step: int
    steps: int
    best: torch.Tensor          # (N, C, H, W) G(z) of the currently best restart, in [-1, 1]
    composite: torch.Tensor     # (N, C, H, W) M ⊙ y + (1 − M) ⊙ best
    history: dict[str, list]    # "contextual"/"perceptual"/"total" (and "class" when guided): per step a list
                                # of N floats (best restart)
    elapsed: float              # seconds since the call started
    phase: str = "descent"      # "pool": still choosing starting points (best random draw so far shown)
    tried: int = 0              # pool phase: random draws scored so far
    pool: int = 0               # pool phase: draws in all


@dataclass
class InpaintResult:
    image: torch.Tensor         # (N, C, H, W) the final completion x̂ (blended)
    composite: torch.Tensor     # (N, C, H, W) plain composite M ⊙ y + (1 − M) ⊙ G(ẑ)
    generated: torch.Tensor     # (N, C, H, W) G(ẑ) of the best restart
    candidates: torch.Tensor    # (N, R, C, H, W) G(z) of every restart, best first
    losses: dict[str, np.ndarray]  # "contextual"/"perceptual"/"total" (guided: "class", "score"): (N, R), best first
    z: torch.Tensor             # (N, R, z_dim), best first
    history: dict[str, list]
    mask: torch.Tensor          # (N, 1, H, W) 1 = known
    weights: torch.Tensor       # (N, 1, H, W) importance weights W
    blend: str
    settings: dict = field(default_factory=dict)
    elapsed: float = 0.0
    prior: np.ndarray | None = None    # guided: (N, 10) p(digit | known pixels) from the masked reader
    digits: np.ndarray | None = None   # guided: (N, R) the digit the reader sees in each completion, best first


# ----------------------------------------------------------------- inputs


def _as_n1hw(x: torch.Tensor, what: str, channels: tuple[int, ...] = (1,)) -> torch.Tensor:
    """(H,W) → (1,1,H,W); (N,H,W) → (N,1,H,W); (N,C,H,W) as it is for C in ``channels``;
    any other shape is refused."""
    if x.ndim == 2:
        x = x[None, None]
    elif x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in channels:
        shapes = "(N,1,H,W)" if channels == (1,) else "(N,C,H,W) with C = " + " or ".join(map(str, channels))
        raise InpaintError(f"{what} (H,W), (N,H,W) or {shapes}; got shape {tuple(x.shape)}")
    return x


def as_images(image) -> torch.Tensor:
    """uint8 0..255 or float [-1, 1]; (H,W), (N,H,W), (N,1,H,W) grey or (N,3,H,W) colour
    → float (N,C,H,W) in [-1, 1]."""
    if isinstance(image, np.ndarray):
        if image.dtype == np.uint8:
            x = torch.from_numpy(image.astype(np.float32) / 127.5 - 1.0)
        else:
            x = torch.from_numpy(np.asarray(image, dtype=np.float32))
    elif isinstance(image, torch.Tensor):
        x = image.detach().float().cpu()
        if image.dtype == torch.uint8:
            x = x / 127.5 - 1.0
    else:
        raise InpaintError(f"image must be a numpy array or a tensor, got {type(image).__name__}")
    x = _as_n1hw(x, "image must be", channels=(1, 3))
    if not torch.isfinite(x).all():
        raise InpaintError("image holds NaN or infinite values")
    return x.clamp(-1, 1)


def as_masks(mask, n: int) -> torch.Tensor:
    """Known-pixel mask (1 = known; bool, 0/1 or uint8 255 = known) → float (N,1,H,W) of 0/1."""
    m = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask.detach().cpu())
    m = m.float()
    if m.max() > 1:
        m = m / 255.0
    m = _as_n1hw((m > 0.5).float(), "mask must be")
    if m.shape[0] == 1 and n > 1:
        m = m.expand(n, -1, -1, -1).contiguous()
    return m


def make_mask(kind: str, size: int = 28, *, seed: int = 0, hole: int | None = None,
              missing: float = 0.8) -> np.ndarray:
    """A preset known-pixel mask (float (size,size), 1 = known).

    center: a hole×hole square in the middle (default size/2: 14×14 on 28×28);
    left/right/top/bottom: that half is missing; random: ``missing`` of the pixels are missing.
    """
    m = np.ones((size, size), np.float32)
    h = size // 2
    if kind == "center":
        s = hole or size // 2
        a = (size - s) // 2
        m[a:a + s, a:a + s] = 0
    elif kind == "left":
        m[:, :h] = 0
    elif kind == "right":
        m[:, h:] = 0
    elif kind == "top":
        m[:h] = 0
    elif kind == "bottom":
        m[h:] = 0
    elif kind == "random":
        rng = np.random.default_rng(seed)
        m[rng.random((size, size)) < missing] = 0
    else:
        raise InpaintError(f"unknown mask kind {kind!r}; choose one of {', '.join(MASK_KINDS)}")
    return m


def importance_weights(mask: torch.Tensor, window: int = WINDOW, floor: float = WEIGHT_FLOOR) -> torch.Tensor:
    """Yeh et al. eq. (3): W_i = Σ_{j∈N(i)} (1 − M_j) / |N(i)| for known i, 0 for missing i.

    N(i) is the window×window neighbourhood (inside the image); ``floor`` lifts the
    weight of known pixels far from the hole to at least that value (paper: 0).
    """
    missing = 1.0 - mask
    k = torch.ones(1, 1, window, window, dtype=mask.dtype)
    pad = window // 2
    s = F.conv2d(missing, k, padding=pad)                         # missing pixels in the window
    cnt = F.conv2d(torch.ones_like(mask), k, padding=pad)         # |N(i)| (fewer at the border)
    w = s / cnt
    w = floor + (1.0 - floor) * w
    return w * mask


# ----------------------------------------------------------------- blending


def poisson_blend(fill: np.ndarray, target: np.ndarray, known: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Poisson blending (Pérez et al. 2003), as Yeh et al. use it.

    Solves for the missing pixels x:  Δx = Δfill  inside the hole, with x = target
    on the known pixels (Dirichlet boundary); image edges are free (Neumann).  The
    known pixels are returned unchanged; the fill keeps its gradients and takes the
    known pixels' brightness at the hole's edge.  ``eps`` ties x weakly to the fill
    so a hole with no known neighbour stays solvable.  Arrays (H,W) float.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    H, W = fill.shape
    hole = known < 0.5
    n = int(hole.sum())
    if n == 0:
        return target.astype(np.float64).copy()
    idx = -np.ones((H, W), np.int64)
    idx[hole] = np.arange(n)
    ys, xs = np.nonzero(hole)
    rows, cols, vals = [np.arange(n)], [np.arange(n)], [np.full(n, eps)]
    diag = np.full(n, eps)
    b = eps * fill[ys, xs].astype(np.float64)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        qy, qx = ys + dy, xs + dx
        ok = (qy >= 0) & (qy < H) & (qx >= 0) & (qx < W)
        p, qy, qx = np.nonzero(ok)[0], qy[ok], qx[ok]
        diag[p] += 1.0
        b[p] += fill[ys[p], xs[p]] - fill[qy, qx]                 # guidance: the fill's gradient
        q_hole = hole[qy, qx]
        rows.append(p[q_hole]); cols.append(idx[qy[q_hole], qx[q_hole]]); vals.append(-np.ones(q_hole.sum()))
        kp = ~q_hole
        b[p[kp]] += target[qy[kp], qx[kp]]                        # known neighbour: boundary value
    rows[0], vals[0] = np.arange(n), diag
    A = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)).tocsr()
    x = spsolve(A, b)
    out = target.astype(np.float64).copy()
    out[hole] = np.clip(x, -1.0, 1.0)
    return out


def blend_images(fill: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """fill, target (N,C,H,W), mask (N,1,H,W) → the completion.  "composite": M ⊙ y + (1 − M) ⊙ fill;
    "poisson": see above, each colour channel on its own."""
    comp = mask * target + (1 - mask) * fill
    if how == "composite":
        return comp
    if how != "poisson":
        raise InpaintError(f"blend must be one of {', '.join(BLENDS)}, got {how!r}")
    out = [[poisson_blend(fc.numpy(), tc.numpy(), m[0].numpy()) for fc, tc in zip(f, t)]
           for f, t, m in zip(fill.cpu(), target.cpu(), mask.cpu())]
    return torch.from_numpy(np.asarray(out)).float()


# ----------------------------------------------------------------- the optimisation


def _losses(G, D, z, y, w, lam):
    """Per-restart losses. z (B, d); y (B,C,H,W), w (B,1,H,W) → x, contextual, perceptual, total (each (B,))."""
    x = G(z)                                                     # (B, C, H, W)
    contextual = (w * (x - y)).abs().flatten(1).sum(1)           # ‖W ⊙ (G(z) − y)‖₁
    if D is not None and lam > 0:
        perceptual = -F.softplus(D(x))                           # log(1 − σ(logit)) = log(1 − D(G(z)))
    else:
        perceptual = torch.zeros_like(contextual)
    return x, contextual, perceptual, contextual + lam * perceptual


def fold_batchnorm(net: torch.nn.Module) -> torch.nn.Module:
    """An eval-mode copy of ``net`` with every BatchNorm folded into the layer before it.

    In eval mode BN is a fixed affine map, so (conv → BN) is exactly one conv with
    rescaled weights and a bias: the same function, less work per step.
    """
    net = copy.deepcopy(net).eval()
    for mod in net.modules():
        if not isinstance(mod, torch.nn.Sequential):
            continue
        for i in range(len(mod) - 1):
            a, b = mod[i], mod[i + 1]
            if not isinstance(b, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)) or not b.track_running_stats:
                continue
            if isinstance(a, torch.nn.Linear):
                mod[i] = fuse_linear_bn_eval(a, b)
            elif isinstance(a, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                mod[i] = fuse_conv_bn_eval(a, b, transpose=isinstance(a, torch.nn.ConvTranspose2d))
            else:
                continue
            mod[i + 1] = torch.nn.Identity()
    return net.requires_grad_(False)


def _z_dim(G, z_dim):
    if z_dim is not None:
        return int(z_dim)
    cfg = getattr(G, "cfg", None)
    if cfg is not None and hasattr(cfg, "z_dim"):
        return int(cfg.z_dim)
    raise InpaintError("pass z_dim= (G has no cfg.z_dim)")


def inpaint(G, D, image, mask, *, steps: int = STEPS, lam: float = LAM, restarts: int = RESTARTS,
            seed: int = 0, device="cpu", lr: float = LR, pool: int = POOL, window: int = WINDOW,
            weight_floor: float = WEIGHT_FLOOR, z_clamp: float = Z_CLAMP, blend: str = "poisson",
            frame_every: int = FRAME_EVERY, z_dim: int | None = None, init_z=None,
            pause: Callable[[], None] | None = None, guide=None, tau: float = TAU
            ) -> Generator[InpaintState, None, InpaintResult]:
    """Complete the missing pixels of ``image`` (see the module docstring).

    image: (H,W) / (N,H,W) / (N,C,H,W) with C = 1 or 3, uint8 or float in [-1,1]; mask: (H,W) / (N,H,W) / (N,1,H,W), 1 = known.
    Yields :class:`InpaintState` (step 0 right after the start, then every ``frame_every``
    steps and at the end); returns :class:`InpaintResult` (``StopIteration.value``).
    ``init_z`` (N, restarts, z_dim): start the descent from these z's instead of the best
    ``restarts`` of ``pool`` random draws (a warm start; no pool phase).
    Deterministic for a given ``seed``.  G and D are not changed: the work is done on
    eval-mode copies with batchnorm folded in (:func:`fold_batchnorm`).
    ``pause()``, when given, is called before every descent step: a server passes a function
    that waits while interactive requests are running, so that a long search never holds them up.

    ``guide`` (digits only): a masked reader (:mod:`ganmodels.models.masked_reader`) that gives
    p(digit | known pixels).  Then (1) the restarts are shared among the likely digits: of the pool's
    best R·GUIDE_SHORTLIST draws by contextual loss, each digit c gets about R·p(c | known) restarts
    (at least one if p ≥ GUIDE_MIN), taking the draws that the reader reads as c, best fitting first;
    (2) the restart shown and returned is the one with the lowest
    total + τ·(−log Σ_c q(c | completion)·p(c | known)), q being the reader's reading of the completed
    digit.  The descent itself (the gradient) is Yeh et al.'s, unchanged.
    """
    t0 = time.perf_counter()
    steps, restarts, pool = int(steps), int(restarts), int(pool)
    if steps < 0 or restarts < 1:
        raise InpaintError("steps must be ≥ 0 and restarts ≥ 1")
    if blend not in BLENDS:
        raise InpaintError(f"blend must be one of {', '.join(BLENDS)}, got {blend!r}")
    if not (math.isfinite(lam) and lam >= 0):
        raise InpaintError(f"λ must be a number ≥ 0, got {lam!r}")
    dev = torch.device(device)
    y = as_images(image)
    m = as_masks(mask, len(y))
    if m.shape[0] != y.shape[0] or m.shape[2:] != y.shape[2:]:
        raise InpaintError(f"mask shape {tuple(m.shape)} does not match image shape {tuple(y.shape)}")
    N, R, d = len(y), restarts, _z_dim(G, z_dim)
    if guide is not None:
        if y.shape[1] != 1:
            raise InpaintError("class guidance reads digits: one channel only")
        if not (math.isfinite(tau) and tau >= 0):
            raise InpaintError(f"τ must be a number ≥ 0, got {tau!r}")
        # p(c | known) from the reader for this mask (a preset's specialist when there is one); the digit of a
        # *completed* image — every pixel known — from the general reader, which was trained on unmasked digits too
        # (a specialist has only ever seen its own mask)
        for_mask = guide.for_mask(m) if hasattr(guide, "for_mask") else guide
        general = getattr(guide, "general", for_mask)
        reader = fold_batchnorm(for_mask).to(dev)
        guide = reader if general is for_mask else fold_batchnorm(general).to(dev)     # fold each network once
        with torch.no_grad():
            prior = F.softmax(reader(y.to(dev), m.to(dev)).float(), 1).cpu()       # (N, 10) p(c | known)
    w = importance_weights(m, window, weight_floor)
    y_, w_ = y.to(dev), w.to(dev)
    yb = y_.repeat_interleave(R, 0)                               # (N·R, C, H, W)
    wb = w_.repeat_interleave(R, 0)
    G = fold_batchnorm(G)                                         # eval-mode copies: G, D stay as they are
    D = fold_batchnorm(D) if D is not None and lam > 0 else None
    gen = torch.Generator().manual_seed(int(seed))
    # starting points: the `restarts` best of `pool` draws from the prior, by contextual loss
    P = max(pool, R) if init_z is None else R
    if init_z is None:
        cand = torch.randn(N, P, d, generator=gen).clamp_(-z_clamp, z_clamp)
    else:
        cand = torch.as_tensor(init_z, dtype=torch.float32).detach().cpu().clone()
        if cand.shape != (N, R, d):
            raise InpaintError(f"init_z must have shape {(N, R, d)} (images, restarts, z_dim), got {tuple(cand.shape)}")
        cand.clamp_(-z_clamp, z_clamp)
    if P > R:
        scores = torch.empty(N, P)
        best_x = torch.zeros_like(y)
        for a in range(0, P, POOL_CHUNK):                             # chunks, so a first frame comes early
            with torch.no_grad():
                for i in range(N):
                    x = G(cand[i, a:a + POOL_CHUNK].to(dev))
                    scores[i, a:a + POOL_CHUNK] = (w_[i] * (x - y_[i])).abs().flatten(1).sum(1).cpu()
                    j = int(scores[i, :a + POOL_CHUNK].argmin())
                    if a <= j < a + POOL_CHUNK:
                        best_x[i] = x[j - a].cpu()
            if a == 0 and P > POOL_CHUNK:
                yield InpaintState(0, steps, best_x.clone(), m * y + (1 - m) * best_x, {k: [] for k in
                                   ("contextual", "perceptual", "total")}, time.perf_counter() - t0,
                                   phase="pool", tried=min(P, a + POOL_CHUNK), pool=P)
        pick = scores.argsort(1)[:, :R]                               # (N, R)
        if guide is not None:
            pick = _guided_pick(G, guide, cand, scores, prior, R, dev)
        cand = torch.gather(cand, 1, pick[..., None].expand(-1, -1, d))
    z = cand.reshape(N * R, d).to(dev).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    history: dict[str, list] = {"contextual": [], "perceptual": [], "total": []}
    if guide is not None:
        history["class"] = []
        mb = m.to(dev).repeat_interleave(R, 0)
        ones = torch.ones_like(mb)
        prior_b = prior.to(dev)[:, None, :]                   # (N, 1, 10)

    def class_term(x):
        """(N, R): −log Σ_c q(c | completion)·p(c | known), and the digit the reader sees (N, R)."""
        with torch.no_grad():
            q = F.softmax(guide(mb * yb + (1 - mb) * x.detach(), ones).float(), 1).view(N, R, 10)
            return -(q * prior_b).sum(-1).clamp_min(1e-8).log().cpu(), q.argmax(-1).cpu()

    cache: dict = {}

    def choose(x, tot, fresh: bool = True):
        """(N, R) the score the restarts are ranked by, the class term (or None) and the digits (or None).
        The reader runs when ``fresh`` (the shown frames and the end); between them the last reading is
        used, so that guidance costs a few reader passes per search, not one per step."""
        tot_nr = tot.detach().view(N, R).cpu()
        if guide is None:
            return tot_nr, None, None
        if fresh or not cache:
            cache["ct"], cache["digits"] = class_term(x)
        return tot_nr + tau * cache["ct"], cache["ct"], cache["digits"]

    def snapshot(step, x, c, p, tot):
        score, ct, _ = choose(x, tot, fresh=step % frame_every == 0 or step == steps)
        best = score.argmin(1)                                # (N,)
        ar = torch.arange(N)
        flat = (ar * R + best).to(dev)
        history["contextual"].append(c.detach().view(N, R).cpu()[ar, best].tolist())
        history["perceptual"].append(p.detach().view(N, R).cpu()[ar, best].tolist())
        history["total"].append(tot.detach().view(N, R).cpu()[ar, best].tolist())
        if ct is not None:
            history["class"].append(ct[ar, best].tolist())
        if step % frame_every == 0 or step == steps:
            bx = x.detach()[flat].cpu()
            return InpaintState(step, steps, bx, m * y + (1 - m) * bx,
                                history, time.perf_counter() - t0)
        return None

    for step in range(steps + 1):
        x, c, p, tot = _losses(G, D, z, yb, wb, lam)
        st = snapshot(step, x, c, p, tot)
        if st is not None:
            yield st
        if step == steps:
            break
        if pause is not None:
            pause()                                           # e.g. interactive requests first
        opt.zero_grad(set_to_none=True)
        tot.sum().backward()                                  # restarts are independent: sum
        opt.step()
        with torch.no_grad():
            z.clamp_(-z_clamp, z_clamp)                       # ±Z_CLAMP per coordinate

    with torch.no_grad():
        score, ct, digits = choose(x, tot)
        c, p, tot = c.detach().view(N, R).cpu(), p.detach().view(N, R).cpu(), tot.detach().view(N, R).cpu()
        order = score.argsort(1)                              # best first
        xs = x.detach().cpu().view(N, R, *y.shape[1:])
        g = lambda a: torch.gather(a, 1, order)               # noqa: E731
        losses = {"contextual": g(c).numpy(), "perceptual": g(p).numpy(), "total": g(tot).numpy()}
        if ct is not None:
            losses.update({"class": g(ct).numpy(), "score": g(score).numpy()})
        cands = torch.stack([xs[i, order[i]] for i in range(N)])
        zs = torch.stack([z.detach().cpu().view(N, R, d)[i, order[i]] for i in range(N)])
        fill = cands[:, 0]
        result = InpaintResult(
            image=blend_images(fill, y, m, blend), composite=m * y + (1 - m) * fill,
            generated=fill, candidates=cands,
            losses=losses, z=zs, history=history, mask=m, weights=w, blend=blend,
            settings=dict(steps=steps, lam=lam, restarts=R, seed=int(seed), lr=lr, pool=max(pool, R),
                          window=window, weight_floor=weight_floor, z_clamp=z_clamp,
                          guided=guide is not None, tau=tau if guide is not None else None),
            elapsed=time.perf_counter() - t0,
            prior=None if guide is None else prior.numpy().astype(np.float64),
            digits=None if digits is None else g(digits).numpy())
    return result


@torch.no_grad()
def _guided_pick(G, guide, cand, scores, prior, R: int, dev) -> torch.Tensor:
    """(N, R) pool indices: the restarts shared among the digits the known pixels make likely.

    Of each image's best R·GUIDE_SHORTLIST draws by contextual loss, the reader reads the digit of
    G(z); digit c gets round-down R·p(c | known) restarts (≥ 1 when p ≥ GUIDE_MIN), likeliest digit
    first, best-fitting draws first; places a digit cannot fill go to the best remaining draws."""
    N, P = scores.shape
    K = min(P, R * GUIDE_SHORTLIST)
    short = scores.argsort(1)[:, :K]                               # (N, K) best fit first
    picks = []
    for i in range(N):
        xk = G(torch.gather(cand[i], 0, short[i][:, None].expand(-1, cand.shape[-1])).to(dev))
        digit = guide(xk, torch.ones_like(xk)).argmax(1).cpu()      # (K,)
        p = prior[i]
        quota = torch.floor(p * R).long()
        quota[(p >= GUIDE_MIN) & (quota == 0)] = 1
        chosen: list[int] = []
        for c in p.argsort(descending=True).tolist():
            if quota[c] == 0 or len(chosen) >= R:
                break
            chosen += (digit == c).nonzero().flatten()[:min(int(quota[c]), R - len(chosen))].tolist()
        taken = set(chosen)
        chosen += [k for k in range(K) if k not in taken][:R - len(chosen)]
        picks.append(short[i][torch.tensor(sorted(chosen))])
    return torch.stack(picks)


def complete(G, D, image, mask, **kw) -> InpaintResult:
    """Run :func:`inpaint` to the end and return its result (no snapshots)."""
    it = inpaint(G, D, image, mask, frame_every=10**9, **kw)
    return drain(it)


def drain(it: Iterator) -> InpaintResult:
    """Exhaust an ``inpaint`` generator; return what it returned."""
    while True:
        try:
            next(it)
        except StopIteration as e:
            return e.value


def distinct(candidates: torch.Tensor, mask: torch.Tensor, k: int = 4, min_diff: float = 0.12) -> list[int]:
    """Indices of up to ``k`` completions that differ in the hole (mean |Δ| > min_diff), best first.

    candidates (R,C,H,W) sorted best first; mask (1,H,W) 1 = known.  If fewer than k
    differ enough, the next best ones fill up the list.
    """
    hole = (mask < 0.5).float()
    area = hole.sum().clamp(min=1) * candidates.shape[1]
    picked: list[int] = []
    for i in range(len(candidates)):
        if all(float(((candidates[i] - candidates[j]).abs() * hole).sum() / area) > min_diff for j in picked):
            picked.append(i)
        if len(picked) == k:
            return picked
    for i in range(len(candidates)):
        if len(picked) == k:
            break
        if i not in picked:
            picked.append(i)
    return picked


# ----------------------------------------------------------------- baselines


def biharmonic(image_u8: np.ndarray, known: np.ndarray) -> np.ndarray:
    """skimage's biharmonic inpainting of the missing pixels: uint8 (H,W) or (H,W,3) → the same."""
    from skimage.restoration import inpaint_biharmonic

    miss = known < 0.5
    if not miss.any():
        return image_u8.copy()
    if miss.all():
        return np.zeros_like(image_u8)
    out = inpaint_biharmonic(image_u8.astype(np.float64) / 255.0, miss,
                             channel_axis=-1 if image_u8.ndim == 3 else None)
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


def mean_fill(image_u8: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill the missing pixels with the mean of the known ones (the simplest baseline; per colour
    channel for (H,W,3))."""
    kn = known > 0.5
    out = image_u8.copy()
    if kn.any():
        out[~kn] = np.round(image_u8[kn].astype(np.float64).mean(0)).astype(np.uint8)
    else:
        out[~kn] = 0
    return out


# ----------------------------------------------------------------- images from outside


def mnist_like(image, *, return_transform: bool = False):
    """Convert any picture of a digit like MNIST: grey, ink white on black, the ink's
    bounding box scaled to fit 20×20 (aspect kept), centred by its centre of mass in 28×28.

    ``image``: PIL image or array (H,W[,C]), uint8 or float in [0,1].  A light
    background is inverted.  A 28×28 image is taken as already in MNIST form.
    Returns uint8 (28,28), plus (with ``return_transform``) a function that maps a
    mask of the same size as the input through the same crop/scale/shift.
    """
    from PIL import Image

    if isinstance(image, Image.Image):
        im = image
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            bg = Image.new("RGBA", im.size, (255, 255, 255, 255))   # transparent → paper white
            im = Image.alpha_composite(bg, im.convert("RGBA"))
        a = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    else:
        a = np.asarray(image)
        if a.ndim == 3 and a.shape[2] == 4:
            alpha = a[..., 3:4].astype(np.float64) / (255.0 if a.dtype == np.uint8 else 1.0)
            rgb = a[..., :3].astype(np.float64) / (255.0 if a.dtype == np.uint8 else 1.0)
            a = (rgb * alpha + (1 - alpha)).mean(2)
        elif a.ndim == 3:
            a = a[..., :3].astype(np.float64).mean(2) / (255.0 if a.dtype == np.uint8 else 1.0)
        elif a.ndim == 2:
            a = a.astype(np.float64) / (255.0 if a.dtype == np.uint8 else 1.0)
        else:
            raise InpaintError(f"not an image: array of shape {a.shape}")
    if a.size == 0:
        raise InpaintError("the image is empty")
    H, W = a.shape
    if (H, W) == (28, 28):
        if np.median(a) > 0.5:
            a = 1.0 - a
        out = (np.clip(a, 0, 1) * 255).round().astype(np.uint8)
        if return_transform:
            return out, lambda mk: (np.asarray(mk, dtype=np.float64) > 0.5)
        return out
    # light paper (the border is mostly bright) → invert so ink is white on black
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if np.median(border) > 0.5:
        a = 1.0 - a
    a = np.clip((a - np.percentile(a, 5)) / max(1e-6, a.max() - np.percentile(a, 5)), 0, 1)
    ink = a > 0.25
    if not ink.any():
        raise InpaintError("no digit found in the image (it is blank or has no contrast)")
    ys, xs = np.nonzero(ink)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    h, w = y1 - y0, x1 - x0
    s = 20.0 / max(h, w)
    nh, nw = max(1, int(round(h * s))), max(1, int(round(w * s)))

    def place(arr, resample):
        crop = Image.fromarray((arr[y0:y1, x0:x1] * 255).astype(np.uint8))
        return np.asarray(crop.resize((nw, nh), resample), dtype=np.float64) / 255.0

    box = place(a, Image.LANCZOS)
    canvas = np.zeros((28, 28))
    oy, ox = (28 - nh) // 2, (28 - nw) // 2
    canvas[oy:oy + nh, ox:ox + nw] = np.clip(box, 0, 1)
    tot = canvas.sum()
    cy, cx = ((np.arange(28)[:, None] * canvas).sum() / tot, (np.arange(28)[None] * canvas).sum() / tot)
    sy, sx = int(round(13.5 - cy)), int(round(13.5 - cx))
    sy, sx = int(np.clip(sy, -oy, 28 - nh - oy)), int(np.clip(sx, -ox, 28 - nw - ox))
    canvas = np.roll(canvas, (sy, sx), (0, 1))
    out = (canvas * 255).round().astype(np.uint8)
    if not return_transform:
        return out

    def transform(mk):
        mk = np.asarray(mk, dtype=np.float64)
        if mk.shape != (H, W):
            raise InpaintError(f"mask size {mk.shape[::-1]} differs from the image size {(W, H)}")
        mb = place((mk > 0.5).astype(np.float64), Image.BILINEAR) > 0.5
        c = np.zeros((28, 28), bool)
        c[oy:oy + nh, ox:ox + nw] = mb
        return np.roll(c, (sy, sx), (0, 1))

    return out, transform
