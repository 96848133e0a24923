"""Theory & metrics tab: the lecture's formulas drawn live, and the project's measured figures beside them.

1. the optimal discriminator D* = p_data / (p_data + p_g) and V(D*, G) = −log 4 + 2·JSD (Goodfellow et al. 2014);
2. the Dirac-GAN: why gradient steps need not reach the equilibrium, and how R1 fixes it (Mescheder et al. 2018);
3. the saturating vs non-saturating generator loss as functions of D(G(z)) (Goodfellow et al. 2014, §3);
4. Inception Score and FID — formulas, toy examples, and the classifier-FID the project measured
   (read from ``weights/manifest.json`` through ``ctx.store``, never typed here);
5. the scale and unit of every number the app shows.

Pure functions first (numbers in, images/Markdown out; the maths is in ``ganmodels.theory``), then ``build(ctx)``.
"""
from __future__ import annotations

import argparse
import inspect
import math
import shlex
import threading

import numpy as np

from demo.common import LIVE, InputError, Slider, as_float, as_int, quick
from demo.context import AppContext
from demo.helper import Helper
from ganmodels import theory as T
from ganmodels.metrics import sample_quality
# (the model modules import torch — 0.4 GB — and are imported where they are used, so that the drawing
# helper process, which imports this module for its figures, does without it)

REQUIRES: tuple[str, ...] = ()      # nothing but the manifest: the tab works even when no model loads

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

P_DATA = {"one Gaussian N(0, 1)": ((0.0,), (1.0,)),
          "two Gaussians N(±2, 0.5²)": ((-2.0, 2.0), (0.5, 0.5))}
UPDATES = ("simultaneous", "alternating")
X_GRID = np.linspace(-15.0, 15.0, 6001)      # the 1-D densities are integrated on this grid
START = (1.0, 1.0)                           # the Dirac-GAN's starting point (θ₀, ψ₀)
N_CLASSES = 10
DPI = 100
# the threshold behind the manifest's confident_share (the evaluate command's sample_quality default)
CONFIDENT = inspect.signature(sample_quality).parameters["threshold"].default

# Matplotlib's figure machinery is not thread-safe: handlers run in parallel, one figure is drawn at a time.
_DRAW = threading.Lock()


def _render(fig) -> np.ndarray:
    """A matplotlib Figure (Agg canvas) → uint8 RGB array."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


# Each view's figure is built once (in whichever process draws it) and then only updated: a new figure with
# its axes, ticks and constrained layout cost 0.2-0.5 s per slider move, most of it laying out and rasterising
# text.  The layout is solved at the first drawing and then kept (``set_layout_engine("none")``).  What a
# slider changes is drawn "animated" (blitting): the rest of the figure (axes, ticks, labels, static curves) is
# rasterised once per background key (the axis limits it depends on) and pasted back; only the moving
# artists are drawn again, in the order listed in ``st["dynamic"]``.
_KEPT: dict[str, dict] = {}
_BACKGROUNDS_KEPT = 16          # backgrounds per view, the most recently used (each one figure's pixels, ≤ 1.4 MB)


def _kept(key: str, w: float, h: float, build) -> dict:
    """The kept figure of a view: {"fig": Figure, "dynamic": [...], ...artists that ``build(fig, st)`` stored}."""
    st = _KEPT.get(key)
    if st is None:
        st = {"fig": _figure(w, h), "dynamic": [], "backgrounds": {}}
        build(st["fig"], st)
        _KEPT[key] = st
    return st


def _animate(st: dict, *artists):
    """Mark artists as redrawn on every update (drawn after the background, in this order)."""
    for a in artists:
        a.set_animated(True)
        st["dynamic"].append(a)
    return artists[0] if len(artists) == 1 else artists


def _swap(st: dict, old, new):
    """Replace a dynamic artist (a fill redrawn with new data) in its place in the drawing order."""
    new.set_animated(True)
    if old is None:
        st["dynamic"].append(new)
    else:
        st["dynamic"][st["dynamic"].index(old)] = new
        old.remove()
    return new


def _render_kept(st: dict, background_key=None) -> np.ndarray:
    fig = st["fig"]
    canvas = fig.canvas
    bg = st["backgrounds"].pop(background_key, None)
    if bg is None:
        canvas.draw()                          # everything but the animated artists (and the layout, once)
        if not st.get("frozen"):
            fig.set_layout_engine("none")
            st["frozen"] = True
        bg = canvas.copy_from_bbox(fig.bbox)
        if len(st["backgrounds"]) >= _BACKGROUNDS_KEPT:
            st["backgrounds"].pop(next(iter(st["backgrounds"])))     # the least recently used
    else:
        canvas.restore_region(bg)
    st["backgrounds"][background_key] = bg                             # now the most recently used
    for a in st["dynamic"]:
        fig.draw_artist(a)
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def _figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _choice(value, options, name: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise InputError(f"{name} must be one of: {', '.join(options)} (got {value!r}).")
    return value


# ---------------------------------------------------------------- 1. the optimal discriminator


def optimal_d(p_data: str, mu_g, sigma_g) -> dict:
    """D* and V(D*, G) for the chosen p_data and p_g = N(mu_g, sigma_g²): arrays and numbers (nats)."""
    p_data = _choice(p_data, P_DATA, "p_data")
    mu_g = as_float(mu_g, "Mean of p_g", -5, 5)
    sigma_g = as_float(sigma_g, "Width σ of p_g", 0.2, 3)
    means, stds = P_DATA[p_data]
    x = X_GRID
    ld, lg = T.mixture_logpdf(x, means, stds), T.gaussian_logpdf(x, mu_g, sigma_g)
    return {"x": x, "p_data": np.exp(ld), "p_g": np.exp(lg), "d_star": T.optimal_d_log(ld, lg),
            "value": T.value_at_optimum(x, ld, lg), "jsd": T.jsd(x, ld, lg)}


# the densities are drawn on the visible part of the grid, every 4th point (0.02 units of x apart)
_SHOWN = np.nonzero(np.abs(X_GRID) <= 7.5)[0][::4]


def _optimal_d_build(fig, st) -> None:
    ax = fig.add_subplot(1, 1, 1)
    x = X_GRID[_SHOWN]
    st["ax"], st["x"] = ax, x
    st["fill_data"] = _animate(st, ax.fill_between(x, np.zeros_like(x), color="#1f77b4", alpha=0.25))
    st["fill_g"] = _animate(st, ax.fill_between(x, np.zeros_like(x), color="#d62728", alpha=0.2))
    (st["data"],) = ax.plot(x, np.zeros_like(x), color="#1f77b4", label="p_data(x)")
    (st["g"],) = ax.plot(x, np.zeros_like(x), color="#d62728", label="p_g(x)")
    _animate(st, st["data"], st["g"])
    ax.set_xlim(-7, 7)
    ax.set_xlabel("x")
    ax.set_ylabel("density (1 / unit of x)")
    ax2 = ax.twinx()
    (st["d"],) = ax2.plot(x, np.zeros_like(x), color="black", lw=2, label="D*(x)")
    ax2.axhline(0.5, color="grey", ls=":", lw=1)
    ax2.set_ylim(-0.02, 1.02)
    ax2.set_ylabel("D*(x): probability 'real' (0–1)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    _animate(st, ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8), st["d"])   # D* over the legend, as ax2 is
    st["title"] = _animate(st, ax.set_title(" ", fontsize=10))


def _nice_top(y: float) -> float:
    """The density axis' top: the next multiple of 0.1 (a few backgrounds serve every slider setting)."""
    return math.ceil(y * 10 - 1e-9) / 10


