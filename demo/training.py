"""Live training tab: watch a GAN learn — 2-D toys (GAN Lab style) up to MNIST digits.

Two kinds of run.  The shared (lecturer's) run: a ``ganmodels.training.live.Trainer`` (``ctx.trainer``)
with its own background thread, driven only by a session that entered ``--lecturer-key`` (every session
when the app serves this machine only, without a key), watched by anyone.  A private 2-D run per browser
session (``ctx.training_runs``, ``ganmodels.training.classroom``): created by its first Start/Step/preset/
Reset, trained in slices by one shared thread, closed with its tab.  Which run an event is for follows
from the session (``gr.Request.session_hash``) and the "Which run" radio, never from what the client says.

Every browser tab polls the run it looks at with an always-active ``gr.Timer``: a 2-D run's poll sends
the frames (points, D's field, arrows, G's manifold) taken since that tab's last poll, and the browser
draws them (``DRAW_JS``); an image run's pictures are rendered (matplotlib) once per snapshot on the
server and shared by every viewer (``Views``).

Pure functions first (settings → RunConfig, snapshot → pictures / frames), then ``build(ctx)``:
layout, handlers and their wiring.
"""
from __future__ import annotations

import base64
import io
import json
import math
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from demo.common import ImageEditorInput, InputError, as_float, as_int
from demo.helper import spawn_pool
from ganmodels.imageio import upscale_nearest

if TYPE_CHECKING:
    from demo.context import AppContext
    from ganmodels.training import live as T

# ganmodels (torch) is imported inside the functions that need it: the picture functions
# below also run in a small render process, which then starts without torch.

REQUIRES = ()
OPTIONAL = ("classifier",)
LATENCY_ENDPOINTS = {"training_poll": [{}]}     # the timer's endpoint: cached pictures + status

POLL_S = 1.0            # each tab asks for new pictures once a second
CANVAS = 256            # drawing canvas, pixels; it spans [−3, 3]²
CANVAS_EXTENT = 3.0
MAX_DRAWN = 400         # points kept from a drawing
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

EXPLAIN = r"""
**The game.** G turns noise $z$ (Gaussian $\mathcal N(0,I)$ or uniform on $[-1,1]^d$) into samples; D scores how real a
sample looks — for the minimax and non-saturating losses as a probability $D(x)=\sigma(\text{logit})$; LSGAN's D outputs a
regression value, a WGAN critic and a hinge D an unbounded score (the curves plot what the chosen loss's D outputs, labelled).
Training alternates **$k_D$ steps of D**, descending $-\tfrac1m\sum_i[\log D(x^{(i)})+\log(1-D(G(z^{(i)})))]$ (or the chosen
loss), and **$k_G$ steps of G** (usually 1), descending its loss — the same loop (`ganmodels.training.loop.train_loop`) as the
command-line trainer. **One step** does one iteration: $k_D$ D steps, then $k_G$ G steps. **Step D only** / **Step G only**
update one network while the other stays frozen (not counted as steps): watch D's heat map move while the red points stay, or
the points move while the heat map stays. **Slow motion** takes one iteration apart into its five phases (draw $z$ →
$G(z)$ → D scores real and fake → D's loss and update → G's loss and update), shown on the plot and named on the small
diagram below it.

*2-D data:* blue = real points, red = $G(z)$ for 500 $z$ fixed at the start (filled with D's score on each point when that
layer is on), background = $\sigma(\text{D's output})$ over the plane (green: D says real, purple: D says fake; for LSGAN, WGAN
and hinge σ only maps the score to a colour — not a probability), arrows $-\nabla_x L_G$ = where G's loss pushes each sample
(as in GAN Lab). With a 2-D $z$ the grey mesh is **G's manifold**: the image under G of a regular grid of $z$ (±2 for
Gaussian noise, the whole square for uniform) — when G collapses, the mesh folds onto a mode. The plot is drawn by your
browser from the points the server sends, several frames a second.
*Images:* the grid shows $G(z_i)$ for $z_i$ fixed at the start of the run.

**Your own run or the lecturer's.** On a server started with `--lecturer-key`, every browser tab trains its own 2-D run:
its buttons and settings change only that run. The lecturer's run (the projector's) can be watched by everyone and driven
only after entering the key; image models (digits, Fashion-MNIST, folders) are the lecturer's alone.

**KL and JS** (as GAN Lab estimates them), for every 2-D dataset: 2,500 real and 2,500 generated points are counted on a
$20\times20$ grid over the plot; with $p_j$, $q_j$ the shares of real and generated points in cell $j$ (plus $\epsilon=10^{-4}$
each), $\mathrm{KL}=\sum_j p_j\log_2\frac{p_j}{q_j}$ and $\mathrm{JS}=\tfrac12\mathrm{KL}(p\,\|\,m)+\tfrac12\mathrm{KL}(q\,\|\,m)$,
$m=\tfrac12(p+q)$, in bits: JS is 0 for identical histograms and at most 1 bit; KL grows without bound where real data has
mass and G has none (a missed mode). Both are estimates at the grid's resolution, not the true divergences.

**Metrics** (unrolled GAN / VEEGAN, on 2,500 samples from fixed $z$): a sample is *high-quality* if it lies within $3\sigma$
of its nearest mode; a mode is *covered* if at least 20 high-quality samples have it as their nearest mode.
**Label smoothing** (Salimans et al. 2016) trains D towards 0.9 instead of 1 on real samples and keeps 0 for fakes
(*one-sided*: they smooth only the real labels and advise against smoothing the fakes). It enters the minimax, non-saturating
and LSGAN losses; the WGAN critics (WGAN-GP, weight clipping) and the hinge loss have no labels, so for them it does not apply.

Digits: *recognised* = share of the fixed-$z$ grid that looks like an MNIST digit (at least 60 % dark background, 2–40 %
bright ink) and that the project's MNIST classifier labels with top probability ≥ 0.9 (with how many different digits
among them: 36 confident copies of one digit would be mode collapse, not success). The first check is there because a
classifier is confident on things that are no digit at all: it reads an untrained G's flat grey squares as "1" with
p ≈ 1 — a classifier-based score needs samples from the data's own world.
"""

# Salimans et al. (2016) smooth only the real labels (one-sided) and warn against smoothing the fakes;
# the two-sided option is kept to show why.  The WGAN losses and hinge have no labels: the choice does not apply.
ONE_SIDED = "one-sided: real 0.9, fake 0 (Salimans et al.)"
LABELS = {
    "none (1 / 0)": (1.0, 0.0),
    ONE_SIDED: (0.9, 0.0),
    "two-sided: real 0.9, fake 0.1 (Salimans et al. advise against)": (0.9, 0.1),
}
LABELS_INFO = ("Salimans et al. smooth only the real labels. Used by minimax, non-saturating and LSGAN; "
               "WGAN-GP, WGAN (weight clipping) and hinge have no labels, so it does not apply to them.")

# Every loss the trainer offers (ganmodels.losses.LOSSES), with its formulas and what its D outputs: the
# Markdown beside the Loss menu is built from this table (a test checks that every loss has a row).
# r = D(x), f = D(G(z)): D's raw outputs, averaged over the batch; b / a: the real / fake labels.
LOSS_FORMULAS = {
    "minimax": (r"$-\log\sigma(r)-\log(1-\sigma(f))$", r"$\log(1-\sigma(f))$ (saturates)",
                r"a probability $\sigma(r)$; optimum $\tfrac{a+b}2$ ($\tfrac12$ with labels 1/0)"),
    "ns": (r"same as minimax", r"$-\log\sigma(f)$",
           r"a probability $\sigma(r)$; optimum $\tfrac{a+b}2$ ($\tfrac12$ with labels 1/0)"),
    "lsgan": (r"$\tfrac12(r-b)^2+\tfrac12(f-a)^2$", r"$\tfrac12(f-1)^2$",
              r"a raw value regressed to $b$ (real), $a$ (fake); optimum $\tfrac{a+b}2$"),
    "wgan-gp": (r"$f-r+\lambda(\lVert\nabla_{\hat x}D(\hat x)\rVert_2-1)^2$", r"$-f$",
                r"an unbounded critic score; $r-f$ estimates the Wasserstein distance"),
    "wgan-clip": (r"$f-r$, then every weight $w\leftarrow\mathrm{clip}(w,-c,c)$, $c=0.01$", r"$-f$",
                  r"an unbounded critic score; $r-f$ estimates $K\cdot W_1$ ($K$ set by the clipping)"),
    "hinge": (r"$\max(0,1-r)+\max(0,1+f)$", r"$-f$", r"an unbounded score, margins $\pm1$"),
}


def losses_markdown() -> str:
    """The Loss menu's companion: every loss's formulas, what its D outputs, and the honest warning."""
    from ganmodels.losses import LOSS_NAMES, LOSSES

    rows = "\n".join(f"| {LOSS_NAMES[l]} (`{l}`) | {LOSS_FORMULAS[l][0]} | {LOSS_FORMULAS[l][1]} | "
                     f"{LOSS_FORMULAS[l][2]} |" for l in LOSSES)
    return (r"**The losses** — $r=D(x)$, $f=D(G(z))$: D's raw outputs, averaged over the batch; $b$ / $a$: the real / "
            "fake labels (label smoothing).\n\n| loss | D minimises | G minimises | D outputs |\n|---|---|---|---|\n"
            + rows + "\n\n" + LUCIC_WARNING)


LUCIC_WARNING = (
    "**No loss is a cure.** Lucic et al. (2018, *Are GANs Created Equal? A Large-Scale Study*) compared GAN "
    "losses — among them minimax, non-saturating, LSGAN, WGAN and WGAN-GP — each with a large hyper-parameter search "
    "and random restarts. Quoted from their abstract: "
    "*“We find that most models can reach similar scores with enough hyperparameter optimization and random "
    "restarts.”* and *“we did not find evidence that any of the tested algorithms consistently outperforms the "
    "non-saturating GAN”*. The presets' titles give what this app measured on the ring (modes covered of 8 after "
    "2,000 G steps, for seeds 0, 1, 2; `python bench/modes.py`): three seeds of one toy, not a ranking of losses.")

SETTING_NAMES = ("dataset", "loss", "lr_g", "lr_d", "k", "batch", "z_dim", "labels", "seed",
                 "points_text", "folder", "k_g", "g_layers", "hidden", "d_layers", "d_hidden", "optimizer", "noise")


# ---------------------------------------------------------------- settings ↔ RunConfig


def parse_points(text: str | None) -> list[list[float]]:
    """"x, y" per line (or separated by ';') → [[x, y], ...]."""
    pts = []
    for i, line in enumerate((text or "").replace(";", "\n").splitlines()):
        line = line.strip()
        if not line:
            continue
        parts = line.replace(",", " ").split()
        if len(parts) != 2:
            raise InputError(f"points, line {i + 1}: write 'x, y', got {line!r}")
        try:
            x, y = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError(f"points, line {i + 1}: {line!r} is not two numbers") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(f"points, line {i + 1}: coordinates must be finite")
        pts.append([x, y])
    return pts


def points_text(points) -> str:
    return "\n".join(f"{x:.2f}, {y:.2f}" for x, y in points)


def points_from_canvas(value, max_points: int = MAX_DRAWN, seed: int = 0) -> list[list[float]]:
    """The painted pixels of a gr.ImageEditor value → points in [−3, 3]² (y up)."""
    if not isinstance(value, dict):
        return []
    mask = None
    for layer in value.get("layers") or []:
        if layer is None:
            continue
        a = np.asarray(layer)
        m = a[..., 3] > 0 if a.ndim == 3 and a.shape[2] == 4 else a.reshape(a.shape[0], a.shape[1], -1).max(-1) > 0
        mask = m if mask is None else (mask | m)
    if mask is None or not mask.any():
        return []
    rows, cols = np.nonzero(mask)
    h, w = mask.shape
    x = cols / max(w - 1, 1) * 2 * CANVAS_EXTENT - CANVAS_EXTENT
    y = CANVAS_EXTENT - rows / max(h - 1, 1) * 2 * CANVAS_EXTENT
    pts = np.stack([x, y], 1)
    if len(pts) > max_points:
        pts = pts[np.random.default_rng(seed).choice(len(pts), max_points, replace=False)]
    return np.round(pts, 2).tolist()


def canvas_background(size: int = CANVAS) -> np.ndarray:
    """A light plane with the axes and a unit grid, RGBA."""
    img = np.full((size, size, 4), 250, dtype=np.uint8)
    for v in range(-3, 4):
        p = int(round((v + CANVAS_EXTENT) / (2 * CANVAS_EXTENT) * (size - 1)))
        shade = 150 if v == 0 else 215
        img[:, p, :3] = shade
        img[p, :, :3] = shade
    return img


