"""Live training tab: watch a GAN learn — 2-D toys (GAN Lab style) up to MNIST digits.

One run per app: a ``ganmodels.training.live.Trainer`` (``ctx.trainer``) owns it and
its single background thread.  Every browser tab polls the trainer's latest snapshot with an always-active
``gr.Timer`` and skips the update when nothing changed, so all tabs show the same run
and closing a tab does not touch it.  Pictures are rendered (matplotlib) once per
snapshot and shared by every viewer.

Pure functions first (settings → RunConfig, snapshot → pictures), then ``build(ctx)``:
layout, handlers and their wiring.
"""
from __future__ import annotations

import base64
import io
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
**The game.** G turns noise $z\sim\mathcal N(0,I)$ into samples; D scores how real a sample looks — for the minimax and
non-saturating losses as a probability $D(x)=\sigma(\text{logit})$; LSGAN's D outputs a regression value, a WGAN critic and a
hinge D an unbounded score (the curves plot what the chosen loss's D outputs, labelled).
Training alternates **k steps of D**, descending $-\tfrac1m\sum_i[\log D(x^{(i)})+\log(1-D(G(z^{(i)})))]$ (or the chosen loss),
and **one step of G**, descending its loss — the same loop (`ganmodels.training.loop.train_loop`) as the command-line trainer.
**Step** does one iteration of the loop: k D steps, then one G step, to walk through the algorithm.

*2-D data:* blue = real points, red = $G(z)$ for 500 $z$ fixed at the start, background = $\sigma(\text{D's output})$ over the plane
(green: D says real, purple: D says fake; for LSGAN, WGAN and hinge σ only maps the score to a colour — not a probability), arrows $-\nabla_x L_G$ = where G's loss pushes each sample (as in GAN Lab).
*Images:* the grid shows $G(z_i)$ for $z_i$ fixed at the start of the run.

**Metrics** (unrolled GAN / VEEGAN, on 2,500 samples from fixed $z$): a sample is *high-quality* if it lies within $3\sigma$
of its nearest mode; a mode is *covered* if at least 20 high-quality samples have it as their nearest mode.
**Label smoothing** (Salimans et al. 2016) trains D towards 0.9 instead of 1 on real samples and keeps 0 for fakes
(*one-sided*: they smooth only the real labels and advise against smoothing the fakes). It enters the minimax, non-saturating
and LSGAN losses; the WGAN critics (WGAN-GP, weight clipping) and the hinge loss have no labels, so for them it does not apply.

Digits: *recognised* = share of the fixed-$z$ grid that the project's MNIST classifier labels with top probability ≥ 0.9
(with how many different digits among them: 36 confident copies of one digit would be mode collapse, not success).
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
                 "points_text", "folder")


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
            points_text(cfg.points or []), cfg.folder]


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
                                          "fake", "arrows", "field", "grid", "metrics")}


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


def exit_with_parent(parent_pid: int, every_s: float = 1.0) -> None:
    """Run in the drawing helper process: end it when the app that started it is gone.

    A helper whose app was killed (not shut down) would otherwise wait for work forever.
    """
    def watch():
        while True:
            time.sleep(every_s)
            if os.getppid() != parent_pid:
                os._exit(0)
    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


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
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=exit_with_parent, initargs=(os.getpid(),))
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


# ---------------------------------------------------------------- the tab


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
    last: Any                # per browser tab: {"v": picture version shown, "md": status shown}
    timer: Any


def build(ctx: AppContext):
    """The Live training tab: the app's one run (``ctx.trainer``, created here if the app has
    none) and its pictures (``ctx.training_views``); both are closed by ``ctx.close()``."""
    if ctx.trainer is None:
        ctx.trainer = new_trainer(device=ctx.device, classifier=ctx.models.get("classifier"),
                                  data_dirs=ctx.data_dirs)
    trainer = ctx.trainer
    views = ctx.training_views = Views(trainer)
    # the first pictures now, at start-up: a process's first matplotlib figure is slow, and drawn in
    # the first poll it would keep every student who opens the tab in that moment waiting
    views.get(wait=True)
    tab = _layout(trainer, ctx.max_pixels)
    _wire(tab, _Handlers(trainer, views, ctx.data_dirs))
    return trainer