def optimal_d_view(p_data, mu_g, sigma_g) -> tuple[np.ndarray, str]:
    r = optimal_d(p_data, mu_g, sigma_g)
    with _DRAW:
        st = _kept("optimal_d", 8.0, 3.2, _optimal_d_build)
        ax, x = st["ax"], st["x"]
        pd_, pg = r["p_data"][_SHOWN], r["p_g"][_SHOWN]
        for key, y, colour, alpha in (("fill_data", pd_, "#1f77b4", 0.25), ("fill_g", pg, "#d62728", 0.2)):
            st[key] = _swap(st, st[key], ax.fill_between(x, y, color=colour, alpha=alpha))
        st["data"].set_ydata(pd_)
        st["g"].set_ydata(pg)
        st["d"].set_ydata(r["d_star"][_SHOWN])
        top = _nice_top(1.05 * float(max(pd_.max(), pg.max())))
        ax.set_ylim(0, top)
        st["title"].set_text(f"V(D*, G) = {r['value']:.3f} nats   (−log 4 = {-T.LOG4:.3f} nats at p_g = p_data)")
        img = _render_kept(st, top)
    md = (f"**V(D\\*, G) = {r['value']:.4f} nats**; JSD(p_data ‖ p_g) = {r['jsd']:.4f} nats (0 … log 2 = "
          f"{T.LOG2:.4f}); check: −log 4 + 2·JSD = {-T.LOG4 + 2 * r['jsd']:.4f} nats. "
          f"The gap to the minimum −log 4 = {-T.LOG4:.4f} nats is {r['value'] + T.LOG4:.4f} nats = 2·JSD: "
          "what G still has to gain against the best D. With two data modes, no single Gaussian p_g reaches "
          "−log 4; covering one mode well (mean ±2, σ 0.5) is one way to lower the JSD — the seed of mode collapse.")
    return img, md


# ---------------------------------------------------------------- 2. the Dirac-GAN


def dirac_settings(update, lr, gamma, steps) -> tuple[str, float, float, int]:
    """The Dirac-GAN controls, checked (InputError says what is wrong)."""
    return (_choice(update, UPDATES, "Update"), as_float(lr, "Learning rate h", 0.01, 0.5),
            as_float(gamma, "R1 weight γ", 0.0, 5.0), as_int(steps, "Steps", 10, 2000))


def dirac_runs(update: str, lr: float, gamma: float, steps: int) -> dict[str, np.ndarray]:
    """The three trajectories in the (θ, ψ) plane: GAN, WGAN-style (both unregularised) and GAN + R1."""
    kw = dict(lr=lr, steps=steps, alternating=update == "alternating")
    return {"GAN (no regulariser)": T.dirac_gan(*START, loss="gan", **kw),
            "WGAN-style f(t) = t (no regulariser)": T.dirac_gan(*START, loss="wgan", **kw),
            f"GAN + R1, γ = {gamma:g}": T.dirac_gan(*START, loss="gan", gamma=gamma, **kw)}