def allowed_folder(folder, roots: Sequence[str | Path] = ()) -> str:
    """An image folder a student typed: ``ganmodels.data.allowed_folder``, the one gate that every
    folder goes through (typed here, or in an uploaded checkpoint's settings) — only inside
    ``roots``, the lecturer's ``--data-dir`` folders (``ctx.data_dirs``); none: the dataset is off."""
    from ganmodels.data import allowed_folder as gate

    return gate(folder, roots)


def make_config(dataset, loss, lr_g, lr_d, k, batch, z_dim, labels, seed, points_txt, folder,
                k_g=None, g_layers=None, hidden=None, d_layers=None, d_hidden=None, optimizer=None, noise=None,
                base: T.RunConfig | None = None, data_dirs: Sequence[str | Path] = ()) -> T.RunConfig:
    """The UI's settings → a checked RunConfig (InputError with a teaching message): the ranges of
    ``live.LIMITS``, an image folder only inside ``data_dirs`` (``ganmodels.data.allowed_folder``,
    the same gate a loaded checkpoint goes through)."""
    from ganmodels.training import live as T
    from ganmodels.losses import LOSSES

    if dataset not in T.DATASETS:
        raise InputError(f"unknown dataset {dataset!r}")
    if loss not in LOSSES:
        raise InputError(f"unknown loss {loss!r}")
    if labels not in LABELS:
        raise InputError(f"unknown label setting {labels!r}")
    real, fake = LABELS[labels]
    base = base or T.RunConfig()
    cfg = T.RunConfig(**{**base.__dict__})
    cfg.dataset, cfg.loss = dataset, loss
    cfg.lr_g = as_float(lr_g, "Learning rate G", 1e-7, 10.0)
    cfg.lr_d = as_float(lr_d, "Learning rate D", 1e-7, 10.0)
    cfg.k = as_int(k, "k (D steps per G step)", *T.LIMITS["k"])
    cfg.batch = as_int(batch, "Batch size", *T.LIMITS["batch"])
    cfg.z_dim = as_int(z_dim, "Latent size", *T.LIMITS["z_dim"])
    cfg.seed = as_int(seed, "Seed", *T.LIMITS["seed"])
    # the network and optimizer settings (None: as in ``base``)
    for name, v, label in (("k_g", k_g, "k_G (G steps per iteration)"), ("g_layers", g_layers, "G's hidden layers"),
                           ("hidden", hidden, "G's neurons per layer"), ("d_layers", d_layers, "D's hidden layers"),
                           ("d_hidden", d_hidden, "D's neurons per layer")):
        if v is not None:
            lo = 4 if name == "d_hidden" else T.LIMITS[name][0]
            setattr(cfg, name, as_int(v, label, lo, T.LIMITS[name][1]))
    if optimizer is not None:
        if optimizer not in T.OPTIMIZERS:
            raise InputError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(T.OPTIMIZERS)}")
        cfg.optimizer = optimizer
    if noise is not None:
        from ganmodels.models.toy import NOISES

        if noise not in NOISES:
            raise InputError(f"unknown noise {noise!r}; choose one of {', '.join(NOISES)}")
        cfg.noise = noise
    cfg.real_label, cfg.fake_label = real, fake
    cfg.points = parse_points(points_txt) if dataset == "drawn" else base.points
    cfg.folder = (folder if isinstance(folder, str) else "") if dataset == "folder" else base.folder
    if dataset == "drawn" and len(cfg.points) < 2:
        raise InputError(f"the drawn distribution has {len(cfg.points)} point(s): draw at least 2 "
                         "(strokes on the canvas, or 'x, y' lines in the points box)")
    try:
        return T.check_config(cfg, tuple(data_dirs))     # the folder goes through the --data-dir gate here
    except (ValueError, FileNotFoundError) as e:
        raise InputError(str(e)) from None


def settings_of(cfg: T.RunConfig) -> list:
    """RunConfig → the values of the settings components (SETTING_NAMES order)."""
    label = next((n for n, v in LABELS.items() if v == (cfg.real_label, cfg.fake_label)), "none (1 / 0)")
    return [cfg.dataset, cfg.loss, cfg.lr_g, cfg.lr_d, cfg.k, cfg.batch, cfg.z_dim, label, cfg.seed,
            points_text(cfg.points or []), cfg.folder, cfg.k_g, cfg.g_layers, cfg.hidden, cfg.d_layers,
            cfg.d_hidden or cfg.hidden, cfg.optimizer, cfg.noise]


MAX_LINK = 8000          # characters of a settings link's query string


def settings_from_query(query: str, data_dirs: Sequence[str | Path] = ()) -> tuple[T.RunConfig, str | None]:
    """A shared link's query string (``?preset=wgan&k=3&loss=lsgan…``: a preset and the settings of
    SETTING_NAMES, the image folder excepted) → (the checked RunConfig, the preset or None).  The preset
    gives what the settings do not name (β's, λ); InputError with a message for a bad link."""
    from urllib.parse import parse_qs

    from ganmodels.training import live as T

    query = (query or "").lstrip("?")
    if len(query) > MAX_LINK:
        raise InputError(f"the link is too long ({len(query)} characters; at most {MAX_LINK})")
    try:
        q = {k: v[-1] for k, v in parse_qs(query, max_num_fields=40).items()}
    except ValueError:
        raise InputError("the link has too many settings") from None
    preset = q.get("preset")
    if preset is not None and preset not in T.PRESETS:
        raise InputError(f"the link names an unknown preset {preset!r}; known: {', '.join(T.PRESETS)}")
    base = T.preset_config(preset or "nonsat")
    vals = settings_of(base)
    for i, name in enumerate(SETTING_NAMES):
        if name in q and name != "folder":          # a server path never travels in a link
            vals[i] = q[name]
    return make_config(*vals, base=base, data_dirs=data_dirs), preset


# ---------------------------------------------------------------- pictures


def _png_html(fig, alt: str, width: int) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    b64 = base64.b64encode(buf.getvalue()).decode()
    return (f'<img class="live-plot" alt="{alt}" src="data:image/png;base64,{b64}" '
            f'style="width:100%;max-width:{width}px;height:auto"/>')


def snapshot_dict(snap) -> dict:
    """A Snapshot as plain numbers/arrays (what the render process receives)."""
    return {f: getattr(snap, f) for f in ("version", "step", "state", "message", "steps_per_s", "kind",
                                          "dataset", "loss", "real_label", "fake_label", "extent", "real",
                                          "fake", "arrows", "field", "grid", "metrics", "d_updates", "g_updates")}


def d_output_spec(loss: str, real_label: float = 1.0, fake_label: float = 0.0) -> dict:
    """What the "D's outputs" panel and the status line show for ``loss`` (``ganmodels.losses.D_OUTPUT``).

    ``title``, ``ylabel``; ``curves``: (column of Trainer.curves(), legend) — ``d_*`` are mean σ(output),
    ``score_*`` mean raw outputs, ``w_est`` = score_real − score_fake; ``refs``: (y, label[, "top": the
    label below its line]) lines;
    ``ylim``: fixed range or None (unbounded); ``status``: a format string over the snapshot's metrics."""
    from ganmodels.losses import D_OUTPUT

    kind = D_OUTPUT.get(loss, "probability")
    b, a = float(real_label), float(fake_label)
    if kind == "probability":     # minimax, non-saturating: σ(logit) is D's probability that x is real
        eq = (a + b) / 2
        return dict(kind=kind, title="D's outputs: probability D = σ(logit)", ylabel="mean σ(logit)",
                    curves=[("d_real", "mean D(x)"), ("d_fake", "mean D(G(z))")],
                    refs=[(eq, f"optimum at p_g = p_data: (a+b)/2 = {eq:g}")], ylim=(-0.02, 1.02),
                    status="D(x) {d_real:.2f}, D(G(z)) {d_fake:.2f} (probabilities, σ of the logit)")
    if kind == "regression":      # LSGAN: the raw output is regressed onto the labels
        refs = [(b, f"b = {b:g}: D's target for real"), (a, f"a = {a:g}: D's target for fake")]
        if b == 1.0:
            refs[0] = (b, f"b = {b:g}: D's target for real, G's for fakes")
        else:          # smoothed: G still aims at 1 (ganmodels.losses.lsgan_g); b's label goes below its line
            refs[0] = (b, refs[0][1], "top")
            refs.append((1.0, "1: G's target for its fakes"))
        refs.append(((a + b) / 2, f"(a+b)/2 = {(a + b) / 2:g}: optimum at p_g = p_data"))
        return dict(kind=kind, title="LSGAN: D's raw outputs (regression targets)", ylabel="mean raw output",
                    curves=[("score_real", "mean D(x)"), ("score_fake", "mean D(G(z))")], refs=refs, ylim=None,
                    status="D(x) {score_real:.2f}, D(G(z)) {score_fake:.2f} (raw outputs; targets "
                           f"b = {b:g} real, a = {a:g} fake)")
    if kind == "critic":          # WGAN-GP, WGAN with weight clipping
        w = ": W₁ estimate" if loss == "wgan-gp" else ": K·W₁ estimate"
        return dict(kind=kind, title="WGAN critic scores (unbounded)", ylabel="mean critic score",
                    curves=[("score_real", "E[D(x)]"), ("score_fake", "E[D(G(z))]"),
                            ("w_est", f"E[D(x)] − E[D(G(z))]{w}")],
                    refs=[(0.0, "0")], ylim=None,
                    status="critic scores E[D(x)] {score_real:.3g}, E[D(G(z))] {score_fake:.3g}; "
                           "difference {w_est:.3g} (the critic's Wasserstein estimate, not a probability)")
    return dict(kind=kind, title="hinge: D's raw scores (margins ±1)", ylabel="mean raw score",
                curves=[("score_real", "mean D(x)"), ("score_fake", "mean D(G(z))")],
                refs=[(1.0, "+1: real margin"), (-1.0, "−1: fake margin")], ylim=None,
                status="D(x) {score_real:.2f}, D(G(z)) {score_fake:.2f} (raw hinge scores; margins ±1)")


# Figures re-used for every frame (only the data changes), one set per process.  Module-level because
# the drawing helper process runs render_all as a plain function between calls.
_FIGS: dict = {}


def _plane_fig(extent: float, size_in: float, dpi: int):
    """The 2-D figure with its artists, built once per extent and re-used for every frame."""
    key = ("plane", extent, size_in, dpi)
    if key not in _FIGS:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(size_in, size_in), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes([0.09, 0.06, 0.88, 0.86])
        e = extent
        im = ax.imshow(np.full((2, 2), 0.5), extent=(-e, e, -e, e), cmap="PRGn", vmin=0, vmax=1,
                       alpha=0.65, interpolation="bilinear")
        real = ax.scatter([], [], s=5, c="#1f77b4", linewidths=0, label="real x")
        fake = ax.scatter([], [], s=5, c="#d62728", linewidths=0, label="G(z)")
        quiv = ax.quiver(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), angles="xy",
                         scale_units="xy", scale=1, width=0.004, color="#333333", alpha=0.8)
        ax.set_xlim(-e, e)
        ax.set_ylim(-e, e)
        ax.set_aspect("equal")
        ax.tick_params(labelsize=7)
        ax.legend(loc="upper right", fontsize=7, markerscale=2, framealpha=0.7)
        title = ax.set_title("", fontsize=8)
        _FIGS[key] = (fig, im, real, fake, quiv, ax, title)
    return _FIGS[key]


def render_plane(snap: dict, size_in: float = 4.2, dpi: int = 80) -> str:
    """Real vs generated points, D's output as a heat map, G's gradient arrows (matplotlib)."""
    e = float(snap["extent"])
    fig, im, real, fake, quiv, ax, title = _plane_fig(e, size_in, dpi)
    field = snap["field"] if snap["field"] is not None else np.full((2, 2), 0.5)
    im.set_data(field)
    empty = np.zeros((0, 2))
    real.set_offsets(snap["real"] if snap["real"] is not None else empty)
    f = snap["fake"] if snap["fake"] is not None else empty
    fake.set_offsets(f)
    arrows = snap["arrows"]
    if arrows is not None and len(arrows) and len(f):
        n = np.linalg.norm(arrows, axis=1)
        scale = 0.12 * e / max(float(np.percentile(n, 90)), 1e-12)
        a = np.clip(arrows * scale, -0.3 * e, 0.3 * e)
        p = f[:len(a)]
        if len(a) != quiv.N:          # a quiver's arrow count is fixed: rebuild it once
            quiv.remove()
            quiv = ax.quiver(p[:, 0], p[:, 1], a[:, 0], a[:, 1], angles="xy", scale_units="xy", scale=1,
                             width=0.004, color="#333333", alpha=0.8)
            _FIGS[("plane", e, size_in, dpi)] = (fig, im, real, fake, quiv, ax, title)
        else:
            quiv.set_offsets(p)
            quiv.set_UVC(a[:, 0], a[:, 1])
        quiv.set_visible(True)
    else:
        quiv.set_visible(False)
    title.set_text(f"step {snap['step']}: blue real, red G(z), arrows −∇ₓL_G")
    return _png_html(fig, f"2-D view at step {snap['step']}", int(size_in * dpi))


