"""CycleGAN tab: photo ↔ Monet, the cycle reconstruction and where it fails.

Pure functions first (paths/arrays in, arrays/Markdown out), then ``build(ctx)``.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from demo.common import ImageInput, InputError
from ganmodels import imageio
from ganmodels.inference.cyclegan import translate
from ganmodels.metrics import psnr
from ganmodels.models import cyclegan as C
from ganmodels.models import monet_judge
from demo.context import AppContext
from serving import priority

REQUIRES = ("cyclegan",)

# bigger uploads are downscaled to this (the reason is shown): one translation and its cycle then take a few
# seconds on a 2-core CPU, so one student's job does not hold the class's queue (the CLI has no such cap)
UI_MAX_PIXELS = 1024 * 1024
DIRECTION_CHOICES = [("photo → Monet  (G, then F back)", "photo2monet"),
                     ("Monet → photo  (F, then G back)", "monet2photo")]
# colour images that ship inside scikit-image (public domain / CC0): no download, no shared data
EXAMPLES = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left")
# six Monet paintings (public domain; 256×256 from the Kaggle set) for the Monet → photo direction, all from
# the CycleGAN's held-out split (ganmodels.models.cyclegan.is_heldout): the shipped G and F never trained on
# them.  The set gives no titles: each is named by its subject and the series it belongs to.
MONET_DIR = Path(__file__).resolve().parent / "examples" / "monet"
MONET_EXAMPLES = {
    "grainstacks_at_sunset.jpg": "Grainstacks at sunset (the Grainstacks series, 1890–91)",
    "poplars.jpg": "Poplars on the Epte (the Poplars series, 1891)",
    "mount_kolsaas.jpg": "Mount Kolsaas, Norway (1895)",
    "grand_canal_venice.jpg": "The Grand Canal, Venice (1908)",
    "japanese_footbridge.jpg": "The Japanese footbridge at Giverny (1890s–1920s)",
    "water_lilies.jpg": "Water lilies (the Nymphéas series)",
}

EXPLAIN = r"""
**What is computed.** CycleGAN (Zhu et al. 2017) learns two mappings from *unpaired* collections:
$G: X\to Y$ (photo → Monet) and $F: Y\to X$ (Monet → photo), each with a discriminator ($D_Y$ judges Monets, $D_X$ photos).
Adversarial losses alone would let $G$ paint *any* Monet; the **cycle-consistency** loss ties the output to the input.
Trained here as two separate least-squares (LSGAN) losses, as in the paper's §4 implementation (its §3 writes the min–max with log loss, $\min_{G,F}\max_{D_X,D_Y}$):

$$\text{each } D:\ \min_{D_Y}\ \tfrac12\mathbb E_y[(D_Y(y)-1)^2]+\tfrac12\mathbb E_x[D_Y(G(x))^2]\quad(\text{and the same for } D_X \text{ on } x, F(y))$$

$$G,F:\ \min_{G,F}\ \mathbb E_x[(D_Y(G(x))-1)^2]+\mathbb E_y[(D_X(F(y))-1)^2] + \lambda_X\lVert F(G(x))-x\rVert_1 + \lambda_Y\lVert G(F(y))-y\rVert_1 + \lambda_{id}\big(\lambda_Y\lVert G(y)-y\rVert_1+\lambda_X\lVert F(x)-x\rVert_1\big)$$