def _end(tr: np.ndarray, steps: int) -> str:
    if len(tr) <= steps:
        return f"**diverged**: beyond {T.DIVERGED:g} after {len(tr) - 1} steps"
    return f"{np.hypot(*tr[-1]):.3g}"


DIRAC_COLOURS = ("#d62728", "#ff7f0e", "#2ca02c")
STEP_AXIS = (50, 100, 200, 300, 500, 1000, 1500, 2000)   # where the distance plot's step axis ends


def _dirac_build(fig, st) -> None:
    from matplotlib.ticker import MaxNLocator

    ax, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    st["ax"], st["ax2"], st["quiver"] = ax, ax2, None
    st["paths"] = [ax.plot([], [], color=c, lw=1.2, label=" ")[0] for c in DIRAC_COLOURS]
    st["dists"] = [ax2.plot([], [], color=c)[0] for c in DIRAC_COLOURS]
    st["quiver_ext"] = None
    ax2.set_yscale("log")
    ax.plot(*START, "ko", ms=4)
    ax.plot(0, 0, marker="*", color="black", ms=10, ls="none", label="equilibrium (0, 0)")
    ax.set_aspect("equal")
    for axis in (ax.xaxis, ax.yaxis):         # whole-number ticks: labels as wide as the kept layout's
        axis.set_major_locator(MaxNLocator(nbins=7, integer=True))
    ax.set_xlabel("θ (G's position; the data is at 0)")
    ax.set_ylabel("ψ (D's slope)")
    ax.set_title("trajectories in the (θ, ψ) plane; grey: GAN's gradient field", fontsize=9)
    st["legend"] = ax.legend(fontsize=7, loc="lower left")
    _animate(st, *st["paths"], st["legend"], *st["dists"])
    ax2.set_xlabel("step")
    ax2.set_ylabel("distance to (0, 0): √(θ² + ψ²) (log scale)")
    ax2.set_title("does it converge?", fontsize=9)
    ax2.grid(True, which="both", alpha=0.3)


def dirac_view(update, lr, gamma, steps) -> tuple[np.ndarray, str]:
    update, lr, gamma, steps = dirac_settings(update, lr, gamma, steps)
    runs = dirac_runs(update, lr, gamma, steps)
    with _DRAW:
        st = _kept("dirac", 9.0, 3.8, _dirac_build)
        ax, ax2 = st["ax"], st["ax2"]
        # the plane's half-width, to the next 0.5 (a few backgrounds serve every setting)
        ext = math.ceil(2 * min(6.0, max(2.0, 1.1 * max(float(np.abs(t).max()) for t in runs.values())))) / 2
        if st["quiver_ext"] != ext:
            g = np.linspace(-ext, ext, 15)
            TH, PS = np.meshgrid(g, g)
            u, v = T.dirac_field(TH, PS, loss="gan")
            if st["quiver"] is not None:
                st["quiver"].remove()
            st["quiver"], st["quiver_ext"] = ax.quiver(TH, PS, u, v, color="#bbbbbb", width=0.003), ext
        dmin, dmax = np.inf, 0.0
        for (name, tr), path, dist, text in zip(runs.items(), st["paths"], st["dists"], st["legend"].get_texts()):
            path.set_data(tr[:, 0], tr[:, 1])
            path.set_label(name)
            text.set_text(name)
            dd = np.hypot(tr[:, 0], tr[:, 1]) + 1e-12
            dist.set_data(np.arange(len(tr)), dd)
            dmin, dmax = min(dmin, float(dd.min())), max(dmax, float(dd.max()))
        ax.set_xlim(-ext, ext)
        ax.set_ylim(-ext, ext)
        # the distance axis in blocks of 4 decades and the step axis to a round number: few backgrounds
        decades = (4 * math.floor(min(-1, math.floor(math.log10(dmin))) / 4), max(1, math.ceil(math.log10(dmax))))
        last = next(n for n in STEP_AXIS if n >= steps)
        ax2.set_xlim(0, last)
        ax2.set_ylim(10.0 ** decades[0], 10.0 ** decades[1])
        img = _render_kept(st, (ext, decades, last))
    rows = "\n".join(f"| {name} | {np.hypot(*tr[0]):.3f} | {_end(tr, steps)} |" for name, tr in runs.items())
    md = (f"{steps} {update} steps of size h = {lr:g} from (θ, ψ) = {START}.\n\n"
          "| run | distance at start | distance at the end |\n|---|---|---|\n" + rows +
          "\n\n(θ and ψ are plain numbers: θ in units of x, ψ in logit units per unit of x.) R1 needs a small "
          "enough step: the R1 term alone multiplies ψ by (1 − hγ) at each D step, a factor below −1 once hγ > 2.")
    return img, md


def shipped_dcgan_training(manifest: dict) -> dict:
    """How the shipped digit DCGAN was trained, read from its manifest command with the recipe's own
    options: {"command" (None when the manifest has none), "r1" (γ; None when the command does not
    parse), "loss"}."""
    try:
        command = str(manifest["files"][_dcgan_files()["G"]]["command"])
    except (KeyError, TypeError):
        command = None
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    from ganmodels.recipes import dcgan as dcgan_recipe

    dcgan_recipe.add_args(p)
    try:
        args, _ = p.parse_known_args(shlex.split(command) if command else [])
    except (argparse.ArgumentError, ValueError):
        return {"command": command, "r1": None, "loss": None}
    return {"command": command, "r1": float(args.r1), "loss": args.loss}