def render_grid(snap: dict, scale: int = 4) -> str:
    """The fixed-z grid, enlarged with nearest-neighbour pixels."""
    from PIL import Image

    g = snap["grid"]
    img = upscale_nearest(g, scale)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    b64 = base64.b64encode(buf.getvalue()).decode()
    return (f'<img class="live-grid pixelated" alt="fixed-z grid at step {snap["step"]}" '
            f'src="data:image/png;base64,{b64}" style="image-rendering:pixelated;width:{img.shape[1]}px;'
            f'max-width:100%;height:auto"/><div style="font-size:0.85em">G(z) for the fixed z, '
            f'step {snap["step"]}</div>')


def _curves_fig(kind: str, width_in: float, dpi: int):
    key = ("curves", kind, width_in, dpi)
    if key not in _FIGS:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(width_in, 4.0), dpi=dpi)
        FigureCanvasAgg(fig)
        axs = fig.subplots(2, 2)
        fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.1, hspace=0.45, wspace=0.22)
        lines = {}
        lines["d_loss"], = axs[0, 0].plot([], [], lw=1, label="D loss")
        lines["g_loss"], = axs[0, 0].plot([], [], lw=1, label="G loss")
        axs[0, 0].set_title("losses", fontsize=8)
        # axs[0, 1], D's outputs: drawn for every picture by _draw_d_panel (what it shows depends on the loss)
        if kind == "toy":
            lines["m_modes_covered"], = axs[1, 0].plot([], [], lw=1, color="C2", drawstyle="steps-post")
            axs[1, 0].set_title("modes covered", fontsize=8)
            lines["m_high_quality"], = axs[1, 1].plot([], [], lw=1, color="C3")
            axs[1, 1].set_ylim(-2, 102)
            axs[1, 1].set_title("% high-quality samples", fontsize=8)
        else:
            lines["m_recognised"], = axs[1, 0].plot([], [], lw=1, color="C2")
            axs[1, 0].set_ylim(-2, 102)
            axs[1, 0].set_title("% of the fixed-z grid recognised (classifier)", fontsize=8)
            lines["gp"], = axs[1, 1].plot([], [], lw=1, color="C4")
            axs[1, 1].set_title("gradient penalty (WGAN-GP only)", fontsize=8)
        for ax in axs.flat:
            ax.tick_params(labelsize=6)
            ax.locator_params(nbins=4)
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=6, loc="upper right")
        axs[1, 0].set_xlabel("step", fontsize=7)
        axs[1, 1].set_xlabel("step", fontsize=7)
        _FIGS[key] = (fig, axs, lines)
    return _FIGS[key]


def _draw_d_panel(ax, curves: dict, spec: dict, xmax: float) -> None:
    """The "D's outputs" panel for one loss (``d_output_spec``): its curves, reference lines and labels."""
    ax.cla()
    s = curves["step"]
    nan = np.full(len(s), np.nan)
    for col, label in spec["curves"]:
        if col == "w_est":
            y = curves.get("score_real", nan) - curves.get("score_fake", nan)
            ax.plot(s, y, lw=1, color="C2", label=label)
        else:
            ax.plot(s, curves.get(col, nan), lw=1, label=label)
    for y, label, *va in spec["refs"]:
        ax.axhline(y, color="0.45", lw=0.7, ls="--")
        ax.text(0.01, y, label, transform=ax.get_yaxis_transform(), fontsize=5.5, color="0.3",
                ha="left", va=va[0] if va else "bottom", bbox=dict(fc="white", alpha=0.6, lw=0, pad=0.5))
    ax.set_xlim(0, xmax)
    if spec["ylim"] is not None:
        ax.set_ylim(*spec["ylim"])
    else:
        ax.relim()
        ax.autoscale_view(scalex=False)
    ax.set_title(spec["title"], fontsize=8)
    ax.set_ylabel(spec["ylabel"], fontsize=6)
    ax.tick_params(labelsize=6)
    ax.locator_params(nbins=4)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, loc="best")


def render_curves(curves: dict, kind: str, width_in: float = 6.4, dpi: int = 90, *, loss: str = "ns",
                  real_label: float = 1.0, fake_label: float = 0.0) -> str:
    """D and G losses, what D outputs for ``loss`` (``d_output_spec``: σ(logit) for minimax/non-saturating,
    raw outputs for LSGAN, critic scores for WGAN, hinge scores), and the quality metrics over the steps."""
    fig, axs, lines = _curves_fig(kind, width_in, dpi)
    spec = d_output_spec(loss, real_label, fake_label)
    s = curves["step"]
    for name, line in lines.items():
        if name.startswith("m_"):
            m = curves[name]
            y = m[:, 1] * (100 if name in ("m_high_quality", "m_recognised") else 1)
            line.set_data(m[:, 0], y)
        else:
            line.set_data(s, curves[name])
    xmax = max(float(s[-1]) if len(s) else 1.0, 1.0)
    for ax in axs.flat:
        ax.set_xlim(0, xmax)
    for ax in (axs[0, 0],) + ((axs[1, 0],) if kind == "toy" else (axs[1, 1],)):
        ax.relim()
        ax.autoscale_view(scalex=False)
    if kind == "toy":                                   # whole modes: 0 … 8 (ring) or 25 (grid)
        m = curves["m_modes_covered"]
        axs[1, 0].set_ylim(-0.3, max(8.0, float(m[:, 1].max()) if len(m) else 0.0) + 0.3)
    _draw_d_panel(axs[0, 1], curves, spec, xmax)
    return _png_html(fig, f"training curves: losses; {spec['title']} — {spec['ylabel']}", int(width_in * dpi))


def status_markdown(snap: dict, note: str = "") -> str:
    from ganmodels.losses import LOSS_NAMES
    from ganmodels.training.live import DATASET_NAMES

    m = snap["metrics"]
    parts = [f"**step {snap['step']}**",
             f"{snap['steps_per_s']:.0f} steps/s" if snap["state"] == "running" else None,
             f"*{snap['state']}*",
             f"{DATASET_NAMES.get(snap['dataset'], snap['dataset'])}, {LOSS_NAMES.get(snap['loss'], snap['loss'])}"]
    if "modes_covered" in m:
        parts.append(f"modes covered **{m['modes_covered']}/{m['n_modes']}**, "
                     f"high-quality **{100 * m['high_quality']:.0f} %**")
    if "js" in m:
        parts.append(f"KL **{m['kl']:.2f}** bits, JS **{m['js']:.2f}** bits")
    if snap.get("d_updates") or snap.get("g_updates"):
        parts.append(f"+{snap.get('d_updates', 0)} single D and {snap.get('g_updates', 0)} single G updates")
    if "recognised" in m:
        parts.append(f"recognised **{100 * m['recognised']:.0f} %** of the grid "
                     f"({m.get('grid_classes', 0)} different digits)")
    spec = d_output_spec(snap["loss"], snap.get("real_label", 1.0), snap.get("fake_label", 0.0))
    cols = [c for c, _ in spec["curves"] if c != "w_est"]
    if all(c in m for c in cols):
        vals = {**m, **({"w_est": m["score_real"] - m["score_fake"]} if spec["kind"] == "critic" else {})}
        parts.append(spec["status"].format(**vals))
    out = " · ".join(p for p in parts if p)
    if snap["message"]:
        out += f"\n\n⚠️ {snap['message']}" if snap["message"].startswith("Paused") else f"\n\n{snap['message']}"
    if note:
        out += f"\n\n{note}"
    return out


def render_all(snap: dict, curves: dict | None) -> tuple[str, str | None]:
    """(view HTML, curves HTML or None): what the render process computes for one snapshot."""
    view = render_plane(snap) if snap["kind"] == "toy" else render_grid(snap)
    if curves is None:
        return view, None
    return view, render_curves(curves, snap["kind"], loss=snap["loss"], real_label=snap.get("real_label", 1.0),
                               fake_label=snap.get("fake_label", 0.0))


class Views:
    """The pictures of the latest snapshot, rendered once per snapshot for all viewers.

    matplotlib is slow and holds Python's GIL, which the training thread needs too; so the
    figures are drawn in one small helper process (spawned on first use), and a poll never
    waits for a drawing: it gets the newest finished pictures and, if the run has moved on,
    starts the next drawing.  If no helper process can be started, drawing happens here.
    The curves are redrawn at most every ``curves_every_s`` seconds while the run is running.
    """

    def __init__(self, trainer, *, use_process: bool = True, curves_every_s: float = 2.0):
        self.trainer = trainer
        self.use_process = use_process
        self.curves_every_s = curves_every_s
        self._lock = threading.Lock()
        self._pool = None
        self._job = None                 # (future, snapshot dict, curves wanted) in flight
        self._version = -1               # version of the snapshot whose pictures are in _out
        self._curves_at = -1e9
        self._view_html = self._curves_html = ""
        self._out: tuple = ("", "", "")
        self.renders = 0

    def _start_pool(self) -> None:
        if self.use_process and self._pool is None:
            try:
                self._pool = spawn_pool()
                self._pool.submit(int, 0)         # start the helper now; it imports in the background
            except Exception:  # noqa: BLE001 -- no helper process (sandbox, frozen app): draw here
                self.use_process = False
                self.close()

    def _submit(self, snap: dict, curves: dict | None):
        self._start_pool()
        if self._pool is not None:
            try:
                return self._pool.submit(render_all, snap, curves)
            except Exception:  # noqa: BLE001 -- the helper is gone: draw here from now on
                self.use_process = False
                self.close()
        from concurrent.futures import Future

        fut: Future = Future()
        fut.set_result(render_all(snap, curves))
        return fut

    def _apply(self, result, snap: dict) -> None:
        view, ch = result
        self._view_html = view
        if ch is not None:
            self._curves_html = ch
        self._version = snap["version"]
        self.renders += 1

    def _collect(self, block: bool) -> None:
        fut, snap = self._job
        if not block and not fut.done():
            return
        self._job = None
        try:
            result = fut.result(timeout=120)
        except Exception:  # noqa: BLE001 -- the helper died: draw in this process from now on
            self.use_process = False
            self.close()
            result = render_all(snap, None)
        self._apply(result, snap)

    def get(self, wait: bool = False) -> tuple[int, str, str, str]:
        """(version shown, view HTML, curves HTML, status Markdown).  A poll never waits for the
        helper process; the very first picture (or ``wait=True``) is drawn right here."""
        snap = self.trainer.snapshot()
        with self._lock:
            if self._job is not None:
                self._collect(block=wait)
            if self._job is None and snap.version != self._version:
                now = time.monotonic()
                want = snap.state != "running" or now - self._curves_at >= self.curves_every_s
                if want:
                    self._curves_at = now
                d = snapshot_dict(snap)
                curves = self.trainer.curves() if want else None
                if wait or self._version < 0:
                    self._apply(render_all(d, curves), d)
                    self._start_pool()
                else:
                    self._job = (self._submit(d, curves), d)
            status = status_markdown(snapshot_dict(snap))
            return (self._version, self._view_html, self._curves_html, status)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- the 2-D view, drawn in the browser

# The poll sends the points (``toy_payload``); the browser draws them on a canvas.  No server-side
# picture per frame: thirty private runs cost thirty small JSON answers, not thirty matplotlib figures.
LAYERS = ("D's heat map", "real points", "generated points", "D's score on each G(z) (colour)",
          "G's gradient arrows", "G's manifold (2-D z: the image of a z-grid)")
LAYERS_ON = list(LAYERS)
PLANE_PX = 440
CURVES_W, CURVES_H = 640, 380
Q = 1000.0                # coordinates travel as int16 thousandths