def _layout(trainer, max_pixels: int) -> _Tab:
    import gradio as gr

    from ganmodels.training import live as T

    gr.Markdown("## Watch a GAN learn\n" + EXPLAIN, latex_delimiters=LATEX)
    with gr.Row():
        preset = gr.Dropdown([(p.title, k) for k, p in T.PRESETS.items()], value="nonsat",
                             label="Preset (an example that teaches one thing)", scale=3)
        use_preset = gr.Button("Use this preset (resets the run)", scale=1)
    preset_md = gr.Markdown(T.PRESETS["nonsat"].explain, latex_delimiters=LATEX)
    with gr.Row():
        start = gr.Button("Start / resume", variant="primary")
        pause = gr.Button("Pause")
        step = gr.Button("One step (k D steps + 1 G step)")
        reset = gr.Button("Reset (apply all settings)")
    status = gr.Markdown(status_markdown(snapshot_dict(trainer.snapshot())))
    with gr.Row():
        view = gr.HTML("", label="samples")
        curves = gr.HTML("", label="curves")
    with gr.Accordion("Settings", open=False):
        settings, canvas, points_box = _layout_settings(trainer.cfg, max_pixels)
    settings_msg = gr.Markdown("")
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
                last=gr.State({}), timer=gr.Timer(POLL_S, active=True))


def _layout_settings(cfg0, max_pixels: int) -> tuple[list, Any, Any]:
    """The settings components (SETTING_NAMES order), the drawing canvas and the points box."""
    import gradio as gr

    from ganmodels.data import fashion_available
    from ganmodels.losses import LOSS_NAMES, LOSSES
    from ganmodels.training import live as T

    with gr.Row():
        shown = [d for d in T.DATASETS if d != "fashion" or fashion_available()]
        dataset = gr.Dropdown([(T.DATASET_NAMES[d], d) for d in shown], value=cfg0.dataset,
                              label="Dataset (Fashion-MNIST appears when dataset-fashion-mnist is installed)")
        loss = gr.Dropdown([(LOSS_NAMES[l], l) for l in LOSSES], value=cfg0.loss, label="Loss")
        labels = gr.Dropdown(list(LABELS), value=settings_of(cfg0)[7], label="Label smoothing", info=LABELS_INFO)
    gr.Markdown(losses_markdown(), latex_delimiters=LATEX)
    with gr.Row():
        lr_g = gr.Number(cfg0.lr_g, label="Learning rate G")
        lr_d = gr.Number(cfg0.lr_d, label="Learning rate D")
        k = gr.Slider(*T.LIMITS["k"], value=cfg0.k, step=1, label="k: D steps per G step")
    with gr.Row():   # the ranges are the trainer's own (live.LIMITS): what a slider offers is accepted
        batch = gr.Slider(*T.LIMITS["batch"], value=cfg0.batch, step=2,
                          label=f"Batch size (needs reset; images: at most {T.IMAGE_LIMITS['batch'][1]})")
        z_dim = gr.Slider(*T.LIMITS["z_dim"], value=cfg0.z_dim, step=1, label="Latent size dim z (needs reset)")
        seed = gr.Number(cfg0.seed, precision=0, label="Seed (needs reset)")
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
    return [dataset, loss, lr_g, lr_d, k, batch, z_dim, labels, seed, points_box, folder], canvas, points_box