def r1_markdown(manifest: dict) -> str:
    t = shipped_dcgan_training(manifest)
    if t["command"] is None:
        return ("**The shipped digit DCGAN:** `weights/manifest.json` has no training command for it, so this tab "
                "cannot say whether it used R1.")
    if t["r1"] is None:
        used = "**The shipped digit DCGAN:** its training command does not parse, so this tab cannot read its R1 weight."
    elif t["r1"] > 0:
        used = (f"**The shipped digit DCGAN uses R1**, γ = {t['r1']:g} (its D loss gets + γ/2 · E‖∇ₓD(x)‖² on the "
                "real digits: the gradient of D's logit with respect to the image's pixels), with the "
                f"`{t['loss']}` loss.")
    else:
        used = "**The shipped digit DCGAN was trained without R1** (no `--r1` in its command)."
    return used + f" Its training command, from `weights/manifest.json`:\n\n`{t['command']}`"


# ---------------------------------------------------------------- 3. the generator's two losses


def _gradients_build(fig, st) -> None:
    x = np.linspace(0.001, 0.999, 999)
    c = T.generator_losses(x)
    ax, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    ax.plot(x, c["minimax"], color="#d62728", label="minimax: log(1 − D(G(z)))")
    ax.plot(x, c["nonsaturating"], color="#1f77b4", label="non-saturating: −log D(G(z))")
    ax.set_ylim(-5, 5)
    ax.set_xlabel("D(G(z)) (0 = D sure it is fake, 1 = sure it is real)")
    ax.set_ylabel("G's loss (nats), G minimises it")
    ax.set_title("the two generator losses", fontsize=9)
    ax2.plot(x, c["minimax_dlogit"], color="#d62728", label="minimax, ∂/∂a = −D(G(z))")
    ax2.plot(x, c["nonsaturating_dlogit"], color="#1f77b4", label="non-saturating, ∂/∂a = −(1 − D(G(z)))")
    ax2.plot(x, c["minimax_dd"], color="#d62728", ls="--", lw=1, label="minimax, ∂/∂D")
    ax2.plot(x, c["nonsaturating_dd"], color="#1f77b4", ls="--", lw=1, label="non-saturating, ∂/∂D")
    ax2.set_ylim(-5, 0.2)
    ax2.set_xlabel("D(G(z))")
    ax2.set_ylabel("gradient (nats per unit of a or of D)")
    ax2.set_title("gradients: solid w.r.t. D's logit a, dashed w.r.t. D", fontsize=9)
    st["marks"] = []
    for a in (ax, ax2):
        st["marks"].append(a.axvline(0.5, color="grey", ls=":"))
        a.grid(True, alpha=0.3)
        a.legend(fontsize=7)
    st["dots"] = [ax.plot([], [], "ko", ms=4)[0], ax2.plot([], [], "ko", ms=4)[0]]
    _animate(st, *st["marks"], *st["dots"])     # the curves, axes and legends are the background


def gradients_view(d) -> tuple[np.ndarray, str]:
    d = as_float(d, "D(G(z))", 0.001, 0.999)
    at = T.generator_losses(d)
    with _DRAW:
        st = _kept("gradients", 9.0, 3.5, _gradients_build)
        for mark in st["marks"]:
            mark.set_xdata([d, d])
        st["dots"][0].set_data([d, d], [at["minimax"], at["nonsaturating"]])
        st["dots"][1].set_data([d, d], [at["minimax_dlogit"], at["nonsaturating_dlogit"]])
        img = _render_kept(st)
    md = (f"At D(G(z)) = **{d:.3f}**: minimax loss log(1 − D) = {float(at['minimax']):.4f} nats, gradient w.r.t. "
          f"D's logit **{float(at['minimax_dlogit']):.4f}**; non-saturating loss −log D = "
          f"{float(at['nonsaturating']):.4f} nats, gradient w.r.t. the logit **{float(at['nonsaturating_dlogit']):.4f}** "
          f"— {abs(float(at['nonsaturating_dlogit']) / float(at['minimax_dlogit'])):.3g}× the minimax one.")
    return img, md


# ---------------------------------------------------------------- 4. Inception Score and FID (toys)


def _inception_build(fig, st) -> None:
    ax, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    st["bars"] = ax.bar(range(N_CLASSES), np.zeros(N_CLASSES), color="#1f77b4")
    ax.set_title("p(y | x) of one sample (sharp = confident)", fontsize=9)
    st["bars2"] = ax2.bar(range(N_CLASSES), np.zeros(N_CLASSES), color="#2ca02c")
    _animate(st, *st["bars"], *st["bars2"])
    ax2.set_title("p(y) = mean over samples (flat = diverse)", fontsize=9)
    for a in (ax, ax2):
        a.set_ylim(0, 1.02)
        a.set_xticks(range(N_CLASSES))
        a.set_xlabel("class y")
        a.set_ylabel("probability (0–1)")