CANVAS_HTML = f"""
<div id="gl-toy" style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start">
 <div><canvas id="gl-plane" width="{PLANE_PX}" height="{PLANE_PX}" style="width:{PLANE_PX}px;max-width:100%;border:1px solid #ccc"
   aria-label="2-D view: real points, G(z), D's heat map"></canvas>
  <div id="gl-caption" style="font-size:0.85em;min-height:2.4em;max-width:{PLANE_PX}px"></div>
  <canvas id="gl-diagram" width="{PLANE_PX}" height="70" style="width:{PLANE_PX}px;max-width:100%;display:none"></canvas></div>
 <canvas id="gl-curves" width="{CURVES_W}" height="{CURVES_H}" style="width:{CURVES_W}px;max-width:100%"
   aria-label="training curves"></canvas>
</div>"""

DRAW_JS = r"""
(dataStr, layers) => {
  const S = window.__gl = window.__gl || {queue: [], timer: null, frame: null, real: null, run: null, curves: null,
      extent: 3, layers: null, drawn: 0, steps: [], phases: null, pi: 0, paceTimer: null, kind: null};
  if (Array.isArray(layers)) S.layers = layers;
  const on = (i) => !S.layers || S.layers.includes(LAYERS[i]);
  const LAYERS = __LAYERS__;
  const bytes = (b64) => { const s = atob(b64); const u = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u; };
  const f16 = (b64) => { if (!b64) return null; const a = new Int16Array(bytes(b64).buffer);
      const f = new Float32Array(a.length); for (let i = 0; i < a.length; i++) f[i] = a[i] / 1000; return f; };
  const cmap = (v) => { v = Math.max(0, Math.min(1, v)); const a = [118, 42, 131], m = [247, 247, 247], b = [27, 120, 55];
      const lo = v < 0.5 ? a : m, hi = v < 0.5 ? m : b, t = v < 0.5 ? v * 2 : (v - 0.5) * 2;
      return [0, 1, 2].map(i => Math.round(lo[i] + (hi[i] - lo[i]) * t)); };
  const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;
  S.decode = (fr) => ({step: fr.step, fake: f16(fr.fake), arrows: f16(fr.arrows), mesh: f16(fr.mesh), mn: fr.mn,
      scores: fr.scores ? bytes(fr.scores) : null, field: fr.field ? bytes(fr.field) : null, fn: fr.fn});
  const px = (x, e, W) => (x + e) / (2 * e) * W, py = (y, e, H) => (e - y) / (2 * e) * H;
  S.drawField = (ctx, field, n, W, H) => {
    const off = document.createElement("canvas"); off.width = n; off.height = n;
    const oc = off.getContext("2d"), img = oc.createImageData(n, n);
    for (let i = 0; i < n * n; i++) { const c = cmap(field[i] / 255); img.data.set([c[0], c[1], c[2], 170], 4 * i); }
    oc.putImageData(img, 0, 0); ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, W, H);
  };
  S.dots = (ctx, pts, e, W, H, fill, stroke, r) => {
    if (!pts) return; ctx.fillStyle = fill; ctx.strokeStyle = stroke || fill; ctx.lineWidth = 1;
    for (let i = 0; i + 1 < pts.length; i += 2) { ctx.beginPath(); ctx.arc(px(pts[i], e, W), py(pts[i + 1], e, H), r, 0, 6.283);
      ctx.fill(); if (stroke) ctx.stroke(); }
  };
  S.plane = (fr) => {
    const c = document.getElementById("gl-plane"); if (!c || !fr) return;
    const ctx = c.getContext("2d"), W = c.width, H = c.height, e = S.extent;
    ctx.fillStyle = "#fafafa"; ctx.fillRect(0, 0, W, H);
    if (on(0) && fr.field) S.drawField(ctx, fr.field, fr.fn, W, H);
    ctx.strokeStyle = "rgba(0,0,0,0.15)"; ctx.beginPath(); ctx.moveTo(px(0, e, W), 0); ctx.lineTo(px(0, e, W), H);
    ctx.moveTo(0, py(0, e, H)); ctx.lineTo(W, py(0, e, H)); ctx.stroke();
    if (on(5) && fr.mesh && fr.mn) {
      const m = fr.mn, g = fr.mesh; ctx.strokeStyle = "rgba(40,40,40,0.55)"; ctx.lineWidth = 0.8;
      for (let i = 0; i < m; i++) { ctx.beginPath(); ctx.beginPath();
        for (let j = 0; j < m; j++) { const k = 2 * (i * m + j); j ? ctx.lineTo(px(g[k], e, W), py(g[k + 1], e, H)) : ctx.moveTo(px(g[k], e, W), py(g[k + 1], e, H)); }
        ctx.stroke(); ctx.beginPath();
        for (let j = 0; j < m; j++) { const k = 2 * (j * m + i); j ? ctx.lineTo(px(g[k], e, W), py(g[k + 1], e, H)) : ctx.moveTo(px(g[k], e, W), py(g[k + 1], e, H)); }
        ctx.stroke(); }
    }
    if (on(1)) S.dots(ctx, S.real, e, W, H, "#1f77b4", null, 1.8);
    if (on(2) && fr.fake) {
      if (on(3) && fr.scores) {
        for (let i = 0; i + 1 < fr.fake.length; i += 2) { ctx.beginPath();
          ctx.arc(px(fr.fake[i], e, W), py(fr.fake[i + 1], e, H), 2.6, 0, 6.283);
          ctx.fillStyle = rgb(cmap(fr.scores[i / 2] / 255)); ctx.fill(); ctx.strokeStyle = "#d62728"; ctx.lineWidth = 1; ctx.stroke(); }
      } else S.dots(ctx, fr.fake, e, W, H, "#d62728", null, 1.8);
    }
    if (on(4) && fr.arrows && fr.fake) {
      ctx.strokeStyle = "rgba(30,30,30,0.8)"; ctx.lineWidth = 1; ctx.beginPath();
      for (let i = 0; i + 1 < fr.arrows.length; i += 2) {
        const x0 = px(fr.fake[i], e, W), y0 = py(fr.fake[i + 1], e, H);
        const x1 = px(fr.fake[i] + fr.arrows[i], e, W), y1 = py(fr.fake[i + 1] + fr.arrows[i + 1], e, H);
        ctx.moveTo(x0, y0); ctx.lineTo(x1, y1);
        const a = Math.atan2(y1 - y0, x1 - x0); ctx.moveTo(x1, y1); ctx.lineTo(x1 - 4 * Math.cos(a - 0.5), y1 - 4 * Math.sin(a - 0.5));
        ctx.moveTo(x1, y1); ctx.lineTo(x1 - 4 * Math.cos(a + 0.5), y1 - 4 * Math.sin(a + 0.5)); }
      ctx.stroke();
    }
    ctx.fillStyle = "#222"; ctx.font = "12px sans-serif";
    ctx.fillText(`step ${fr.step}: blue real x, red G(z); green = D says real, purple = D says fake`, 6, 14);
    S.drawn += 1; S.steps.push(fr.step); if (S.steps.length > 50) S.steps.shift(); S.frame = fr;
    c.dataset.step = String(fr.step); c.dataset.frames = String(S.drawn);
  };
  S.panel = (ctx, x0, y0, w, h, title, series, refs, ylim) => {
    ctx.strokeStyle = "#bbb"; ctx.strokeRect(x0, y0, w, h); ctx.fillStyle = "#222"; ctx.font = "11px sans-serif";
    ctx.fillText(title, x0 + 4, y0 - 4);
    let xs = [], ys = [];
    for (const s of series) for (let i = 0; i < s.x.length; i++) if (s.y[i] !== null && isFinite(s.y[i])) { xs.push(s.x[i]); ys.push(s.y[i]); }
    for (const r of refs || []) ys.push(r[0]);
    if (!xs.length) { ctx.fillStyle = "#888"; ctx.fillText("no data yet", x0 + 8, y0 + h / 2); return; }
    let xmin = Math.min(...xs), xmax = Math.max(...xs), ymin = ylim ? ylim[0] : Math.min(...ys), ymax = ylim ? ylim[1] : Math.max(...ys);
    if (xmax <= xmin) xmax = xmin + 1; if (ymax <= ymin) { ymax = ymin + 0.5; ymin -= 0.5; }
    const X = (x) => x0 + (x - xmin) / (xmax - xmin) * w, Y = (y) => y0 + h - (y - ymin) / (ymax - ymin) * h;
    ctx.fillStyle = "#555"; ctx.font = "9px sans-serif";
    ctx.fillText(ymax.toPrecision(3), x0 + 2, y0 + 9); ctx.fillText(ymin.toPrecision(3), x0 + 2, y0 + h - 2);
    ctx.fillText(String(Math.round(xmax)), x0 + w - 30, y0 + h + 10);
    for (const r of refs || []) { ctx.strokeStyle = "#999"; ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(x0, Y(r[0])); ctx.lineTo(x0 + w, Y(r[0])); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = "#666"; ctx.fillText(r[1], x0 + 40, Y(r[0]) - 2); }
    let ly = y0 + 10;
    for (const s of series) { ctx.strokeStyle = s.color; ctx.lineWidth = 1.2; ctx.beginPath(); let pen = false;
      for (let i = 0; i < s.x.length; i++) { const y = s.y[i]; if (y === null || !isFinite(y)) { pen = false; continue; }
        pen ? ctx.lineTo(X(s.x[i]), Y(y)) : ctx.moveTo(X(s.x[i]), Y(y)); pen = true; }
      ctx.stroke(); ctx.fillStyle = s.color; ctx.fillText(s.label, x0 + w - 110, ly); ly += 10; }
  };
  S.drawCurves = (cv) => {
    const c = document.getElementById("gl-curves"); if (!c || !cv) return;
    const ctx = c.getContext("2d"), W = c.width, H = c.height; ctx.clearRect(0, 0, W, H);
    const pw = W / 2 - 30, ph = H / 2 - 40, C = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"];
    const ser = (x, y, color, label) => ({x, y, color, label});
    S.panel(ctx, 20, 20, pw, ph, "losses", [ser(cv.step, cv.d_loss, C[0], "D loss"), ser(cv.step, cv.g_loss, C[1], "G loss")]);
    S.panel(ctx, W / 2 + 10, 20, pw, ph, cv.spec.title, cv.spec.curves.map((k, i) => ser(cv.step, cv[k[0]], C[i], k[1])), cv.spec.refs, cv.spec.ylim);
    const m = cv.m, col = (rows, j) => rows.map(r => r[j]);
    if (m.modes_covered.length) S.panel(ctx, 20, H / 2 + 20, pw, ph, "modes covered / % high-quality ÷ 10",
        [ser(col(m.modes_covered, 0), col(m.modes_covered, 1), C[2], "modes covered"),
         ser(col(m.high_quality, 0), col(m.high_quality, 1).map(v => 10 * v), C[3], "% HQ ÷ 10")]);
    else S.panel(ctx, 20, H / 2 + 20, pw, ph, "modes: only for the ring and the grid", []);
    S.panel(ctx, W / 2 + 10, H / 2 + 20, pw, ph, "KL(real ‖ G) and JS, bits (grid estimate)",
        [ser(col(m.kl, 0), col(m.kl, 1), C[0], "KL"), ser(col(m.js, 0), col(m.js, 1), C[3], "JS")], [[1, "JS ≤ 1"]]);
  };
  if (dataStr) {
    let d; try { d = JSON.parse(dataStr); } catch (err) { d = null; }
    if (d) {
      const toy = document.getElementById("gl-toy");
      S.kind = d.kind; if (toy) toy.style.display = d.kind === "toy" ? "flex" : "none";
      if (d.kind === "toy") {
        if (d.run !== S.run) { S.run = d.run; S.queue = []; S.real = null; S.phases = null; }
        S.extent = d.extent;
        if (d.real) S.real = f16(d.real);
        if (d.curves) { S.curves = d.curves; S.drawCurves(d.curves); }
        const frames = (d.frames || []).map(S.decode);
        if (frames.length && !S.phases) {
          clearTimeout(S.timer); S.queue = frames.slice();
          const gap = Math.max(40, Math.min(400, (d.poll_ms || 1000) * 0.95 / frames.length));
          const play = () => { const fr = S.queue.shift(); if (fr) { S.plane(fr); S.timer = setTimeout(play, gap); } };
          play();
        }
      }
    }
  } else if (S.frame && !S.phases) S.plane(S.frame);
  if (S.phases && S.showPhase) S.showPhase();
  return [];
}
"""