so $D_Y$ pushes $D_Y(G(x))$ towards 0 and $G$ pushes it towards 1. **The paper's** weights (quoted from the paper): $\lambda_X=\lambda_Y=\lambda=10$, $\lambda_{id}=0.5$ (identity weight $0.5\lambda$).
**Ours** (`weights/manifest.json`): the first 30,000 steps used the defaults $\lambda=10$, $\lambda_{id}=0.5$ (`--lambda-cyc 10 --lambda-id 0.5`); the last 9,750 used $\lambda_{id}=0$ (`--lambda-id 0`), $\lambda_Y=3$ (`--lambda-cyc 3`) and $\lambda_X=3$, then 6 (`--lambda-x 6`, 3,250 steps), then 14 (last 1,000 steps).
Below: the translation, the round trip $F(G(x))$ and the heat map $\lvert x - F(G(x))\rvert$ (mean over RGB) — bright where the cycle loses information.
Why the paper's round trip drifts in colour: instance norm after $G$'s first convolution removes each channel's mean and scale, so $G(a\,x+c)=G(x)$ for any $a>0$ and per-channel offset $c$: $G$ cannot see, and $F$ cannot restore, a photo's overall tint or contrast. The shipped $G$ and $F$ add a *colour skip* (the input's per-channel mean and std, fed to a scale and shift of the output), so they can (they were added for the last 9,750 steps, the ones with the weights above).
Large images run in overlapping 512² tiles that share one instance-norm statistic and are blended with linear ramps, so no seams show.
"""


# ------------------------------------------------------------------ pure functions


def example_paths(folder: str | Path | None = None) -> list[str]:
    """Write the skimage example images as PNGs (once) and return their paths."""
    from PIL import Image
    from skimage import data as skd

    folder = Path(folder or Path(tempfile.gettempdir()) / "gan_classroom_cyclegan_examples")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in EXAMPLES:
        p = folder / f"{name}.png"
        if not p.exists():
            try:
                Image.fromarray(np.asarray(getattr(skd, name)())).convert("RGB").save(p)
            except Exception:  # noqa: BLE001 -- an example that cannot be made is skipped
                continue
        out.append(str(p))
    return out


def monet_examples() -> list[tuple[str, str]]:
    """(path, caption) of the committed Monet paintings that exist (the Monet → photo examples)."""
    return [(str(MONET_DIR / f), cap) for f, cap in MONET_EXAMPLES.items() if (MONET_DIR / f).is_file()]


def load_input(path, max_pixels: int = UI_MAX_PIXELS, *, limit: int = imageio.DEFAULT_MAX_PIXELS
               ) -> tuple[np.ndarray, list[str]]:
    """An uploaded file → uint8 RGB (H, W, 3) and notes; InputError with the reason otherwise."""
    if path is None or (isinstance(path, str) and not path):
        raise InputError("Upload an image first (or click one of the examples).")
    if isinstance(path, np.ndarray):
        try:
            img, notes = imageio.as_rgb(path)
        except ValueError as e:
            raise InputError(str(e)) from None
        h, w = img.shape[:2]
        if h * w > max_pixels:
            from PIL import Image
            tw, th = imageio.fit_size(w, h, max_pixels)
            img = np.asarray(Image.fromarray(img).resize((tw, th), Image.LANCZOS))
            notes.append(f"the image was {w}×{h}, above the limit of {max_pixels / 1e6:.1f} MP, "
                         f"so it was downscaled to {tw}×{th}")
    else:
        try:
            img, notes = imageio.open_image(path, max_pixels, limit=limit)
        except ValueError as e:
            raise InputError(str(e)) from None
    try:
        C.check_size(img)
    except ValueError as e:
        raise InputError(str(e)) from None
    return img, notes


def heatmap(x: np.ndarray, rec: np.ndarray) -> tuple[np.ndarray, float]:
    """|x − rec| averaged over RGB, as an 'inferno' colour map (0 → black, ≥ 25 % of the range → yellow).
    Returns (uint8 RGB image, mean absolute error in grey levels)."""
    from matplotlib import colormaps

    err = np.abs(x.astype(np.float32) - rec.astype(np.float32)).mean(axis=2)
    scaled = np.clip(err / 64.0, 0, 1)
    rgb = (colormaps["inferno"](scaled)[..., :3] * 255).round().astype(np.uint8)
    return rgb, float(err.mean())


def translate_image(model, img: np.ndarray, direction: str, progress=None) -> dict:
    """Translation, cycle reconstruction, heat map and a Markdown summary for one RGB image."""
    if direction not in C.DIRECTIONS:
        raise InputError(f"Pick a direction: {' or '.join(C.DIRECTIONS)} (got {direction!r}).")
    t0 = time.perf_counter()
    out, rec = translate(model, img, direction, cycle=True, progress=progress)
    dt = time.perf_counter() - t0
    heat, mae = heatmap(img, rec)
    h, w = img.shape[:2]
    fwd, back = ("G", "F") if direction == "photo2monet" else ("F", "G")
    tiles = "one pass" if max(h, w) <= 512 else "overlapping 512² tiles (stride 384), blended"
    lines = [f"**{w}×{h}**, {tiles}; both passes took **{dt:.2f} s**.",
             f"Cycle: mean |x − {back}({fwd}(x))| = **{mae:.1f}** grey levels of 255, "
             f"PSNR(x, {back}({fwd}(x))) = **{psnr(img, rec):.1f} dB**."]
    judge = getattr(model, "judge", None)
    if judge is not None:
        p_in, p_out = monet_judge.monet_prob(judge, np.stack([img, out]))
        lines.append(f"The project's Monet-vs-photo judge (a small CNN trained on the training split) says "
                     f"P(Monet) = **{p_in:.0%}** for the input and **{p_out:.0%}** for the translation.")
    return {"out": out, "rec": rec, "heat": heat, "markdown": "\n\n".join(lines)}


# ------------------------------------------------------------------ the tab


def build(ctx: AppContext) -> None:
    import gradio as gr

    model = ctx.models["cyclegan"]
    heavy = ctx.heavy_limit

    def translate_handler(path, direction, progress=gr.Progress()):
        try:
            img, notes = load_input(path, limit=ctx.max_pixels)
            for n in notes:
                gr.Warning(f"Note: {n}.")

            def tick(done, total):
                progress(done / total, desc=f"tile {done}/{total}")
            # a low-priority thread: students' slider moves run first (serving.priority)
            r = priority.run_in_background(translate_image, model, img, direction, progress=tick)
        except InputError as e:
            raise gr.Error(str(e)) from None
        md = r["markdown"] + ("\n\n" + "\n\n".join(f"*Note: {n}.*" for n in notes) if notes else "")
        return (img, r["out"]), r["rec"], r["heat"], md

    gr.Markdown("## CycleGAN — photo ↔ Monet, learned without pairs")
    with gr.Accordion("How it works (the formulas)", open=False):
        gr.Markdown(EXPLAIN, latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                               {"left": "$", "right": "$", "display": False}])
    with gr.Row():
        with gr.Column(scale=2):
            # type="filepath" + image_mode=None: gradio hands over the file undecoded, so a huge upload
            # is downscaled while decoding (JPEG draft mode) instead of being expanded in memory first;
            # ImageInput: a broken or non-image file gets a clear message
            inp = ImageInput(max_pixels=ctx.max_pixels, type="filepath", image_mode=None, label="Your image (any size; above 1 MP it is downscaled)",
                           sources=["upload", "clipboard"], height=320, elem_id="cg_input")
            direction = gr.Radio(DIRECTION_CHOICES, value="photo2monet", label="Direction")
            btn = gr.Button("Translate", variant="primary")
            gr.Examples([[p, "photo2monet"] for p in example_paths()], [inp, direction],
                        label="Photo → Monet examples (scikit-image's public-domain pictures)")
            monets = monet_examples()
            if monets:
                gr.Examples([[p, "monet2photo"] for p, _ in monets], [inp, direction],
                            label="Monet → photo examples (Monet's paintings, public domain; held out from training)")
                gr.Markdown("<small>In order: " + "; ".join(c for _, c in monets) + ".</small>")
        with gr.Column(scale=3):
            comp = gr.ImageSlider(label="Input | translation (drag the divider, scroll to zoom)",
                                  type="numpy", format="png", interactive=False, max_height=480,
                                  elem_id="cg_slider")
            with gr.Row():
                rec = gr.Image(label="Cycle reconstruction (back to the input's domain)", type="numpy",
                               format="png", interactive=False, height=260, elem_id="cg_rec")
                heat = gr.Image(label="|x − reconstruction| (black = kept, yellow = lost)", type="numpy",
                                format="png", interactive=False, height=260, elem_id="cg_heat")
            info = gr.Markdown(elem_id="cg_info")
    btn.click(translate_handler, [inp, direction], [comp, rec, heat, info], api_name="cyclegan_translate",
              concurrency_id="heavy", concurrency_limit=heavy)