def inception_view(covered, confidence) -> tuple[np.ndarray, str]:
    covered = as_int(covered, "Classes the generator covers", 1, N_CLASSES)
    confidence = as_float(confidence, "Classifier confidence", 1.0 / N_CLASSES, 1.0)
    p = T.toy_predictions(N_CLASSES, covered, confidence)
    score = T.inception_score(p)
    with _DRAW:
        st = _kept("inception", 8.0, 2.8, _inception_build)
        for bars, heights in ((st["bars"], p[0]), (st["bars2"], p.mean(0))):
            for bar, h in zip(bars, heights):
                bar.set_height(float(h))
        img = _render_kept(st)
    md = (f"**IS = {score:.3f}** (unitless: an effective number of classes, from 1 to {N_CLASSES}); "
          f"E KL(p(y|x) ‖ p(y)) = {math.log(score):.4f} nats. {covered} of {N_CLASSES} classes covered evenly, "
          f"probability {confidence:.2f} on the predicted class.")
    return img, md


def _fid_build(fig, st) -> None:
    ax = fig.add_subplot(1, 1, 1)
    st["real"] = ax.scatter(np.zeros(500), np.zeros(500), s=3, color="#1f77b4", label="real features N(0, I)")
    st["fake"] = ax.scatter(np.zeros(500), np.zeros(500), s=3, color="#d62728", label="generated features")
    ax.set_xlim(-5, 8)
    ax.set_ylim(-6.5, 6.5)
    ax.set_aspect("equal")
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    st["title"] = ax.set_title(" ", fontsize=9)
    _animate(st, st["real"], st["fake"], ax.legend(fontsize=7, loc="upper right", markerscale=3), st["title"])


def fid_view(shift, scale) -> tuple[np.ndarray, str]:
    shift = as_float(shift, "Shift of the generated mean", 0.0, 3.0)
    scale = as_float(scale, "Scale of the generated spread", 0.1, 2.0)
    real, fake, fid_est, fid_exact = T.fid_gaussian_example(shift, scale)
    with _DRAW:
        st = _kept("fid", 4.2, 3.8, _fid_build)
        st["real"].set_offsets(real[:500])
        st["fake"].set_offsets(fake[:500])
        st["title"].set_text(f"FID = {fid_est:.3f} (squared feature units)")
        img = _render_kept(st)
    md = (f"Generated features ~ N(({shift:g}, 0), {scale:g}²·I). **FID from 2,000 samples each = {fid_est:.4f}**; "
          f"exact for these Gaussians: ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½) = {shift:g}² + 2·(1 − {scale:g})² = "
          f"**{fid_exact:.4f}** (squared feature units). The difference is the estimate's sampling error: FID is "
          "biased upward for finite samples, so compare FIDs only at the same sample count.")
    return img, md


# ---------------------------------------------------------------- 4. the measured figures (manifest)


def _metrics(manifest: dict, file: str, key: str) -> dict | None:
    try:
        m = manifest["files"][file]["metrics"][key]
    except (KeyError, TypeError):
        return None
    return m if isinstance(m, dict) else None


def _num(v, fmt: str = ".3f") -> str:
    return format(v, fmt) if isinstance(v, (int, float)) and not isinstance(v, bool) else "not measured"


def _dcgan_files() -> dict:
    from ganmodels.models import dcgan

    return dcgan.FILES


def _digit_models() -> tuple:
    """(label, weight file, metrics key) of the digit models in the measured table."""
    return (("digit DCGAN", _dcgan_files()["G"], "dcgan"), ("conditional GAN", "cgan_G.safetensors", "cgan"),
            ("InfoGAN", "infogan_G.safetensors", "infogan"))