PHASE_JS = r"""
(dataStr, pace) => {
  const S = window.__gl; if (!S || !dataStr) return [];
  let d; try { d = JSON.parse(dataStr); } catch (err) { return []; }
  if (!d || !d.fake) return [];
  const f = (b64) => { if (!b64) return null; const s = atob(b64); const u = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); const a = new Int16Array(u.buffer);
      const r = new Float32Array(a.length); for (let i = 0; i < a.length; i++) r[i] = a[i] / 1000; return r; };
  const b = (b64) => { const s = atob(b64); const u = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return u; };
  S.phases = {z: f(d.z), fake: f(d.fake), real: f(d.real), fake1: f(d.fake1), arrows: f(d.arrows),
      s_real: b(d.s_real), s_fake: b(d.s_fake), field0: b(d.field0), field1: b(d.field1), fn: d.fn, e: d.extent,
      captions: d.captions, nodes: d.nodes};
  S.pi = 0;
  const cmap = (v) => { v = Math.max(0, Math.min(1, v)); const a = [118, 42, 131], m = [247, 247, 247], g = [27, 120, 55];
      const lo = v < 0.5 ? a : m, hi = v < 0.5 ? m : g, t = v < 0.5 ? v * 2 : (v - 0.5) * 2;
      return "rgb(" + [0, 1, 2].map(i => Math.round(lo[i] + (hi[i] - lo[i]) * t)).join(",") + ")"; };
  S.showPhase = () => {
    const P = S.phases; if (!P) return; const c = document.getElementById("gl-plane"); if (!c) return;
    const ctx = c.getContext("2d"), W = c.width, H = c.height, e = P.e, k = S.pi;
    const X = (x) => (x + e) / (2 * e) * W, Y = (y) => (e - y) / (2 * e) * H;
    ctx.fillStyle = "#fafafa"; ctx.fillRect(0, 0, W, H);
    S.drawField(ctx, k >= 3 ? P.field1 : P.field0, P.fn, W, H);
    const dot = (pts, i, fill, stroke, r) => { ctx.beginPath(); ctx.arc(X(pts[i]), Y(pts[i + 1]), r, 0, 6.283);
      ctx.fillStyle = fill; ctx.fill(); if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = 1; ctx.stroke(); } };
    if (k === 0) { if (P.z) for (let i = 0; i < P.z.length; i += 2) dot(P.z, i, "#777", null, 2); }
    if (k === 1 && P.z) { ctx.strokeStyle = "rgba(120,120,120,0.35)"; ctx.beginPath();
      for (let i = 0; i < P.z.length; i += 2) { ctx.moveTo(X(P.z[i]), Y(P.z[i + 1])); ctx.lineTo(X(P.fake[i]), Y(P.fake[i + 1])); } ctx.stroke(); }
    if (k >= 1) for (let i = 0; i < P.fake.length; i += 2) {
      if (k === 2) dot(P.fake, i, cmap(P.s_fake[i / 2] / 255), "#d62728", 3);
      else if (k === 4) dot(P.fake, i, "rgba(214,39,40,0.25)", "#d62728", 2.5);
      else dot(P.fake, i, "#d62728", null, 2.2); }
    if (k >= 2) for (let i = 0; i < P.real.length; i += 2)
      k === 2 ? dot(P.real, i, cmap(P.s_real[i / 2] / 255), "#1f77b4", 3) : dot(P.real, i, "#1f77b4", null, 2);
    if (k === 4) { ctx.strokeStyle = "rgba(30,30,30,0.8)"; ctx.beginPath();
      for (let i = 0; i < P.arrows.length; i += 2) { ctx.moveTo(X(P.fake[i]), Y(P.fake[i + 1]));
        ctx.lineTo(X(P.fake[i] + P.arrows[i]), Y(P.fake[i + 1] + P.arrows[i + 1])); } ctx.stroke();
      for (let i = 0; i < P.fake1.length; i += 2) dot(P.fake1, i, "#d62728", null, 2.2); }
    ctx.fillStyle = "#222"; ctx.font = "12px sans-serif"; ctx.fillText(`slow motion: phase ${k + 1} of 5`, 6, 14);
    const cap = document.getElementById("gl-caption"); if (cap) cap.textContent = P.captions[k];
    const g = document.getElementById("gl-diagram");
    if (g) { g.style.display = "block"; const q = g.getContext("2d"); q.clearRect(0, 0, g.width, g.height);
      const names = ["z ~ p(z)", "G", "G(z)", "D", "x (real)", "D's loss", "G's loss"];
      const pos = [[8, 8], [88, 8], [148, 8], [228, 24], [148, 42], [300, 8], [300, 42]];
      const hot = P.nodes[k];
      q.strokeStyle = "#999"; q.beginPath();
      for (const [a, b2] of [[0, 1], [1, 2], [2, 3], [4, 3], [3, 5], [3, 6]]) {
        q.moveTo(pos[a][0] + 60, pos[a][1] + 10); q.lineTo(pos[b2][0], pos[b2][1] + 10); } q.stroke();
      names.forEach((n, i) => { q.fillStyle = hot.includes(i) ? "#ffd54f" : "#eee"; q.fillRect(pos[i][0], pos[i][1], 62, 20);
        q.strokeStyle = "#555"; q.strokeRect(pos[i][0], pos[i][1], 62, 20); q.fillStyle = "#111"; q.font = "11px sans-serif";
        q.fillText(n, pos[i][0] + 4, pos[i][1] + 14); });
      g.dataset.phase = String(k + 1); }
    c.dataset.phase = String(k + 1);
  };
  S.nextPhase = () => { if (!S.phases) return; S.pi += 1;
    if (S.pi > 4) { S.phases = null; clearInterval(S.paceTimer); const cap = document.getElementById("gl-caption"); if (cap) cap.textContent = "";
      const g = document.getElementById("gl-diagram"); if (g) g.style.display = "none"; if (S.frame) S.plane(S.frame); return; }
    S.showPhase(); };
  clearInterval(S.paceTimer);
  if (pace && pace > 0) S.paceTimer = setInterval(() => { S.nextPhase(); if (!S.phases) clearInterval(S.paceTimer); }, pace * 1000);
  S.showPhase();
  return [];
}
"""
NEXT_PHASE_JS = "() => { if (window.__gl && window.__gl.nextPhase) window.__gl.nextPhase(); return []; }"
# "Copy a link": the preset and the settings (no image folder) as a query string, built in the browser
LINK_JS = r"""
(preset, ...vals) => {
  const names = __NAMES__, p = new URLSearchParams();
  if (preset) p.set("preset", preset);
  names.forEach((n, i) => { if (n === "folder" || (n === "points_text" && vals[0] !== "drawn")) return;
                            if (vals[i] !== null && vals[i] !== undefined) p.set(n, String(vals[i])); });
  const url = window.location.origin + window.location.pathname + "?" + p.toString();
  try { navigator.clipboard.writeText(url); } catch (err) {}
  return [url];
}
"""
QUERY_JS = "() => [window.location.search || '']"

# slow motion: what each phase shows and which boxes of the little model diagram light up
# (0 z, 1 G, 2 G(z), 3 D, 4 x, 5 D's loss, 6 G's loss)
PHASES = (
    ("1 · Draw z: a batch of noise z ~ p(z) (grey; drawn in the same plane because z is 2-D).", (0,)),
    ("2 · G(z): the generator maps each z to a point (red; grey lines join z to G(z)).", (0, 1, 2)),
    ("3 · D scores the real batch (blue rings) and the generated one (red rings): fill colour = σ(D(·)), "
     "green ≈ real, purple ≈ fake.", (2, 3, 4)),
    ("4 · D's loss and update: one gradient step on D's loss for this batch; the heat map is now the updated D "
     "(G is frozen).", (3, 5)),
    ("5 · G's loss and update: arrows −∇ₓL_G show where G's loss pushes each G(z) under the updated D; one step on G "
     "moves the points (faint: before, solid: after; D is frozen).", (1, 6)),
)
PHASES_NO_Z = "1 · Draw z: a batch of noise z ~ p(z) (z has {d} dimensions: not drawn in the plane)."


def _b64(a, scale: float = Q, dtype="<i2") -> str | None:
    """An array as base64: coordinates as int16 thousandths, scores/fields as uint8 (scale 255)."""
    if a is None:
        return None
    a = np.asarray(a, dtype=np.float64)
    if dtype == "<i2":
        a = np.clip(np.round(a * scale), -32767, 32767)
    else:
        a = np.clip(np.round(a * scale), 0, 255)
    return base64.b64encode(np.ascontiguousarray(a.astype(dtype)).tobytes()).decode()


def scaled_arrows(arrows, extent: float):
    """G's gradient arrows at the length the plot shows (as ``render_plane`` draws them)."""
    if arrows is None or not len(arrows):
        return None
    n = np.linalg.norm(arrows, axis=1)
    scale = 0.12 * extent / max(float(np.percentile(n, 90)), 1e-12)
    return np.clip(arrows * scale, -0.3 * extent, 0.3 * extent)


def toy_frame(snap) -> dict:
    """One frame of a 2-D run for the browser: generated points, D's score on each, D's field, the
    arrows and G's manifold, compactly encoded."""
    field = snap.field
    return {"step": snap.step, "fake": _b64(snap.fake), "scores": _b64(snap.scores, 255, "u1"),
            "field": _b64(field, 255, "u1"), "fn": 0 if field is None else int(field.shape[0]),
            "arrows": _b64(scaled_arrows(snap.arrows, snap.extent)), "mesh": _b64(snap.mesh), "mn": snap.mesh_n}


def _listed(a) -> list:
    return [None if not math.isfinite(v) else round(float(v), 5) for v in np.asarray(a, dtype=np.float64)]


def curves_payload(curves: dict, loss: str, real_label: float = 1.0, fake_label: float = 0.0) -> dict:
    """The curves for the browser's small charts: losses, D's outputs (as ``d_output_spec`` says for the
    loss), modes covered / high-quality, KL and JS."""
    spec = d_output_spec(loss, real_label, fake_label)
    out = {"step": _listed(curves["step"]), "d_loss": _listed(curves["d_loss"]), "g_loss": _listed(curves["g_loss"])}
    for col, _ in spec["curves"]:
        if col == "w_est":
            out[col] = _listed(curves["score_real"] - curves["score_fake"])
        else:
            out[col] = _listed(curves[col])
    out["spec"] = {"title": spec["title"], "curves": [[c, l] for c, l in spec["curves"]],
                   "refs": [[float(r[0]), r[1]] for r in spec["refs"]], "ylim": spec["ylim"]}
    out["m"] = {k: [[float(s), round(float(v), 5)] for s, v in curves["m_" + k]]
                for k in ("modes_covered", "high_quality", "kl", "js")}
    return out


def phases_payload(ph: dict) -> dict:
    """``Trainer.slow_iteration``'s arrays for the browser, with each phase's caption and lit boxes."""
    e = ph["extent"]
    caps = [c for c, _ in PHASES]
    if ph["z"] is None:
        caps[0] = PHASES_NO_Z.format(d=ph["z_dim"])
    extra = []
    if ph["k"] > 1 or ph["k_g"] > 1:
        extra.append(f"(a full step does k_D = {ph['k']} D updates and k_G = {ph['k_g']} G updates; slow motion "
                     "shows one of each)")
    caps[3] += f" D's loss: {ph['d_loss']:.4g}."
    caps[4] += f" G's loss: {ph['g_loss']:.4g}. " + " ".join(extra)
    return {"extent": e, "z": _b64(ph["z"]), "fake": _b64(ph["fake"]), "real": _b64(ph["real"]),
            "fake1": _b64(ph["fake1"]), "arrows": _b64(scaled_arrows(ph["arrows"], e)),
            "s_real": _b64(ph["s_real"], 255, "u1"), "s_fake": _b64(ph["s_fake"], 255, "u1"),
            "field0": _b64(ph["field0"], 255, "u1"), "field1": _b64(ph["field1"], 255, "u1"),
            "fn": int(ph["field0"].shape[0]), "captions": caps, "nodes": [list(n) for _, n in PHASES]}


# ---------------------------------------------------------------- the tab

OWN, LECTURER = "My own run", "Watch the lecturer's run"
LECTURER_ONLY = ("Only the lecturer can start, pause, step, reset or reconfigure the lecturer's run (it is on the "
                 "projector). Choose “My own run” to train your own — nobody else's run changes when you do.")
NO_SESSION = "A private run belongs to a browser session: open the tab in a browser."
NO_RUN_YET = ("**Your own run** · not started: choose a preset or the settings below, then press **Start** "
              "(or **One step**). It is yours alone — nothing you do changes anyone else's run.")
CURVES_EVERY_S = 2.0      # a running run's curves are sent at most this often
MAX_SESSIONS = 5000       # sessions whose view and settings are remembered (the oldest are forgotten)
ECHO_S = 3.0              # after a preset, a link or a switch of run set all the settings, their change events for
                          # this long are echoes (ignored) unless they carry exactly what was set