class _Handlers:
    """The tab's event handlers: one-liners over the trainer and the pure functions above."""

    def __init__(self, trainer, views: Views, data_dirs):
        self.trainer, self.views, self.data_dirs = trainer, views, tuple(data_dirs)
        self.files_dir = Path(tempfile.mkdtemp(prefix="gan_live_"))

    def status_text(self) -> str:
        return status_markdown(snapshot_dict(self.trainer.snapshot()))

    def poll(self, shown):
        """Timer tick of one browser tab: only what changed since this tab's last update."""
        import gradio as gr

        v, view_html, curves_html, md = self.views.get()
        shown = shown if isinstance(shown, dict) else {}
        if shown.get("v") == v and shown.get("md") == md:
            return gr.skip()
        new_pics = shown.get("v") != v
        return (view_html if new_pics else gr.skip(), curves_html if new_pics else gr.skip(),
                md if shown.get("md") != md else gr.skip(), {"v": v, "md": md})

    def config(self, *vals):
        return make_config(*vals, base=self.trainer.cfg, data_dirs=self.data_dirs)

    def apply_settings(self, *vals):
        try:
            return self.trainer.configure(self.config(*vals))
        except (InputError, ValueError, FileNotFoundError, OSError) as e:
            return f"⚠️ {e}"

    def start(self):
        self.trainer.start()
        return self.status_text()

    def pause(self):
        self.trainer.pause()
        return self.status_text()

    def one_step(self):
        self.trainer.step_once()
        return self.status_text()

    def reset(self, *vals):
        import gradio as gr

        try:
            self.trainer.reset(self.config(*vals))
        except (InputError, ValueError, FileNotFoundError, OSError) as e:
            raise gr.Error(str(e)) from None
        return self.status_text(), ""

    @staticmethod
    def _preset(name):
        import gradio as gr

        from ganmodels.training import live as T

        if not isinstance(name, str) or name not in T.PRESETS:
            raise gr.Error(f"unknown preset {name!r}")
        return T.PRESETS[name]

    def choose_preset(self, name):
        return self._preset(name).explain

    def use_preset(self, name):
        import gradio as gr

        from ganmodels.training import live as T

        explain = self._preset(name).explain
        cfg = T.preset_config(name)
        try:
            self.trainer.reset(cfg)
        except (ValueError, FileNotFoundError, OSError) as e:
            raise gr.Error(str(e)) from None
        return [*settings_of(cfg), explain, self.status_text(), ""]

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

    def save(self):
        return self._write(self.trainer.save, f"live_run_step{self.trainer.step}.safetensors")

    def export_gif(self):
        return self._write(self.trainer.export_gif, f"timelapse_step{self.trainer.step}.gif")

    def export_csv(self):
        return self._write(self.trainer.export_csv, f"curves_step{self.trainer.step}.csv")

    def load(self, path):
        import gradio as gr

        from ganmodels.weights import WeightsError

        if not path:
            return gr.skip()
        try:
            self.trainer.load(path)
        except (WeightsError, ValueError, FileNotFoundError, OSError) as e:
            raise gr.Error(f"could not load {os.path.basename(str(path))}: {e}") from None
        return [*settings_of(self.trainer.cfg), self.status_text()]

    def draw(self, value):
        import gradio as gr

        pts = points_from_canvas(value)
        return points_text(pts) if pts else gr.skip()


def _wire(t: _Tab, h: _Handlers) -> None:
    """Connect the components' events to the handlers, with their public API names."""
    cheap = dict(trigger_mode="always_last", show_progress="hidden", concurrency_limit=None)
    once = dict(concurrency_limit=None)
    # the poll is a quick request like a slider move: served outside the queue (demo.common.LIVE)
    t.timer.tick(h.poll, [t.last], [t.view, t.curves, t.status, t.last], api_name="training_poll", **cheap,
                 queue=False)
    for comp in t.settings:
        comp.change(h.apply_settings, t.settings, t.settings_msg, api_visibility="private", **cheap)
    t.start.click(h.start, None, t.status, api_name="training_start", **cheap)
    t.pause.click(h.pause, None, t.status, api_name="training_pause", **cheap)
    t.step.click(h.one_step, None, t.status, api_name="training_step", **once)
    t.reset.click(h.reset, t.settings, [t.status, t.settings_msg], api_name="training_reset", **once)
    t.preset.change(h.choose_preset, t.preset, t.preset_md, api_visibility="private", **cheap)
    t.use_preset.click(h.use_preset, t.preset, [*t.settings, t.preset_md, t.status, t.settings_msg],
                       api_name="training_preset", **once)
    t.save.click(h.save, None, t.out_file, api_name="training_save", **once)
    t.gif.click(h.export_gif, None, t.out_file, api_name="training_export_gif", **once)
    t.csv.click(h.export_csv, None, t.out_file, api_name="training_export_csv", **once)
    t.load_file.upload(h.load, t.load_file, [*t.settings, t.status], api_name="training_load", **once)
    t.canvas.change(h.draw, t.canvas, t.points_box, api_visibility="private",
                    **{**cheap, "concurrency_id": "decode", "concurrency_limit": 2})   # it decodes an image