def measured_markdown(manifest: dict) -> str:
    """The project's classifier-FID figures, each with the command that measured it, from the manifest."""
    out = ["#### Measured by this project (from `weights/manifest.json`)",
           "**Digits** — classifier-FID on the MNIST classifier's penultimate features, n generated samples vs "
           "the first n MNIST test digits (lower is better; squared feature units). Confident share: the share "
           f"(0–1) of samples whose top class has p(y|x) > {CONFIDENT:g}, one of IS's two ingredients.",
           "", "| | classifier-FID ↓ | n | confident share (0–1) | measured by |", "|---|---|---|---|---|"]
    floor = None
    for label, file, key in _digit_models():
        m = _metrics(manifest, file, key)
        if m is None:
            out.append(f"| {label} | not measured yet | | | |")
            continue
        out.append(f"| {label} | **{_num(m.get('classifier_fid_to_test'))}** | {_num(m.get('n_fid'), ',')} | "
                   f"{_num(m.get('confident_share'))} | `{m.get('eval_command', '?')}` |")
        if floor is None and "classifier_fid_floor_train_vs_test" in m:
            floor = (m["classifier_fid_floor_train_vs_test"], m.get("n_fid"), m.get("eval_command", "?"))
    if floor is not None:
        out.append(f"| *floor*: real training digits vs real test digits | **{_num(floor[0])}** | "
                   f"{_num(floor[1], ',')} | | `{floor[2]}` |")
    out.append("")
    out.append("The floor is what two sets of *real* digits score (different writers, finite samples): a "
               "generator's classifier-FID near it is about as close as this measure can tell.")
    from ganmodels.models import classifier as MC
    from ganmodels.models import faces

    clf = _metrics(manifest, MC.FILE, "classifier")
    if clf is not None:
        out.append(f"The MNIST classifier behind these features: test accuracy **{_num(clf.get('test_accuracy'), '.4f')}** "
                   f"(share 0–1, {clf.get('test_set', '?')}; `{clf.get('eval_command', '?')}`).")
    out.append("")
    fm = _metrics(manifest, faces.FILES["G"], "faces")
    fid = fm.get("classifier_fid") if fm else None
    if not isinstance(fid, dict):
        out.append("**Faces** — face-classifier FID: **not measured yet** (no `faces` metrics in "
                   "`weights/manifest.json`; `python -m ganmodels.evaluate faces --data-dir DATA --update-manifest` "
                   "writes them).")
    else:
        out += ["**Faces** — FID on the face classifier's penultimate features, against held-out CelebA faces "
                f"({fm.get('heldout', 'held-out faces')}); lower is better, squared feature units; "
                f"{_num(fm.get('n_fid'), ',')} images each; measured by `{fm.get('eval_command', '?')}`.", "",
                "| | face-classifier FID ↓ |", "|---|---|",
                f"| generated faces vs held-out | **{_num(fid.get('samples_to_heldout'))}** |",
                f"| *floor*: real training faces vs held-out | {_num(fid.get('floor_train_to_heldout'))} |",
                f"| *reference*: real training faces shrunk to 40 px and enlarged back | "
                f"{_num(fid.get('reference_40px_train_to_heldout'))} |"]
    out += ["", "The project reports no Inception Score for its models: it has no Inception network, and on a 10-class "
            "digit classifier IS (at most 10) would only say \"confident, and all ten digits\" — which the confident "
            "share above, and the class shares in the manifest, say directly."]
    return "\n".join(out)


# ---------------------------------------------------------------- the text

INTRO = """## Theory & metrics — the lectures' formulas, drawn live
Every plot here is computed from the formula next to it (`ganmodels/theory.py`). Natural logarithms throughout:
values, losses and divergences are in **nats** (1 nat = 1/ln 2 ≈ 1.44 bits). Numbers from papers are marked
*quoted (paper, table/figure)*; the project's own figures come from `weights/manifest.json` with the command that
measured them."""

OPTIMAL_D = r"""### 1. The optimal discriminator and the equilibrium
For a fixed G, D maximises $V(D,G)=\mathbb E_{x\sim p_{data}}[\log D(x)]+\mathbb E_{x\sim p_g}[\log(1-D(x))]$ point by
point; the maximiser is
$$D^*(x)=\frac{p_{data}(x)}{p_{data}(x)+p_g(x)}$$
(Goodfellow et al. 2014, Proposition 1). Put back into $V$: $V(D^*,G)=-\log 4+2\,\mathrm{JSD}(p_{data}\,\|\,p_g)$
(Theorem 1) — against the best D, G minimises the Jensen–Shannon divergence. The minimum, $-\log 4\approx-1.386$ nats,
is reached exactly at $p_g=p_{data}$, where $D^*=\tfrac12$ everywhere: D can only guess. Move $p_g$ and watch $D^*$:
1 where only data lives, 0 where only G's samples land."""

DIRAC = r"""### 2. Why gradient descent need not find the equilibrium — the Dirac-GAN
Mescheder, Geiger & Nowozin 2018, *Which training methods for GANs actually converge?*: the data is one point,
$p_{data}=\delta_0$; G puts all its mass at $\theta$ ($p_g=\delta_\theta$); D's logit is a line, $D_\psi(x)=\psi\,x$.
The game is $L(\theta,\psi)=f(\psi\theta)+f(0)$ with $f(t)=-\log(1+e^{-t})$ (the GAN) or $f(t)=t$ (WGAN-style);
G descends $L$, D ascends it. The only equilibrium is $\theta=\psi=0$: G on the data, D indifferent.
But the gradient field $(\dot\theta,\dot\psi)=(-\psi f'(\psi\theta),\ \theta f'(\psi\theta))$ **rotates** around it:
simultaneous steps of size $h$ multiply the distance to $(0,0)$ by $\sqrt{1+h^2f'(\psi\theta)^2}>1$ each step (an
outward spiral); alternating steps circle round it forever. Gradient descent is built to find minima, not the
saddle points (Nash equilibria) of a two-player game.

**R1** (same paper, its "simplified gradient penalties") penalises D's gradient on **real** data: D's loss gets $+\frac\gamma2\,\mathbb E_{x\sim p_{data}}
\lVert\nabla_x D_\psi(x)\rVert^2$, here $\frac\gamma2\psi^2$. D may not keep a slope where the data is, which adds
$-\gamma\psi$ to $\dot\psi$ and damps the rotation: with R1 the trajectory spirals **in** to $(0,0)$ (for a small enough
step $h$)."""

GRADIENTS = r"""### 3. Saturating vs non-saturating: the gradient G gets
In the minimax game G minimises $\log(1-D(G(z)))$. Early in training D rejects G's samples easily: $D(G(z))\approx0$.
D's output is a sigmoid of its logit $a$, $D=\sigma(a)$, and the gradient that reaches G through it is
$\partial_a\log(1-\sigma(a))=-D(G(z))\to0$: the loss **saturates** and G learns almost nothing. Goodfellow et al.
(2014, §3) let G maximise $\log D(G(z))$ instead — minimise $-\log D(G(z))$, whose gradient $-(1-D(G(z)))\to-1$ there:
the same fixed point, strong gradients early ("standard in practice"). With respect to $D$ itself the minimax slope
is $-1/(1-D)\approx-1$ at 0 — it is D's sigmoid that takes the gradient away."""

