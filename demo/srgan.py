"""SRGAN zoom tab: 4× super-resolution, bicubic vs SRResNet vs SRGAN (Ledig et al. 2017).

Pure functions first (arrays in, arrays/text out), then ``build(ctx)``.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from demo.common import ImageInput, InputError, as_float, as_int, guard, quick
from demo.context import AppContext
from serving import priority
from ganmodels import imageio
from ganmodels.imageio import skimage_image, upscale_nearest
from ganmodels.inference.srgan import upscale
from ganmodels.metrics import grad_mag, rgb_to_y
from ganmodels.models import srgan as S

REQUIRES = ("srgan",)

MODES = ("simulate", "real")
LABELS = {"bicubic": "bicubic", "srresnet": "SRResNet", "srgan": "SRGAN"}
# the largest inputs the tab takes: three methods on a 384² LR image take a few seconds on a 2-core CPU,
# so one student's job does not hold the class's queue (the CLI upscales any size, in tiles)
SIM_MAX_PIXELS = 1536 * 1536     # simulate: the uploaded image is the HR original
REAL_MAX_PIXELS = 384 * 384      # real: the uploaded image is the LR input (output 16× larger)
ZOOMS = ("64", "128", "256", "512", "whole image")
DISPLAY = 512                    # zoomed crops are enlarged (nearest) to at least this many pixels
OVERVIEW = 480                   # longest side of the overview image

EXPLAIN = r"""
**What is computed.** Each method maps a low-resolution image $I^{LR}$ ($h\times w$) to $I^{SR}$ ($4h\times4w$).