ECHO_MAX_S = 30.0         # later ones (a busy server's queue) are echoes only if each value is the old or the new one


def new_trainer(cfg=None, *, device: str = "cpu", classifier=None, data_dirs: Sequence[str | Path] = (), **kw):
    """A live Trainer that shares the CPU as a served app should: its thread runs at a lower OS
    priority, and between steps it waits while students' quick requests run (serving.priority).
    Image folders only inside ``data_dirs`` (the app's ``--data-dir``; none: the folder dataset is
    off), whether typed or in an uploaded checkpoint."""
    from ganmodels.training import live as T
    from serving import priority

    return T.Trainer(cfg if cfg is not None else T.preset_config("nonsat"), device=device,
                     classifier=classifier, data_dirs=tuple(data_dirs),
                     on_thread_start=priority.lower_thread_priority,
                     between_steps=priority.yield_to_interactive, **kw)


def new_private_runs(*, cap: int = 40, idle_s: float = 600.0, workers: int = 1, duty: float = 0.8,
                     max_wait: float = 0.01, batch: bool = True):
    """The private 2-D runs of a class (``ganmodels.training.classroom.PrivateRuns``): trained by
    ``workers`` low-priority threads round-robin, which give way to interactive requests between slices
    (waiting at most ``max_wait`` s for requests in flight, and working at most ``duty`` of the time
    while people use the app).  Gentler than the lecturer's run (50 ms, 30 %): a class's runs are the
    class's work, and the OS priority (nice 10) already puts the requests first."""
    import functools

    from ganmodels.training import classroom as C
    from ganmodels.training import live as T
    from serving import priority

    def make(cfg, scheduler):
        return T.Trainer(cfg, scheduler=scheduler)
    return C.PrivateRuns(make, cap=cap, idle_s=idle_s, workers=workers, batch=batch,
                         on_thread_start=priority.lower_thread_priority,
                         between_slices=functools.partial(priority.yield_to_interactive, max_wait=max_wait,
                                                          duty=duty))


@dataclass
class _Tab:
    """The tab's components: built by ``_layout``, wired to ``_Handlers`` by ``_wire``."""
    preset: Any
    use_preset: Any
    preset_md: Any
    start: Any
    pause: Any
    step: Any
    reset: Any
    status: Any
    view: Any
    curves: Any
    settings: list           # the settings components, SETTING_NAMES order
    canvas: Any
    points_box: Any
    settings_msg: Any
    save: Any
    gif: Any
    csv: Any
    out_file: Any
    load_file: Any
    last: Any                # per browser tab: {"v": picture version shown, "md": status shown, "r"/"f": run, frame}
    timer: Any
    mode: Any = None         # My own run / Watch the lecturer's run
    key: Any = None
    unlock: Any = None
    access_md: Any = None
    data: Any = None         # hidden: the JSON the browser draws the 2-D view from
    layers: Any = None
    step_d: Any = None
    step_g: Any = None
    updates: Any = None
    slow: Any = None
    next_phase: Any = None
    pace: Any = None
    phase_data: Any = None
    link: Any = None
    link_box: Any = None
    query: Any = None        # hidden: the page's query string (a shared link's settings)


def build(ctx: AppContext):
    """The Live training tab: the shared (lecturer's) run ``ctx.trainer`` (created here if the app has
    none) and its pictures (``ctx.training_views``), and the private 2-D runs of the students
    (``ctx.training_runs``); all closed by ``ctx.close()``."""
    import gradio as gr

    if ctx.trainer is None:
        ctx.trainer = new_trainer(device=ctx.device, classifier=ctx.models.get("classifier"),
                                  data_dirs=ctx.data_dirs)
    trainer = ctx.trainer
    views = ctx.training_views = Views(trainer)
    if ctx.training_runs is None:
        ctx.training_runs = new_private_runs(cap=ctx.max_private_runs, idle_s=ctx.run_idle_s,
                                             workers=ctx.toy_threads, batch=ctx.toy_batch)
    # the first pictures now, at start-up: a process's first matplotlib figure is slow, and drawn in
    # the first poll it would keep every student who opens the tab in that moment waiting
    views.get(wait=True)
    h = _Handlers(trainer, views, ctx.data_dirs, runs=ctx.training_runs, key=ctx.lecturer_key,
                  everyone=ctx.everyone_lecturer, store=getattr(ctx, "store", None))
    tab = _layout(trainer, ctx.max_pixels, h)
    _wire(tab, h)
    from gradio.context import Context

    if Context.root_block is not None:      # a closed browser tab: its private run ends now
        def unload(request):
            h.unload(request=request)
        unload.__annotations__ = {"request": gr.Request}     # Gradio hands a parameter so typed the request
        Context.root_block.unload(unload)
    return trainer


def _layout(trainer, max_pixels: int, h: "_Handlers") -> _Tab:
    import gradio as gr

    from ganmodels.training import live as T

    gr.Markdown("## Watch a GAN learn\n" + EXPLAIN, latex_delimiters=LATEX)
    with gr.Row():
        mode = gr.Radio([OWN, LECTURER], value=h.default_mode(), label="Which run", scale=2,
                        info="Your own run is yours alone; the lecturer's run is the one on the projector.")
        if h.key:
            key = gr.Textbox("", type="password", label="Lecturer key (lecturer only)", scale=1)
            unlock = gr.Button("Enter key", scale=0)
        else:
            key = unlock = None
    access_md = gr.Markdown(h.access_text(None))
    with gr.Row():
        preset = gr.Dropdown([(p.title, k) for k, p in T.PRESETS.items()], value="nonsat",
                             label="Preset (an example that teaches one thing)", scale=3)
        use_preset = gr.Button("Use this preset (resets the run)", scale=1)
    preset_md = gr.Markdown(T.PRESETS["nonsat"].explain, latex_delimiters=LATEX)
    with gr.Row():
        start = gr.Button("Start / resume", variant="primary")
        pause = gr.Button("Pause")
        step = gr.Button("One step (k_D D steps + k_G G steps)")
        reset = gr.Button("Reset (apply all settings)")
    with gr.Row():
        step_d = gr.Button("Step D only (G frozen)")
        step_g = gr.Button("Step G only (D frozen)")
        updates = gr.Radio([1, 10, 100], value=1, label="Updates per press (Step D only / Step G only)",
                           elem_id="training-updates")
        slow = gr.Button("Slow motion: one iteration in 5 phases")
        next_phase = gr.Button("Next phase ▶")
        pace = gr.Slider(0, 5, value=0, step=0.5, label="Slow-motion pace (s per phase; 0 = by button)")
    status = gr.Markdown(status_markdown(snapshot_dict(trainer.snapshot())))
    layers = gr.CheckboxGroup(list(LAYERS), value=LAYERS_ON, label="Layers of the 2-D plot")
    gr.HTML(CANVAS_HTML)
    with gr.Row():
        view = gr.HTML("", label="samples")
        curves = gr.HTML("", label="curves")
    data = gr.Textbox("", visible=False)
    phase_data = gr.Textbox("", visible=False)
    with gr.Accordion("Settings", open=False):
        settings, canvas, points_box = _layout_settings(trainer.cfg, max_pixels)
    settings_msg = gr.Markdown("")
    with gr.Row():
        link = gr.Button("Copy a link to this preset and these settings", scale=1)
        link_box = gr.Textbox("", label="Link (opens the tab with them; also copied to the clipboard where the "
                                        "browser allows)", scale=3)
    query = gr.Textbox("", visible=False)
    with gr.Accordion("Save, load, export", open=False):
        with gr.Row():
            save = gr.Button("Save checkpoint")
            gif = gr.Button("Export time-lapse GIF")
            csv = gr.Button("Export curves CSV")
        with gr.Row():
            out_file = gr.File(label="Download", interactive=False)
            load_file = gr.File(label="Load a checkpoint (.safetensors)", file_types=[".safetensors"])
    return _Tab(preset, use_preset, preset_md, start, pause, step, reset, status, view, curves, settings,
                canvas, points_box, settings_msg, save, gif, csv, out_file, load_file,
                last=gr.State({}), timer=gr.Timer(POLL_S, active=True), mode=mode, key=key, unlock=unlock,
                access_md=access_md, data=data, layers=layers, step_d=step_d, step_g=step_g, updates=updates, slow=slow,
                next_phase=next_phase, pace=pace, phase_data=phase_data, link=link, link_box=link_box, query=query)


def _layout_settings(cfg0, max_pixels: int) -> tuple[list, Any, Any]:
    """The settings components (SETTING_NAMES order), the drawing canvas and the points box."""
    import gradio as gr

    from ganmodels.data import fashion_available
    from ganmodels.losses import LOSS_NAMES, LOSSES
    from ganmodels.models.toy import NOISE_NAMES, NOISES
    from ganmodels.training import live as T

    with gr.Row():
        shown = [d for d in T.DATASETS if d != "fashion" or fashion_available()]
        dataset = gr.Dropdown([(T.DATASET_NAMES[d], d) for d in shown], value=cfg0.dataset,
                              label="Dataset (image data: the lecturer's run only; Fashion-MNIST appears when "
                                    "dataset-fashion-mnist is installed)")
        loss = gr.Dropdown([(LOSS_NAMES[l], l) for l in LOSSES], value=cfg0.loss, label="Loss")
        labels = gr.Dropdown(list(LABELS), value=settings_of(cfg0)[7], label="Label smoothing", info=LABELS_INFO)
    gr.Markdown(losses_markdown(), latex_delimiters=LATEX)
    with gr.Row():
        lr_g = gr.Number(cfg0.lr_g, label="Learning rate G")
        lr_d = gr.Number(cfg0.lr_d, label="Learning rate D")
        k = gr.Slider(*T.LIMITS["k"], value=cfg0.k, step=1, label="k_D: D steps per iteration")
        k_g = gr.Slider(*T.LIMITS["k_g"], value=cfg0.k_g, step=1, label="k_G: G steps per iteration")
    with gr.Row():   # the ranges are the trainer's own (live.LIMITS): what a slider offers is accepted
        batch = gr.Slider(*T.LIMITS["batch"], value=cfg0.batch, step=2,
                          label=f"Batch size (needs reset; images: at most {T.IMAGE_LIMITS['batch'][1]})")
        z_dim = gr.Slider(*T.LIMITS["z_dim"], value=cfg0.z_dim, step=1,
                          label="Noise dimension dim z (needs reset; 2 shows G's manifold)")
        noise = gr.Dropdown([(NOISE_NAMES[n], n) for n in NOISES], value=cfg0.noise, label="Noise z (needs reset)")
        seed = gr.Number(cfg0.seed, precision=0, label="Seed (needs reset)")
    with gr.Row():   # 2-D runs: the two MLPs and their optimizer
        g_layers = gr.Slider(*T.LIMITS["g_layers"], value=cfg0.g_layers, step=1, label="G: hidden layers (2-D; reset)")
        hidden = gr.Slider(*T.LIMITS["hidden"], value=cfg0.hidden, step=1, label="G: neurons per layer (2-D; reset)")
        d_layers = gr.Slider(*T.LIMITS["d_layers"], value=cfg0.d_layers, step=1, label="D: hidden layers (2-D; reset)")
        d_hidden = gr.Slider(4, T.LIMITS["d_hidden"][1], value=cfg0.d_hidden or cfg0.hidden, step=1,
                             label="D: neurons per layer (2-D; reset)")
        optimizer = gr.Dropdown([(T.OPTIMIZER_NAMES[o], o) for o in T.OPTIMIZERS], value=cfg0.optimizer,
                                label="Optimizer, both networks (reset)")
    folder = gr.Textbox(cfg0.folder, label="Image folder: a folder inside the server's --data-dir (for the 'image folder' dataset; resized to 32×32)")
    gr.Markdown("**Draw a distribution** (dataset 'points you draw'): paint strokes on the plane "
                "($[-3,3]^2$); each painted pixel becomes a real point. Then press Reset and Start.",
                latex_delimiters=LATEX)
    with gr.Row():
        # checked canvas: refused above --max-pixels from its header, shrunk to CANVAS² while decoding
        canvas = ImageEditorInput(max_pixels=max_pixels, max_side=CANVAS,
                                value={"background": canvas_background(), "layers": [], "composite": None},
                                type="numpy", image_mode="RGBA", format="png", canvas_size=(CANVAS, CANVAS),
                                fixed_canvas=True, sources=(), transforms=(), layers=False,
                                brush=gr.Brush(default_size=8, colors=["#1f77b4"], color_mode="fixed"),
                                eraser=gr.Eraser(default_size=12), label="Draw here", height=CANVAS + 90)
        points_box = gr.Textbox("", lines=8, max_lines=12, label="…or type points, one 'x, y' per line")
    gr.Examples([["-1.5, 1.5\n1.5, 1.5\n0, -1.5"], ["-2, 0\n-1, 0\n0, 0\n1, 0\n2, 0\n0, 2\n0, -2"]],
                inputs=[points_box], label="Example drawings (3 blobs; a cross)")
    return ([dataset, loss, lr_g, lr_d, k, batch, z_dim, labels, seed, points_box, folder, k_g, g_layers, hidden,
             d_layers, d_hidden, optimizer, noise], canvas, points_box)