METRICS = r"""### 4. Inception Score and FID
**Inception Score** (Salimans et al. 2016): a classifier gives $p(y\mid x)$ for each generated $x$;
$p(y)=\mathbb E_x\,p(y\mid x)$.
$$\mathrm{IS}=\exp\Big(\mathbb E_x\,\mathrm{KL}\big(p(y\mid x)\,\|\,p(y)\big)\Big)$$
**Higher is better**: high when each sample is classified confidently (sharp $p(y\mid x)$) *and* the samples spread over
all classes (flat $p(y)$). It lies between 1 and the number of classes (1 000 for Inception on ImageNet), and never looks
at real data.

**FID** (Heusel et al. 2017): fit a Gaussian to the features of real images $(\mu_1,\Sigma_1)$ and of generated ones
$(\mu_2,\Sigma_2)$;
$$\mathrm{FID}=\lVert\mu_1-\mu_2\rVert^2+\mathrm{Tr}\big(\Sigma_1+\Sigma_2-2(\Sigma_1\Sigma_2)^{1/2}\big)$$
**Lower is better**; 0 for identical Gaussians. Its unit is the square of the feature's unit, so FIDs are comparable
only on the same features, at the same sample count.

**Why our own classifiers.** Published FIDs use Inception-v3's 2048-d features, trained on ImageNet photos. This app
runs offline and has no Inception weights, and 28×28 grey digits and 64×64 faces are far from ImageNet — Inception's
features would describe them poorly. So the project computes the same Fréchet distance on the penultimate features
of classifiers it trained itself (an MNIST digit classifier; a CelebA attribute classifier for faces) and calls it
**classifier-FID**. These numbers compare our models with each other; they are **not** comparable with FIDs in
papers."""

UNITS = """### 5. Scales and units of the numbers in this app
| quantity | unit / scale | better |
|---|---|---|
| V(D, G), JSD, KL, G's and D's losses | nats (natural log); JSD in 0 … log 2 ≈ 0.693 | — |
| D(x), D(G(z)) | minimax and non-saturating losses: σ(D's logit), the probability that the input is real, 0–1; LSGAN: a regression output aimed at 1 (real) / 0 (fake); WGAN-GP, weight clipping, hinge: an unbounded critic score, no probability | — |
| pixel losses (L1, L2, cycle and identity errors) | on images scaled to −1 … 1 (×127.5 for 8-bit grey levels) unless a tab says grey levels | lower |
| gradients in §3 | nats per unit of D's logit (solid) or of D (dashed) | — |
| θ, ψ (Dirac-GAN) | θ: a position on the data axis; ψ: logit per unit of x | — |
| Inception Score | unitless, 1 … number of classes | higher |
| FID, classifier-FID | squared feature units of the network that made the features | lower |
| PSNR (SRGAN, CycleGAN tabs) | dB: 10·log₁₀(255² / MSE) on 8-bit images | higher |
| SSIM (SRGAN tab) | unitless, −1 … 1 (1 = identical) | higher |
| accuracies, agreement, confident share, class shares | share of samples, 0–1 | — |
| losses in the Live training tab | batch means: nats for minimax / non-saturating (cross-entropy); squared error for LSGAN; score units of D’s output for hinge, WGAN-GP and WGAN with weight clipping | — |
"""


# ---------------------------------------------------------------- the tab


def _prepare_figures() -> None:
    """In the helper, at start: each view drawn once at the tab's first settings (its figure built)."""
    for view, args in _FIRST_VIEWS:
        view(*args)


# the tab's first settings (its controls start there; the helper draws each view there once)
P0 = dict(p_data=next(iter(P_DATA)), mu=2.0, sigma=1.0)
DIRAC0 = dict(update="simultaneous", lr=0.1, gamma=1.0, steps=300)
D0 = 0.01
IS0 = (N_CLASSES, 0.9)          # classes covered, confidence
FID0 = (1.0, 1.0)               # shift, scale
_FIRST_VIEWS = ((optimal_d_view, (P0["p_data"], P0["mu"], P0["sigma"])), (dirac_view, tuple(DIRAC0.values())),
                (gradients_view, (D0,)), (inception_view, IS0), (fid_view, FID0))
# The tab's figures are drawn in a helper process of its own once it is up (demo.helper): even kept and
# blitted, a figure is Python work under the server's interpreter lock, and a class dragging these sliders
# stalled every other tab's sliders.
DRAWER = Helper(prepare=_prepare_figures)


def drawn(view):
    """A view whose figure is drawn by :data:`DRAWER` (the helper process once it is up)."""
    def run(*args):
        return DRAWER.run(view, *args)
    run.__name__ = view.__name__
    return run