* **Bicubic**: interpolation with a fixed cubic kernel — nothing learned.
* **SRResNet**: a residual CNN $G$ trained for *pixel accuracy*: $\min_G\ \mathbb E\,\lVert G(I^{LR})-I^{HR}\rVert_2^2$.
* **SRGAN**: the same network, started from the SRResNet shown here (its weights after 6,000 MSE steps) and trained 1,500 steps more with the *perceptual loss*
  $l^{SR}=l_{\text{content}}+w\,l_{\text{adv}}$, $\;l_{\text{adv}}=-\log D(G(I^{LR}))$ (the paper's, quoted: $w=10^{-3}$; the shipped
  SRGAN: see *The shipped networks* below), while the discriminator
  $D$ maximises $\log D(I^{HR})+\log\big(1-D(G(I^{LR}))\big)$. (The paper's content loss uses VGG19 features; no
  pretrained VGG is available offline, so here $l_{\text{content}}$ is the pixel MSE — the paper's "SRGAN-MSE".)

**Numbers** (*simulate* mode only — they need the original): on the luma channel $Y$ with a 4-pixel border removed,
$\text{PSNR}=10\log_{10}\frac{255^2}{\text{MSE}}$ and
$\text{SSIM}=\frac{(2\mu_x\mu_y+C_1)(2\sigma_{xy}+C_2)}{(\mu_x^2+\mu_y^2+C_1)(\sigma_x^2+\sigma_y^2+C_2)}$ (Gaussian window σ = 1.5);
**sharpness** $=\overline{\lvert\nabla Y_{SR}\rvert}\,/\,\overline{\lvert\nabla Y_{HR}\rvert}$ (1 = as detailed as the original).

**The perception–distortion trade-off** (Blau & Michaeli 2018): when many sharp images fit the same low-res input,
the *average* of them has the lowest pixel error but is blurry. A GAN must pick one plausible sharp image instead —
it looks more real yet scores a lower PSNR. *Quoted from the paper* (Ledig et al., Set5, 4×; not measured here): bicubic 28.43 dB, SRResNet 32.05 dB, SRGAN 29.40 dB.
Our SRGAN was fine-tuned on a CPU for 1,500 steps from the SRResNet shown, so the two differ in the loss alone: measured
(`python -m ganmodels.evaluate srgan`, eight `skimage.data` images, Y channel) SRResNet 31.45 dB → SRGAN 29.44 dB
(-2.01 dB), sharpness 0.64 → 0.84. Both upsample by nearest-neighbour 2× + conv rather than the
paper's sub-pixel convolution: under the adversarial loss, sub-pixel layers drifted into a regular grid pattern (the
*checkerboard artefact*) to which a resize-then-convolve layer is far less prone. What remains is the GAN's invented texture:
zoom in and compare it with the original.
"""


# ---------------------------------------------------------------- pure functions


def prepare(image, mode: str, *, limit: int = imageio.DEFAULT_MAX_PIXELS
            ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """The user's image (an array or a file path) → (LR input, HR original or None, notes).  A file is
    checked from its header first: above ``limit`` (--max-pixels) or above this mode's size it is
    refused before it is decoded.  Raises InputError."""
    if mode not in MODES:
        raise InputError(f"Mode must be one of {', '.join(MODES)}, got {mode!r}")
    if image is None or (isinstance(image, str) and not image):
        raise InputError("Upload an image or pick one of the examples first.")
    if isinstance(image, (str, Path)):
        image = _open_upright(image, limit, SIM_MAX_PIXELS if mode == "simulate" else REAL_MAX_PIXELS)
    try:
        if mode == "simulate":
            hr, notes = S.check_image(image, max_pixels=SIM_MAX_PIXELS, what="The image")
            if min(hr.shape[:2]) < S.MIN_SIDE * S.SCALE:
                raise InputError(f"In simulate mode the image is shrunk 4× first, so it needs at least "
                                 f"{S.MIN_SIDE * S.SCALE}×{S.MIN_SIDE * S.SCALE} pixels (got "
                                 f"{hr.shape[1]}×{hr.shape[0]}). Use real mode for tiny images.")
            hr = S.modcrop(hr)
            return S.downscale(hr), hr, notes
        lr, notes = S.check_image(image, max_pixels=REAL_MAX_PIXELS, what="The image")
        return lr, None, notes
    except ValueError as e:   # the library's InputError too: in real mode, a size limit gets a way on
        msg = str(e)
        if "limit" in msg and mode == "real":
            msg += " Or switch to simulate mode, which shrinks the image 4× first."
        raise InputError(msg) from None


def _open_upright(path, limit: int, mode_limit: int):
    """A file → a PIL image, turned upright by its EXIF orientation.  Only its header is read when it
    has more than ``mode_limit`` pixels (``prepare`` then refuses it by its size, undecoded)."""
    from PIL import ImageOps

    im = imageio.open_header(path, limit, what="This file")
    if im.width * im.height <= mode_limit and im.getexif().get(0x0112, 1) != 1:
        im = ImageOps.exif_transpose(im)          # decodes it: only for an image the mode accepts
    return im


def super_resolve_all(model: S.SRModels, lr: np.ndarray, progress=None) -> dict[str, np.ndarray]:
    """bicubic, SRResNet and SRGAN outputs (each exactly 4× the input)."""
    out = {}
    for i, m in enumerate(S.METHODS):
        cb = None
        if progress is not None:
            cb = (lambda k, n, i=i, m=m: progress((i + k / n) / len(S.METHODS), desc=f"{m}: tile {k}/{n}"))
            progress(i / len(S.METHODS), desc=f"{m}…")
        out[m] = upscale(model, m, lr, progress=cb)
    return out


# The paper's per-image example beside our measured table: the same three methods, one image, 4×
PAPER_FIGURE2 = {"bicubic": (21.59, 0.6423), "srresnet": (23.53, 0.7832), "srgan": (21.15, 0.6868)}
QUOTED_FIGURE = ("*Quoted (Ledig et al. 2017, Figure 2)* — the paper's own per-image example (one test image, "
                 "4×), not measured here:\n\n| method | PSNR (dB) | SSIM (0–1) |\n|---|---|---|\n"
                 + "\n".join(f"| {LABELS[m]} | {p:.2f} | {q:.4f} |" for m, (p, q) in PAPER_FIGURE2.items())
                 + "\n\nIn the paper's example SRGAN has the lowest PSNR of the three, yet looks the most real: "
                 "the perception–distortion trade-off.")


def metrics_markdown(outputs: dict[str, np.ndarray], hr: np.ndarray | None, lr: np.ndarray) -> str:
    h, w = lr.shape[:2]
    head = f"Input {w}×{h} → output {4 * w}×{4 * h} (4×)."
    if hr is None:
        g = {m: grad_mag(rgb_to_y(o)) for m, o in outputs.items()}
        rows = "\n".join(f"| {LABELS[m]} | {g[m] / max(g['bicubic'], 1e-12):.2f} |" for m in S.METHODS)
        return (f"{head} **Real mode:** there is no original to compare with, so no PSNR/SSIM — judge with "
                "your eyes. Relative sharpness (mean |∇Y| / bicubic's):\n\n| method | sharpness vs bicubic |\n"
                f"|---|---|\n{rows}")
    rows = []
    for m in S.METHODS:
        r = S.sr_metrics(outputs[m], hr)
        rows.append(f"| {LABELS[m]} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['sharpness']:.3f} |")
    return (f"{head} **Simulate mode:** the original was shrunk 4× (bicubic) and enlarged again.\n\n"
            "| method | PSNR (dB, Y) ↑ | SSIM (Y) ↑ | sharpness (1 = original) |\n|---|---|---|---|\n"
            + "\n".join(rows) + "\n\n" + QUOTED_FIGURE)


def zoom_size(zoom: str | int | None, shape) -> int | None:
    if zoom in (None, "", "whole image"):
        return None
    z = as_int(zoom, "Zoom window", 16, 4096)
    return z if z < max(shape[:2]) else None


def region_box(shape, cx: float, cy: float, size: int | None) -> tuple[int, int, int, int]:
    """(y0, x0, y1, x1) of a size×size window centred at fractions (cx, cy) of the image, kept inside."""
    h, w = shape[:2]
    if size is None:
        return 0, 0, h, w
    sh, sw = min(size, h), min(size, w)
    y0 = int(round(cy * h - sh / 2))
    x0 = int(round(cx * w - sw / 2))
    y0, x0 = min(max(y0, 0), h - sh), min(max(x0, 0), w - sw)
    return y0, x0, y0 + sh, x0 + sw


def enlarge(img: np.ndarray, target: int = DISPLAY) -> np.ndarray:
    """Nearest-neighbour enlargement so that a small crop shows its pixels in the browser."""
    k = max(1, target // max(img.shape[:2]))
    return upscale_nearest(img, k)


def overview(img: np.ndarray, box) -> np.ndarray:
    """A small copy of ``img`` with the zoom window drawn as a yellow rectangle."""
    from PIL import Image, ImageDraw

    h, w = img.shape[:2]
    f = min(1.0, OVERVIEW / max(h, w))
    im = Image.fromarray(img).resize((max(1, round(w * f)), max(1, round(h * f))), Image.BILINEAR)
    y0, x0, y1, x1 = box
    if (y1 - y0, x1 - x0) != (h, w):
        ImageDraw.Draw(im).rectangle([x0 * f, y0 * f, x1 * f - 1, y1 * f - 1], outline=(255, 220, 0), width=3)
    return np.asarray(im)


def compare(result: dict | None, cx, cy, zoom):
    """The three comparisons (bicubic|SRResNet, SRResNet|SRGAN, SRGAN|original-or-bicubic) of one region."""
    if not result:
        raise InputError("Run the super-resolution first.")
    cx = as_float(cx, "Region x", 0, 100, clamp=True) / 100
    cy = as_float(cy, "Region y", 0, 100, clamp=True) / 100
    o = result["outputs"]
    size = zoom_size(zoom, o["bicubic"].shape)
    box = region_box(o["bicubic"].shape, cx, cy, size)
    y0, x0, y1, x1 = box
    crop = {k: v[y0:y1, x0:x1] for k, v in o.items()}
    last = result["hr"][y0:y1, x0:x1] if result["hr"] is not None else crop["bicubic"]
    e = enlarge
    return ((e(crop["bicubic"]), e(crop["srresnet"])), (e(crop["srresnet"]), e(crop["srgan"])),
            (e(crop["srgan"]), e(last)), overview(o["srgan"], box))


def run(model: S.SRModels, image, mode: str, cx, cy, zoom, progress=None, limit: int = imageio.DEFAULT_MAX_PIXELS):
    """The heavy job: prepare, super-resolve with all three methods, measure, show one region."""
    lr, hr, notes = prepare(image, mode, limit=limit)
    outputs = super_resolve_all(model, lr, progress)
    result = {"outputs": outputs, "hr": hr, "lr": lr}
    md = metrics_markdown(outputs, hr, lr)
    if notes:
        md = "**Note:** " + "; ".join(notes) + ".\n\n" + md
    return (result, *compare(result, cx, cy, zoom), md)


def weights_note(model: S.SRModels) -> str:
    lines = []
    for name, label in (("srresnet", "SRResNet"), ("srgan", "SRGAN")):
        e = model.manifest.get(S.FILES[name], {})
        cfg = model.nets[name].cfg
        arch = (f"{cfg.blocks} residual blocks × {cfg.channels} channels, "
                f"{'with' if cfg.batchnorm else 'without'} batchnorm, PReLU, "
                f"{'bicubic skip, ' if cfg.bicubic_skip else ''}"
                f"{'2 × PixelShuffle(2)' if cfg.upsample == 'shuffle' else '2 × (nearest 2× + conv)'}")
        steps = e.get("steps", "?")
        lines.append(f"* **{label}**: {arch}; {steps} training steps. Loss and data: {e.get('data', 'unknown')}.")
    return "**The shipped networks**\n\n" + "\n".join(lines)


def example_files() -> list[list]:
    """skimage.data colour images (public domain, never used for training) as example files."""
    d = Path(tempfile.gettempdir()) / "gan_classroom_srgan_examples"
    d.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    specs = [("astronaut", "simulate", None), ("chelsea", "simulate", None), ("coffee", "simulate", None),
             ("rocket", "simulate", None), ("hubble_deep_field", "real", (300, 300, 556, 556)),
             ("chelsea", "real", None)]
    rows = []
    for name, mode, box in specs:
        img = skimage_image(name)
        if box is not None:
            img = img[box[0]:box[2], box[1]:box[3]]
        if mode == "real" and box is None:  # a small photo, as a real low-res input
            img = S.downscale(img, 2)
        p = d / f"{name}_{mode}.png"
        if not p.exists():
            Image.fromarray(img).save(p)
        rows.append([str(p), mode])
    return rows


# ---------------------------------------------------------------- the tab


def build(ctx: AppContext) -> None:
    import gradio as gr

    model: S.SRModels = ctx.models["srgan"]
    heavy = ctx.heavy_limit

    gr.Markdown("## SRGAN zoom — 4× super-resolution\nUpload a photo (or pick an example), choose a mode and "
                "press **Super-resolve**. Then drag the dividers to compare, pick the region to zoom, and "
                "scroll on an image to zoom further (all three comparisons show the same region).")
    with gr.Row():
        with gr.Column(scale=2):
            # a file path: the tab reads the header and refuses an image too large for its mode before
            # decoding it (ImageInput also refuses one above --max-pixels)
            image = ImageInput(max_pixels=ctx.max_pixels, label="Image", type="filepath", image_mode=None,
                             sources=["upload", "clipboard"], height=300, elem_id="sr_input")
            mode = gr.Radio(list(MODES), value="simulate", label="Mode",
                            info="simulate: shrink your image 4× first and compare with it (PSNR/SSIM); "
                                 "real: enlarge the image as it is")
            go = gr.Button("Super-resolve", variant="primary")
            gr.Examples(example_files(), inputs=[image, mode], label="Examples (skimage.data, never trained on)")
        with gr.Column(scale=3):
            over = gr.Image(label="Region to zoom (click to move it) — SRGAN output", type="numpy",
                            format="png", interactive=False, height=300)
            with gr.Row():
                cx = gr.Slider(0, 100, value=50, step=1, label="Region centre x (%)")
                cy = gr.Slider(0, 100, value=50, step=1, label="Region centre y (%)")
                zoom = gr.Dropdown(list(ZOOMS), value="128", label="Zoom window (output pixels)")
            metrics = gr.Markdown("Press **Super-resolve** to see the numbers.")
    with gr.Row():
        s1 = gr.ImageSlider(label="bicubic | SRResNet", type="numpy", format="png", slider_position=50,
                            elem_id="sr_slider_1")
        s2 = gr.ImageSlider(label="SRResNet | SRGAN", type="numpy", format="png", slider_position=50,
                            elem_id="sr_slider_2")
        s3 = gr.ImageSlider(label="SRGAN | original (simulate) or bicubic (real)", type="numpy", format="png",
                            slider_position=50, elem_id="sr_slider_3")
    with gr.Accordion("What is computed — formulas and the perception–distortion trade-off", open=False):
        gr.Markdown(EXPLAIN, latex_delimiters=[{"left": "$", "right": "$", "display": False}])
        gr.Markdown(weights_note(model))
    result = gr.State(None)

    def do_run(image, mode, cx, cy, zoom, progress=gr.Progress()):
        # a low-priority thread: students' slider moves run first (serving.priority)
        out = priority.run_in_background(run, model, image, mode, cx, cy, zoom, progress=progress,
                                         limit=ctx.max_pixels)
        return out

    go.click(guard(do_run), [image, mode, cx, cy, zoom], [result, s1, s2, s3, over, metrics],
             api_name="srgan_upscale", concurrency_id="heavy", concurrency_limit=heavy)

    def do_compare(result, cx, cy, zoom):
        if not result:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return compare(result, cx, cy, zoom)

    for c in (cx, cy, zoom):
        c.change(quick(do_compare), [result, cx, cy, zoom], [s1, s2, s3, over], trigger_mode="always_last",
                 show_progress="hidden", concurrency_limit=None, api_visibility="private")

    def on_select(result, evt: gr.SelectData):
        if not result or evt.index is None:
            return gr.skip(), gr.skip()
        h, w = result["outputs"]["srgan"].shape[:2]
        f = min(1.0, OVERVIEW / max(h, w))
        x, y = evt.index[0] / f, evt.index[1] / f
        return round(100 * x / w), round(100 * y / h)

    on_select.__annotations__["evt"] = gr.SelectData  # a real class (this module uses postponed annotations)
    over.select(on_select, [result], [cx, cy], api_visibility="private", concurrency_limit=None,
                show_progress="hidden")