KEY_TRIES, KEY_WINDOW_S = 5, 60.0     # wrong lecturer keys allowed per client address per window


def _session(request) -> str | None:
    return getattr(request, "session_hash", None) or None


class _Handlers:
    """The tab's event handlers: which run an event is for (the session's own, or the shared one
    if this session may drive it), then one-liners over the trainer and the pure functions above."""

    def __init__(self, trainer, views: Views, data_dirs, *, runs=None, key: str | None = None,
                 everyone: bool = True, store=None):
        import collections

        self.store = store                # the weights: trained states some presets start from

        self.trainer = self.shared = trainer
        self.views, self.data_dirs = views, tuple(data_dirs)
        self.runs = runs if runs is not None else new_private_runs()
        self.key, self.everyone = key, bool(everyone) and not key
        self.files_dir = Path(tempfile.mkdtemp(prefix="gan_live_"))
        self._lock = threading.Lock()
        self.modes: collections.OrderedDict[str, str] = collections.OrderedDict()
        self.pending: collections.OrderedDict[str, Any] = collections.OrderedDict()   # settings before a run
        self.lecturers: set[str] = set()
        self.key_misses: collections.OrderedDict[str, list[float]] = collections.OrderedDict()   # address → times
        # session → (the config the server just put into the controls, when): the controls then fire one change
        # event each, carrying a mix of old and new values in no reliable order — those echoes are not requests
        self.echo: collections.OrderedDict[str, tuple[Any, float]] = collections.OrderedDict()
        # session → (the 2-D dataset its Dataset box was put back to after an image dataset was refused, when)
        self.refused: collections.OrderedDict[str, tuple[str, float]] = collections.OrderedDict()

    # -------------------------------------------------------------- who may do what to which run

    def default_mode(self) -> str:
        return LECTURER if self.everyone else OWN

    def mode(self, request) -> str:
        s = _session(request)
        with self._lock:
            return self.modes.get(s, self.default_mode()) if s else self.default_mode()

    def _remember(self, table, s: str, value) -> None:
        with self._lock:
            table[s] = value
            table.move_to_end(s)
            while len(table) > MAX_SESSIONS:
                table.popitem(last=False)

    def may_drive(self, request) -> bool:
        return self.everyone or _session(request) in self.lecturers

    def access_text(self, request) -> str:
        if self.everyone:
            return ("*This app runs on this machine only: every browser drives the shared run (start it with "
                    "`--lecturer-key` to serve a class: then each student gets a private run).*")
        if self.may_drive(request):
            return "🔑 **Lecturer**: you drive the lecturer's run (image models too); students can watch it."
        return ("Your own run is private: its Start, Pause, Step, Reset and settings change only it. "
                "The lecturer's run can be watched; only the lecturer drives it.")

    def _default_cfg(self):
        from ganmodels.training import live as T

        return T.preset_config("nonsat")

    def target(self, request, *, create: bool = False, cfg=None):
        """The run an action of this session is for.  gr.Error when the session may not drive it."""
        import gradio as gr

        from ganmodels.training.classroom import CapReached

        if self.mode(request) == LECTURER:
            if not self.may_drive(request):
                raise gr.Error(LECTURER_ONLY)
            return self.shared
        s = _session(request)
        if not s:
            raise gr.Error(NO_SESSION)
        tr = self.runs.get(s)
        if tr is None and create:
            with self._lock:
                pend = self.pending.get(s)
            try:
                tr = self.runs.create(s, cfg or pend or self._default_cfg())
            except CapReached as e:
                raise gr.Error(str(e)) from None
            except (InputError, ValueError, FileNotFoundError, OSError) as e:
                raise gr.Error(str(e)) from None
        if tr is None:
            raise gr.Error("You have no run yet: press Start, One step or Use this preset to start your own.")
        return tr

    def viewed(self, request):
        """The run this session looks at (no run created), or None."""
        if self.mode(request) == LECTURER:
            return self.shared
        return self.runs.get(_session(request))

    def note(self, request, tr) -> str:
        if tr is self.shared:
            return "Showing **the lecturer's run**" + ("" if self.may_drive(request) else " (watching)") + "."
        return "Showing **your own run**."

    def status_text(self, tr=None, request=None) -> str:
        tr = tr or self.shared
        return status_markdown(snapshot_dict(tr.snapshot()), self.note(request, tr) if request is not None else "")

    # -------------------------------------------------------------- the poll

    @staticmethod
    def _frame(snap) -> dict:
        """The snapshot's frame for the browser, encoded once for all its viewers (kept on the snapshot)."""
        if snap.encoded is None:
            snap.encoded = toy_frame(snap)
        return snap.encoded

    def poll(self, shown, request: Any = None):
        """Timer tick of one browser tab: only what changed since this tab's last update."""
        import gradio as gr

        shown = shown if isinstance(shown, dict) else {}
        tr = self.viewed(request)
        if tr is None:
            md = NO_RUN_YET
            if shown.get("md") == md:
                return gr.skip()
            return "", "", md, json.dumps({"kind": "none"}), {"md": md}
        tr.watch()
        snap = tr.snapshot()
        if snap.kind == "image":                   # the lecturer's image run: pictures drawn on the server
            v, view_html, curves_html, md = self.views.get()
            md = md + "\n\n" + self.note(request, tr)
            same_run = shown.get("r") == id(tr)
            if same_run and shown.get("v") == v and shown.get("md") == md:
                return gr.skip()
            new_pics = shown.get("v") != v or not same_run
            data = json.dumps({"kind": "image"}) if shown.get("k") != "image" or not same_run else gr.skip()
            return (view_html if new_pics else gr.skip(), curves_html if new_pics else gr.skip(),
                    md if shown.get("md") != md else gr.skip(), data,
                    {"v": v, "md": md, "r": id(tr), "k": "image"})
        # the status line counts the run's steps now (a busy shared thread takes few snapshots of a run)
        md = status_markdown({**snapshot_dict(snap), "step": max(snap.step, tr.step)}, self.note(request, tr))
        same_run = shown.get("r") == id(tr)
        recent = list(tr.recent)
        last_f = shown.get("f", -1) if same_run else -1
        frames = [f for f in recent if f.version > last_f][-8:] if last_f >= 0 else recent[-1:]
        now = time.monotonic()
        want_curves = (not same_run or (snap.version != shown.get("cv") and
                       (snap.state != "running" or now - shown.get("ct", -1e9) >= CURVES_EVERY_S)))
        payload: dict[str, Any] = {"kind": "toy", "run": id(tr), "extent": snap.extent, "poll_ms": POLL_S * 1000}
        real_id = id(snap.real)
        if not same_run or shown.get("real") != real_id:
            payload["real"] = _b64(snap.real)
        payload["frames"] = [self._frame(f) for f in frames]
        if want_curves:
            payload["curves"] = curves_payload(tr.curves(max_points=300), snap.loss, snap.real_label, snap.fake_label)
        new = {"r": id(tr), "k": "toy", "f": frames[-1].version if frames else last_f, "real": real_id, "md": md,
               "cv": snap.version if want_curves else shown.get("cv"),
               "ct": now if want_curves else shown.get("ct", -1e9)}
        changed = payload["frames"] or want_curves or "real" in payload or shown.get("k") != "toy"
        clear = "" if shown.get("k") == "image" or not same_run else gr.skip()
        return (clear, clear, md if shown.get("md") != md else gr.skip(),
                json.dumps(payload) if changed else gr.skip(), new)

    # -------------------------------------------------------------- actions

    def config(self, *vals, base=None):
        return make_config(*vals, base=base or self.shared.cfg, data_dirs=self.data_dirs)

    def set_mode(self, mode, request: Any = None):
        """The radio: which run this session looks at (and drives, if it may); the settings show that run's."""
        s = _session(request)
        mode = mode if mode in (OWN, LECTURER) else self.default_mode()
        before = self.shown_cfg(request)
        if s:
            self._remember(self.modes, s, mode)
        cfg = self.shown_cfg(request)
        self.expect(request, cfg, before)
        return [*settings_of(cfg), self.access_text(request), ""]

    def unlock(self, key, request: Any = None):
        import hmac

        s = _session(request)
        if not self.key:
            return self.access_text(request)
        # guessing is rate-limited per client address (a new browser session is free to make, an address is not)
        host = str(getattr(getattr(request, "client", None), "host", None) or "?")
        now = time.monotonic()
        with self._lock:
            tries = [t for t in self.key_misses.get(host, ()) if now - t < KEY_WINDOW_S]
            if len(tries) >= KEY_TRIES:
                wait = KEY_WINDOW_S - (now - tries[0])
                return (f"⚠️ Too many wrong keys from this address: try again in {wait:.0f} s. "
                        + self.access_text(request))
        if not isinstance(key, str) or not s or not hmac.compare_digest(key.encode(), self.key.encode()):
            with self._lock:
                self.key_misses[host] = [*tries, now]
                self.key_misses.move_to_end(host)
                while len(self.key_misses) > MAX_SESSIONS:
                    self.key_misses.popitem(last=False)
            return "⚠️ That is not the lecturer key. " + self.access_text(request)
        with self._lock:
            self.lecturers.add(s)
        return self.access_text(request)

    def shown_cfg(self, request):
        """The settings this session's controls show now: its run's, or those waiting for its first run."""
        s = _session(request)
        tr = self.viewed(request)
        return tr.cfg if tr is not None else (self.pending.get(s) if s else None) or self._default_cfg()

    def expect(self, request, cfg, old=None) -> None:
        """The server is putting ``cfg`` into this session's controls, which showed ``old`` (see ``self.echo``)."""
        s = _session(request)
        if s and cfg is not None:
            import dataclasses

            self._remember(self.echo, s, (dataclasses.asdict(cfg), time.monotonic(),
                                          dataclasses.asdict(old) if old is not None else None))

    def _echo(self, request, cfg) -> bool:
        """Whether a settings event is the controls catching up with what the server put there.

        In the first ``ECHO_S`` every event that is not exactly the new settings is an echo.  Later (a busy
        server's queue can hold echoes for longer) only one whose every value is the old or the new one is:
        a real change carries a value that is neither, and it ends the echo phase."""
        import dataclasses

        s = _session(request)
        with self._lock:
            entry = self.echo.get(s) if s else None
        if entry is None:
            return False
        new, t0, old = entry
        got = dataclasses.asdict(cfg)
        if got == new:
            return False
        age = time.monotonic() - t0
        if age < ECHO_S:
            return True
        if old is not None and age < ECHO_MAX_S and all(v == new.get(k) or v == old.get(k) for k, v in got.items()):
            return True
        with self._lock:
            if self.echo.get(s) is entry:
                self.echo.pop(s, None)
        return False

    def apply_settings(self, *vals, request: Any = None):
        """A settings change → (the message under the settings, the Dataset box).  The box changes only
        when a student chose an image dataset for their own run: it goes back to the run's 2-D dataset
        (so that what it shows is what Start trains), and the message stays."""
        import gradio as gr

        from ganmodels.training.live import IMAGE_DATASETS, PRIVATE_IMAGE_MESSAGE

        s = _session(request)
        if self.mode(request) == OWN and vals and vals[0] in IMAGE_DATASETS:   # said first: the image limits
            back = self.shown_cfg(request)                                        # would not matter
            back = back.dataset if back is not None and back.is_toy else "ring"
            if s:
                self._remember(self.refused, s, (back, time.monotonic()))
            return f"⚠️ {PRIVATE_IMAGE_MESSAGE}", back
        with self._lock:
            put_back = self.refused.pop(s, None) if s else None
        msg = self._apply_settings(*vals, request=request)
        if (not msg and put_back is not None and vals and vals[0] == put_back[0]
                and time.monotonic() - put_back[1] < ECHO_MAX_S):
            return gr.skip(), gr.skip()          # the box catching up: the refusal's message stays
        return msg, gr.skip()

    def _apply_settings(self, *vals, request: Any = None) -> str:
        s = _session(request)
        mode = self.mode(request)
        try:
            shown = self.viewed(request)
            if self._echo(request, self.config(*vals, base=shown.cfg if shown is not None
                                               else (self.pending.get(s) if s else None))):
                return ""
            if mode == OWN:
                tr = self.runs.get(s)
                if tr is None:
                    cfg = self.config(*vals, base=self.pending.get(s) if s else None)
                    if not cfg.is_toy:
                        from ganmodels.training.live import PRIVATE_IMAGE_MESSAGE

                        return f"⚠️ {PRIVATE_IMAGE_MESSAGE}"
                    if s:
                        self._remember(self.pending, s, cfg)
                    return ""
                return tr.configure(self.config(*vals, base=tr.cfg))
            cfg = self.config(*vals, base=self.shared.cfg)
            if not self.may_drive(request):
                import dataclasses

                if dataclasses.asdict(cfg) != dataclasses.asdict(self.shared.cfg):
                    return f"⚠️ {LECTURER_ONLY}"
                return ""
            return self.shared.configure(cfg)
        except (InputError, ValueError, FileNotFoundError, OSError) as e:
            return f"⚠️ {e}"

    def start(self, request: Any = None):
        tr = self.target(request, create=True)
        tr.start()
        return self.status_text(tr, request)

    def pause(self, request: Any = None):
        tr = self.target(request)
        tr.pause()
        return self.status_text(tr, request)

    def one_step(self, request: Any = None):
        tr = self.target(request, create=True)
        tr.step_once()
        return self.status_text(tr, request)

    def update_once(self, which: str, n=1, request: Any = None):
        import gradio as gr

        tr = self.target(request, create=True)
        try:
            tr.update_once(which, 1 if n is None else n)
        except (InputError, ValueError) as e:
            raise gr.Error(str(e)) from None
        return self.status_text(tr, request)

    def step_d(self, n=1, request: Any = None):
        return self.update_once("D", n, request)

    def step_g(self, n=1, request: Any = None):
        return self.update_once("G", n, request)

    def slow_motion(self, request: Any = None):
        import gradio as gr

        tr = self.target(request, create=True)
        try:
            ph = tr.slow_iteration()
        except (InputError, ValueError) as e:
            raise gr.Error(str(e)) from None
        return self.status_text(tr, request), json.dumps(phases_payload(ph))

    def reset(self, *vals, request: Any = None):
        import gradio as gr

        try:
            if self.mode(request) == OWN and self.runs.get(_session(request)) is None:
                s = _session(request)
                cfg = self.config(*vals, base=self.pending.get(s) if s else None)
                tr = self.target(request, create=True, cfg=cfg)
            else:
                tr = self.target(request)
                tr.reset(self.config(*vals, base=tr.cfg))
        except (InputError, ValueError, FileNotFoundError, OSError) as e:
            raise gr.Error(str(e)) from None
        return self.status_text(tr, request), ""

    @staticmethod
    def _preset(name):
        import gradio as gr

        from ganmodels.training import live as T

        if not isinstance(name, str) or name not in T.PRESETS:
            raise gr.Error(f"unknown preset {name!r}")
        return T.PRESETS[name]

    def explain(self, name) -> str:
        """A preset's paragraph, and for one that starts from a shipped state the numbers measured from it."""
        p = self._preset(name)
        if p.start is None:
            return p.explain
        from ganmodels.training import toy_state

        entry = None
        if self.store is not None:
            try:
                entry = (self.store.manifest or {}).get("files", {}).get(p.start)
            except Exception:  # noqa: BLE001 -- no manifest: the paragraph alone
                entry = None
        extra = toy_state.measured_markdown(entry)
        return p.explain + ("\n\n" + extra if extra else "")

    def choose_preset(self, name):
        return self.explain(name)

    def _start_state(self, p, tr) -> None:
        """Load the trained state preset ``p`` starts from into ``tr`` (gr.Error when it is not shipped)."""
        import gradio as gr

        from ganmodels.weights import WeightsError

        if self.store is None:
            raise gr.Error(f"this preset starts from a trained state ({p.start}), and no weights folder is loaded")
        try:
            path = self.store.path(p.start)
            from ganmodels import weights as W

            man = self.store.manifest_for_check()
            if man is not None:
                W.verify(path, man)
            tr.load(path)
        except (WeightsError, ValueError, FileNotFoundError, OSError) as e:
            raise gr.Error(f"the trained state {p.start} could not be loaded ({e}). Make it with: python -m "
                           "ganmodels.train toy_state --preset nonsat --steps 2000 --export weights") from None

    def use_preset(self, name, request: Any = None):
        import gradio as gr

        from ganmodels.training import live as T

        explain = self.explain(name)
        cfg = T.preset_config(name)
        if self.mode(request) == OWN and cfg.dataset in T.IMAGE_DATASETS:
            # a toast and the message under the settings, not gr.Error: an error marks every output (each
            # setting) with an error badge that hides its value
            gr.Warning(T.PRIVATE_IMAGE_MESSAGE)
            return [gr.skip()] * (len(SETTING_NAMES) + 2) + [f"⚠️ {T.PRIVATE_IMAGE_MESSAGE}"]
        before = self.shown_cfg(request)
        if self.mode(request) == OWN and self.runs.get(_session(request)) is None:
            tr = self.target(request, create=True, cfg=cfg)
        else:
            tr = self.target(request)
            try:
                tr.reset(cfg)
            except (ValueError, FileNotFoundError, OSError) as e:
                raise gr.Error(str(e)) from None
        if self._preset(name).start is not None:
            self._start_state(self._preset(name), tr)
        self.expect(request, tr.cfg, before)
        return [*settings_of(cfg), explain, self.status_text(tr, request), ""]

    def _write(self, write, name: str):
        """A file written by ``write(path)`` for the Download box; a full disk gets a clear message."""
        import gradio as gr

        try:
            return str(write(self.files_dir / name))
        except ValueError as e:
            raise gr.Error(str(e)) from None
        except OSError as e:
            raise gr.Error(f"could not write the file on the server: {e.strerror or e} "
                           "(is its disk full?). The run itself is not affected.") from None

    def _readable(self, request):
        """The run a save/export reads: the one this session looks at (watching is enough)."""
        import gradio as gr

        tr = self.viewed(request)
        if tr is None:
            raise gr.Error("You have no run yet: press Start to start your own.")
        return tr

    def save(self, request: Any = None):
        tr = self._readable(request)
        return self._write(tr.save, f"live_run_step{tr.step}.safetensors")

    def export_gif(self, request: Any = None):
        tr = self._readable(request)
        return self._write(tr.export_gif, f"timelapse_step{tr.step}.gif")

    def export_csv(self, request: Any = None):
        tr = self._readable(request)
        return self._write(tr.export_csv, f"curves_step{tr.step}.csv")

    def load(self, path, request: Any = None):
        import gradio as gr

        from ganmodels.weights import WeightsError

        if not path:
            return gr.skip()
        tr = self.target(request, create=True)
        before = tr.cfg
        try:
            tr.load(path)
        except (WeightsError, ValueError, FileNotFoundError, OSError) as e:
            raise gr.Error(f"could not load {os.path.basename(str(path))}: {e}") from None
        self.expect(request, tr.cfg, before)
        return [*settings_of(tr.cfg), self.status_text(tr, request)]

    def from_link(self, query, request: Any = None):
        """The page was opened with a shared link: its preset and settings into the controls (the run
        changes when its owner presses Start or Reset, as with settings typed in)."""
        import gradio as gr

        n = len(SETTING_NAMES) + 1
        if not isinstance(query, str) or not query.strip("?"):
            return [gr.skip()] * (n + 1)
        try:
            cfg, preset = settings_from_query(query, self.data_dirs)
        except (InputError, ValueError) as e:
            return [gr.skip()] * n + [f"⚠️ The link's settings were not applied: {e}"]
        s = _session(request)
        before = self.shown_cfg(request)
        if s and cfg.is_toy and self.mode(request) == OWN and self.runs.get(s) is None:
            self._remember(self.pending, s, cfg)        # the run Start makes has them (settings events may lag)
        self.expect(request, cfg, before)
        return [*settings_of(cfg), preset if preset else gr.skip(),
                "Settings from the link: press **Reset** (or **Start** for a new run of your own) to train with them."]

    def draw(self, value):
        import gradio as gr

        pts = points_from_canvas(value)
        return points_text(pts) if pts else gr.skip()

    def unload(self, request: Any = None):
        """The browser tab was closed: its private run stops and is freed now."""
        s = _session(request)
        if s:
            self.runs.release(s)
            with self._lock:
                self.modes.pop(s, None)
                self.pending.pop(s, None)
                self.echo.pop(s, None)
                self.lecturers.discard(s)