def build(ctx: AppContext) -> None:
    import gradio as gr

    manifest = ctx.store.manifest if ctx.store is not None else {}
    p0, dirac0 = P0, DIRAC0

    gr.Markdown(INTRO)

    gr.Markdown(OPTIMAL_D, latex_delimiters=LATEX)
    with gr.Row():
        with gr.Column(scale=1):
            pd = gr.Radio(list(P_DATA), value=p0["p_data"], label="p_data (fixed: the real data)")
            mu = Slider(-5, 5, value=p0["mu"], step=0.1, label="mean of p_g = N(μ, σ²)")
            sigma = Slider(0.2, 3, value=p0["sigma"], step=0.05, label="width σ of p_g")
        with gr.Column(scale=3):
            img, md = optimal_d_view(p0["p_data"], p0["mu"], p0["sigma"])
            d_img = gr.Image(value=img, type="numpy", format="png", interactive=False, show_label=False,
                             elem_id="theory_optimal_d_plot")
            d_md = gr.Markdown(md)
    fn = quick(drawn(optimal_d_view), "theory_optimal_d")
    for i, c in enumerate((mu, sigma, pd)):
        c.change(fn, [pd, mu, sigma], [d_img, d_md], trigger_mode="always_last", **LIVE,
                 api_name="theory_optimal_d" if i == 0 else None, api_visibility="public" if i == 0 else "private")

    gr.Markdown(DIRAC, latex_delimiters=LATEX)
    with gr.Row():
        with gr.Column(scale=1):
            upd = gr.Radio(list(UPDATES), value=dirac0["update"], label="update",
                           info="simultaneous: G and D step at once; alternating: G first, then D")
            lr = Slider(0.01, 0.5, value=dirac0["lr"], step=0.01, label="learning rate h")
            gamma = Slider(0, 5, value=dirac0["gamma"], step=0.05, label="R1 weight γ (green run)")
            steps = Slider(10, 2000, value=dirac0["steps"], step=10, label="steps")
            gr.Markdown(r1_markdown(manifest), elem_id="theory_r1")
        with gr.Column(scale=3):
            img, md = dirac_view(**dirac0)
            dg_img = gr.Image(value=img, type="numpy", format="png", interactive=False, show_label=False)
            dg_md = gr.Markdown(md)
    fn = quick(drawn(dirac_view), "theory_dirac")
    for i, c in enumerate((lr, gamma, steps, upd)):
        c.change(fn, [upd, lr, gamma, steps], [dg_img, dg_md], trigger_mode="always_last", **LIVE,
                 api_name="theory_dirac" if i == 0 else None, api_visibility="public" if i == 0 else "private")

    gr.Markdown(GRADIENTS, latex_delimiters=LATEX)
    dval = Slider(0.001, 0.999, value=D0, step=0.001, label="D(G(z)) — where to read the curves")
    img, md = gradients_view(D0)
    gd_img = gr.Image(value=img, type="numpy", format="png", interactive=False, show_label=False)
    gd_md = gr.Markdown(md)
    dval.change(quick(drawn(gradients_view), "theory_gradients"), dval, [gd_img, gd_md], trigger_mode="always_last",
                **LIVE, api_name="theory_gradients")

    gr.Markdown(METRICS, latex_delimiters=LATEX)
    with gr.Row():
        with gr.Column():
            gr.Markdown("**Try IS**: a 10-class classifier's predictions on imagined samples.")
            covered = Slider(1, N_CLASSES, value=IS0[0], step=1, label="classes the generator covers (evenly)")
            conf = Slider(0.1, 1.0, value=IS0[1], step=0.01, label="probability on the predicted class")
            img, md = inception_view(*IS0)
            is_img = gr.Image(value=img, type="numpy", format="png", interactive=False, show_label=False)
            is_md = gr.Markdown(md)
        with gr.Column():
            gr.Markdown("**Try FID**: 2-D 'features', real N(0, I) vs a shifted, scaled copy.")
            shift = Slider(0, 3, value=FID0[0], step=0.05, label="shift of the generated mean")
            scale = Slider(0.1, 2, value=FID0[1], step=0.05, label="scale of the generated spread")
            img, md = fid_view(*FID0)
            fid_img = gr.Image(value=img, type="numpy", format="png", interactive=False, show_label=False)
            fid_md = gr.Markdown(md)
    fn = quick(drawn(inception_view), "theory_inception_score")
    for i, c in enumerate((covered, conf)):
        c.change(fn, [covered, conf], [is_img, is_md], trigger_mode="always_last", **LIVE,
                 api_name="theory_inception_score" if i == 0 else None,
                 api_visibility="public" if i == 0 else "private")
    fn = quick(drawn(fid_view), "theory_fid")
    for i, c in enumerate((shift, scale)):
        c.change(fn, [shift, scale], [fid_img, fid_md], trigger_mode="always_last", **LIVE,
                 api_name="theory_fid" if i == 0 else None, api_visibility="public" if i == 0 else "private")
    gr.Markdown(measured_markdown(manifest), elem_id="theory_measured")

    DRAWER.start()      # the helper imports in the background; until it is up, figures are drawn here
    gr.Markdown(UNITS, elem_classes=["units-table"])   # app.CSS: the short last column never wraps mid-word


# cheap endpoints measured by bench/latency.py: api_name → example inputs
LATENCY_ENDPOINTS = {"theory_optimal_d": [next(iter(P_DATA)), 1.0, 1.5], "theory_gradients": [0.05]}