def _wire(t: _Tab, h: _Handlers) -> None:
    """Connect the components' events to the handlers, with their public API names."""
    import gradio as gr

    cheap = dict(trigger_mode="always_last", show_progress="hidden", concurrency_limit=None)
    once = dict(concurrency_limit=None)
    R = gr.Request

    def req(fn):
        """``fn`` given Gradio's request (Gradio fills a leading parameter typed gr.Request): which
        session an event comes from decides which run it is for."""
        def wrapped(request, *args):
            return fn(*args, request=request)
        wrapped.__annotations__ = {"request": R}
        wrapped.__name__ = fn.__name__
        return wrapped

    draw = DRAW_JS.replace("__LAYERS__", json.dumps(list(LAYERS)))
    # the poll is a quick request like a slider move: served outside the queue (demo.common.LIVE)
    t.timer.tick(req(h.poll), [t.last], [t.view, t.curves, t.status, t.data, t.last], api_name="training_poll",
                 **cheap, queue=False).then(None, [t.data, t.layers], None, js=draw)
    t.layers.change(None, [gr.State(""), t.layers], None, js=draw)
    t.mode.change(req(h.set_mode), t.mode, [*t.settings, t.access_md, t.settings_msg], api_name="training_mode",
                  **cheap)
    if t.unlock is not None:
        t.unlock.click(req(h.unlock), t.key, t.access_md, api_name="training_unlock", **once)
        t.key.submit(req(h.unlock), t.key, t.access_md, api_visibility="private", **once)
    # one at a time, in the order they were sent: a preset, a link or a switch of run sets all the settings at
    # once, and their change events carry the values of their moment — the last one sent must be applied last
    for comp in t.settings:
        comp.change(req(h.apply_settings), t.settings, [t.settings_msg, t.settings[0]], api_visibility="private",
                    **{**cheap, "concurrency_limit": 1, "concurrency_id": "training_settings"})
    t.start.click(req(h.start), None, t.status, api_name="training_start", **cheap)
    t.pause.click(req(h.pause), None, t.status, api_name="training_pause", **cheap)
    t.step.click(req(h.one_step), None, t.status, api_name="training_step", **once)
    t.step_d.click(req(h.step_d), t.updates, t.status, api_name="training_step_d", **once)
    t.step_g.click(req(h.step_g), t.updates, t.status, api_name="training_step_g", **once)
    t.slow.click(req(h.slow_motion), None, [t.status, t.phase_data], api_name="training_slow_motion",
                 **once).then(None, [t.phase_data, t.pace], None, js=PHASE_JS)
    t.next_phase.click(None, None, None, js=NEXT_PHASE_JS)
    t.reset.click(req(h.reset), t.settings, [t.status, t.settings_msg], api_name="training_reset", **once)
    t.preset.change(h.choose_preset, t.preset, t.preset_md, api_visibility="private", **cheap)
    t.use_preset.click(req(h.use_preset), t.preset, [*t.settings, t.preset_md, t.status, t.settings_msg],
                       api_name="training_preset", **once)
    t.save.click(req(h.save), None, t.out_file, api_name="training_save", **once)
    t.gif.click(req(h.export_gif), None, t.out_file, api_name="training_export_gif", **once)
    t.csv.click(req(h.export_csv), None, t.out_file, api_name="training_export_csv", **once)
    t.load_file.upload(req(h.load), t.load_file, [*t.settings, t.status], api_name="training_load", **once)
    t.link.click(None, [t.preset, *t.settings], [t.link_box],
                 js=LINK_JS.replace("__NAMES__", json.dumps(list(SETTING_NAMES))))
    t.query.change(req(h.from_link), t.query, [*t.settings, t.preset, t.settings_msg], api_visibility="private",
                   **once)
    from gradio.context import Context

    if Context.root_block is not None:     # a page opened with a shared link: read its query string
        Context.root_block.load(None, None, [t.query], js=QUERY_JS)
    t.canvas.change(h.draw, t.canvas, t.points_box, api_visibility="private",
                    **{**cheap, "concurrency_id": "decode", "concurrency_limit": 2})   # it decodes an image
