"""pix2pix tab (issue #32): draw a face, and see why the GAN term matters (L1 alone | cGAN + L1).

Pure functions first (sketchpad values / photos in, images and Markdown out), then ``build(ctx)``.
The networks are ``ganmodels.models.pix2pix``; the drawings ``ganmodels.edges``.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from demo.common import LRU, InputError, SketchpadInput, as_int, quick
from demo.context import AppContext
from ganmodels import edges as E
from ganmodels import imageio
from ganmodels.imageio import upscale_nearest as upscale
from ganmodels.inference import face_inpaint as FI
from ganmodels.models import faces as FM
from ganmodels.models import pix2pix as P

REQUIRES = ("pix2pix_l1", "pix2pix")

SIZE = P.SIZE              # 64 px drawings and faces
SCALE = 5                  # the 64-px drawing ↔ a 320-px sketchpad (each pixel a 5×5 block)
CANVAS = SIZE * SCALE
SEP = 2                    # px of white between the two patch maps
# The outputs travel at their own 64 px and the browser enlarges them (app.CSS: .pixelated, .fit): a 256-px
# copy cost up to 60 ms of PNG encoding per sketch, most of the request (bench/latency.py)
INK_CELL = 0.3             # a 64-px cell is a line when this share of its 5×5 block is dark
MAX_INK = 0.5              # above this share of ink it is not a line drawing
COLOUR = 60                # a pixel whose channels differ by more than this is coloured
MAX_COLOUR_SHARE = 0.01    # … and a drawing with more than 1 % of such pixels is a colour drawing
DECODE_PIXELS = 4_000_000  # uploads above this are downscaled while decoded (a face becomes 64×64 anyway)
LICENCE = f"{FM.LICENCE}; the app ships weights trained on it, never its images"
LIVE = dict(trigger_mode="always_last", show_progress="hidden")

FORMULA = r"""
**The objective** (Isola et al. 2017, their Eq. 4): a conditional GAN plus an L1 term,

$$G^* = \arg\min_G\max_D\ \mathcal{L}_{cGAN}(G,D) + \lambda\,\mathcal{L}_{L1}(G)$$

$$\mathcal{L}_{cGAN}(G,D)=\mathbb{E}_{x,y}[\log D(x,y)]+\mathbb{E}_{x,z}[\log(1-D(x,G(x,z)))],\qquad \mathcal{L}_{L1}(G)=\mathbb{E}_{x,y,z}\big[\lVert y-G(x,z)\rVert_1\big]$$

$x$ is your drawing, $y$ the real face it was drawn from, $\lambda = 100$ (the paper's). $D$ sees the drawing *and* the face: it judges whether the face fits the lines, patch by patch.
The left output is trained on $\lambda\mathcal{L}_{L1}$ alone, the right on the whole objective — the same U-Net, the same pairs, the same number of steps.
The noise $z$ is dropout inside $G$ (the paper's choice); here dropout is off at test time, so the same drawing always gives the same face.
"""

PAIRED = """
**Paired vs unpaired.** pix2pix learns from *pairs*: every training drawing comes with the very face it was drawn from, so the L1 term can say pixel by pixel what the answer should be.
CycleGAN (the next tab) has no pairs — just a pile of photos and a pile of Monets — so it can only ask that the translation look like the other domain and that translating back returns the input (cycle consistency).
Where pairs exist (drawings made from photos, maps from aerial images, day from night with a fixed camera) pix2pix's supervision is stronger; where they cannot exist (photo ↔ Monet), you need CycleGAN.
"""


def receptive_field_note(model) -> str:
    rf = P.receptive_field(model.D) if model.D is not None else P.receptive_field(model.cfg)
    grid = P.patch_grid(model.cfg)
    return (f"**D's patches.** The discriminator is a PatchGAN: one real/fake score for each of {grid}×{grid} "
            f"overlapping patches of {rf}×{rf} px (the paper's 70×70 on 256² images judges a quarter of the side; "
            f"a quarter of our 64 px is 16). The map below shows, over each output, where D thinks the face "
            "is **fake** (red) — look how much of the L1 output it flags: blur is what gives L1 away.")


def perception_distortion_note(store) -> str:
    """The trade-off, with the evaluation's numbers from the manifest when they are there."""
    m = None
    try:
        m = store.manifest["files"][P.FILES["G"]]["metrics"]["pix2pix"] if store is not None else None
    except (KeyError, TypeError):
        m = None
    head = ("**Perception vs distortion.** L1 alone gives the *average* face that fits the lines: blurry, but "
            "close to the original pixel by pixel, so it wins the distortion measures (lower L1 error, higher "
            "PSNR). The GAN term trades some of that closeness for faces that look real (a lower FID): the same "
            "trade-off as SRResNet vs SRGAN in the SRGAN tab (Blau & Michaeli 2018).")
    if not m or "clean" not in m:
        return head + (" *(The numbers appear here once `python -m ganmodels.evaluate pix2pix --update-manifest` "
                       "has measured the shipped weights.)*")
    c = m["clean"]
    rows = ["| held-out faces 8,001–9,000, from their drawings | L1 only | cGAN + L1 |", "|---|---:|---:|"]
    rows += [f"| face-classifier FID to real faces (lower = more real) | {c['l1']['classifier_fid']:.1f} | "
             f"{c['cgan']['classifier_fid']:.1f} |",
             f"| L1 error, grey levels (lower = closer) | {c['l1']['l1_grey_levels']:.1f} | {c['cgan']['l1_grey_levels']:.1f} |",
             f"| PSNR, dB (higher = closer) | {c['l1']['psnr_db']:.2f} | {c['cgan']['psnr_db']:.2f} |"]
    rows += [f"| agreement with the original: {a} | {c['l1'][f'agreement_{a}']:.0%} | {c['cgan'][f'agreement_{a}']:.0%} |"
             for a in ("Male", "Smiling")]
    return head + "\n\n" + "\n".join(rows) + ("\n\n*Measured by `python -m ganmodels.evaluate pix2pix` (face-classifier FID: "
                                               "the project's face classifier's features, not Inception's).*")


# ----------------------------------------------------------------- drawings ↔ sketchpad


def drawing_to_canvas(drawing: np.ndarray) -> np.ndarray:
    """uint8 (64,64) drawing → RGBA uint8 (320,320,4), opaque, each pixel a 5×5 block."""
    g = upscale(np.asarray(drawing, np.uint8), SCALE)
    return np.dstack([g, g, g, np.full(g.shape, 255, np.uint8)])


def sketch_value(drawing: np.ndarray | None = None) -> dict:
    """A sketchpad value: the drawing (or blank paper) as the background, nothing drawn on it yet."""
    d = np.full((SIZE, SIZE), E.PAPER, np.uint8) if drawing is None else drawing
    return {"background": drawing_to_canvas(d), "layers": [], "composite": None}


def _rgba(a) -> np.ndarray | None:
    if a is None:
        return None
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.dstack([a, a, a])
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise InputError(f"The sketch is not an image (got an array of shape {a.shape}).")
    if a.shape[2] == 3:
        a = np.dstack([a, np.full(a.shape[:2], 255, np.uint8)])
    return a


def _over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """RGB of ``top`` (RGBA) composited over ``bottom`` (RGB float)."""
    if top[..., 3].min() == 255:                       # opaque (the sketchpad's composite): nothing shows through
        return top[..., :3].astype(np.float32)
    al = top[..., 3:4].astype(np.float32) / 255
    return top[..., :3].astype(np.float32) * al + bottom * (1 - al)


def compose(value) -> np.ndarray:
    """The sketchpad as the student sees it: float RGB (H, W, 3) on white paper (transparent = paper)."""
    if not isinstance(value, dict):
        raise InputError("The sketchpad is empty: draw a face (outline, eyes, nose, mouth) with the black pen, "
                         "or load the edges of a face with the buttons.")
    comp = _rgba(value.get("composite"))
    bg = _rgba(value.get("background"))
    layers = [_rgba(x) for x in (value.get("layers") or []) if x is not None]
    if comp is None and bg is None and not layers:
        raise InputError("The sketchpad is empty: draw a face (outline, eyes, nose, mouth) with the black pen, "
                         "or load the edges of a face with the buttons.")
    if comp is not None and (comp[..., 3] > 0).any():
        return _over(comp, np.full(comp.shape[:2] + (3,), 255.0, np.float32))
    base = bg if bg is not None else layers[0]
    out = _over(base, np.full(base.shape[:2] + (3,), 255.0, np.float32))
    for layer in layers:
        if layer.shape[:2] != out.shape[:2]:
            from PIL import Image
            layer = np.asarray(Image.fromarray(layer).resize(out.shape[1::-1], Image.NEAREST))
        out = _over(layer, out)
    return out


def sketch_to_drawing(value) -> tuple[np.ndarray, float]:
    """The sketchpad → the 64×64 drawing the generators take (uint8, 255 = paper, 0 = line) and its ink share.

    Refused with a message: nothing drawn, a drawing in colour, a sheet (almost) all ink."""
    from PIL import Image

    rgb = compose(value)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]                 # (element-wise: numpy's reductions
    chroma = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)   # over a 3-long axis are slow)
    coloured = float((chroma > COLOUR).mean())
    if coloured > MAX_COLOUR_SHARE:
        raise InputError(f"This drawing is in colour ({coloured:.0%} of it): the generators learnt from black pen "
                         "lines on white paper. Draw with the black pen (the white pen and the eraser remove lines), "
                         "or load the edges of a photo with the buttons.")
    dark = 1.0 - (r + g + b) / (3 * 255.0)                             # 0 = paper, 1 = ink
    if dark.shape != (CANVAS, CANVAS):
        dark = np.asarray(Image.fromarray((dark * 255).astype(np.uint8)).resize((CANVAS, CANVAS), Image.BOX),
                          np.float32) / 255.0
    cells = dark.reshape(SIZE, SCALE, SIZE, SCALE).mean((1, 3))
    line = cells >= INK_CELL
    share = float(line.mean())
    if share == 0:
        raise InputError("The sketchpad is empty: draw a face (outline, eyes, nose, mouth) with the black pen, "
                         "or load the edges of a face with the buttons.")
    if share > MAX_INK:
        raise InputError(f"The sketch is {share:.0%} ink: that is a filled sheet, not a line drawing. The generators "
                         "learnt from pen lines on white paper (about 14 % ink): clear it and draw lines.")
    return E.from_ink(line), share


def patch_overlay(face: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """The 64-px face with D's 'fake' patches in red: alpha = 0.7·(1 − P(real)), D's 30×30 map stretched over
    the face (bilinear)."""
    from PIL import Image

    fake = 1.0 - np.asarray(Image.fromarray(scores.astype(np.float32)).resize(face.shape[1::-1], Image.BILINEAR))
    al = (0.7 * np.clip(fake, 0, 1))[..., None]
    red = np.array([230, 30, 30], np.float32)
    return (face.astype(np.float32) * (1 - al) + red * al).round().astype(np.uint8)


def translate(l1, cgan, value) -> dict:
    """Both generators on the sketchpad's drawing: {"l1", "cgan" (64-px faces), "patches" (D's maps over
    both, side by side), "drawing", "status" (Markdown)}."""
    t0 = time.perf_counter()
    drawing, share = sketch_to_drawing(value)
    x = drawing[None]
    f_l1, f_cg = l1.translate(x)[0], cgan.translate(x)[0]
    s_l1, s_cg = cgan.patch_scores(np.concatenate([x, x]), np.stack([f_l1, f_cg]))
    sep = np.full((SIZE, SEP, 3), 255, np.uint8)
    ms = (time.perf_counter() - t0) * 1000
    status = (f"Drawing: {share:.1%} ink (the training drawings: about 14 %). Both generators and D: {ms:.0f} ms. "
              f"D's mean P(real) over the patches: **L1 only {s_l1.mean():.2f}**, **cGAN + L1 {s_cg.mean():.2f}**.")
    return {"l1": f_l1, "cgan": f_cg, "drawing": drawing,
            "patches": np.hstack([patch_overlay(f_l1, s_l1), sep, patch_overlay(f_cg, s_cg)]), "status": status}


def sketch_request(upload) -> list:
    """``bench/latency.py``'s request to ``pix2pix_sketch``: the first example drawing as the sketchpad's 320-px
    RGBA composite PNG, without background or layers (``upload(name, png_bytes)`` → the uploaded file's FileData)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(drawing_to_canvas(next(iter(example_drawings().values()))), "RGBA").save(buf, "PNG")
    return [{"background": None, "layers": [], "composite": upload("sketch.png", buf.getvalue())}]


# endpoints whose request carries a file: api_name → a function of the uploader giving the request's data
UPLOAD_LATENCY_ENDPOINTS = {"pix2pix_sketch": sketch_request}


# ----------------------------------------------------------------- where drawings come from


def heldout_root(ctx: AppContext) -> Path | None:
    """The first --data-dir folder that holds celeba/'s attribute list, or None."""
    p = ctx.data_file(str(FM.CELEBA_ATTRS))
    return p.parent.parent if p is not None else None


def heldout_files(root: Path) -> dict[int, str]:
    """Image number → file name of the held-out faces (8001–9000) listed in the --data-dir."""
    try:
        _, files, _ = FM.celeba_split(root, "heldout")
    except Exception as e:  # noqa: BLE001 -- a DataError: the student sees why
        raise InputError(f"The held-out faces cannot be listed: {e}") from None
    return {int(Path(f).stem): f for f in files}


def load_heldout(root: Path, files: dict[int, str], number, extract=E.extract) -> tuple[dict, str]:
    """The drawing of held-out face ``number`` (its edges, as the generators were trained on: ``extract`` is
    the loaded model's ``drawings``)."""
    from PIL import Image

    lo, hi = FM.SPLITS["heldout"]
    n = as_int(number, "Face number", lo, hi)
    if n not in files:
        raise InputError(f"Face {n:06d} is not in the attribute list of the --data-dir: pick another number.")
    try:
        with Image.open(root / FM.CELEBA_IMAGES / files[n]) as im:
            face = np.asarray(FM.frame_face(im))
    except OSError:
        raise InputError(f"Face {files[n]} could not be read from the --data-dir: pick another number.") from None
    return sketch_value(extract(face)[0]), (f"Loaded the edges of held-out CelebA face {files[n]} (never seen in "
                                             "training). Change them: erase a line, add glasses, open the mouth.")


def looks_like_a_drawing(rgb: np.ndarray) -> bool:
    """Mostly white paper, hardly any colour: an uploaded line drawing rather than a photo."""
    a = rgb.astype(np.int16)
    white = (a.min(2) > 200).mean()
    return white > 0.6 and ((a.max(2) - a.min(2)) > COLOUR).mean() < MAX_COLOUR_SHARE


def load_upload(path, limit: int = imageio.DEFAULT_MAX_PIXELS, extract=E.extract) -> tuple[dict, str]:
    """An uploaded photo → the edges of its centred square at 64×64; an uploaded line drawing → itself.
    Refused: not an image, above ``limit`` pixels, smaller than 32 px on a side."""
    from PIL import Image

    if not path:
        raise InputError("No file: choose a photo of a face (PNG, JPG, …).")
    rgb, notes = imageio.open_image(path, DECODE_PIXELS, limit=limit)
    try:
        face, more = FI.photo_to_face(rgb)
    except InputError as e:
        text = str(e)
        raise InputError(text[:1].upper() + text[1:] + ".") from None
    if looks_like_a_drawing(rgb):
        # a drawing is used as it is: its centred square at 64×64, lines where it is dark
        s = min(rgb.shape[:2])
        top, left = (rgb.shape[0] - s) // 2, (rgb.shape[1] - s) // 2
        sq = Image.fromarray(rgb[top:top + s, left:left + s]).convert("L").resize((SIZE, SIZE), Image.BOX)
        dark = 1.0 - np.asarray(sq, np.float32) / 255
        drawing = E.from_ink(dark >= 0.25)
        return sketch_value(drawing), "Your upload looks like a line drawing already: it is used as the sketch."
    return sketch_value(extract(face)[0]), f"Loaded the edges of your photo ({'; '.join(notes + more[:-1])})."


def example_drawings(extract=E.extract) -> dict[str, np.ndarray]:
    """Drawings that need no data: two faces drawn here with a pen-like width, and the edges of
    scikit-image's astronaut photograph (public domain; NASA)."""
    from PIL import Image, ImageDraw
    from skimage import data as skd

    def pen(draw_fn) -> np.ndarray:
        im = Image.new("L", (CANVAS, CANVAS), 255)
        draw_fn(ImageDraw.Draw(im))
        dark = 1.0 - np.asarray(im, np.float32) / 255
        return E.from_ink(dark.reshape(SIZE, SCALE, SIZE, SCALE).mean((1, 3)) >= INK_CELL)

    def smiling(d, glasses=False):
        w = 6
        d.ellipse((70, 40, 250, 290), outline=0, width=w)                       # the face
        d.arc((60, 0, 260, 160), 190, 350, fill=0, width=w)                     # hairline
        for cx in (125, 195):
            d.ellipse((cx - 18, 128, cx + 18, 148), outline=0, width=w)         # eyes
            d.line((cx - 25, 110, cx + 20, 106), fill=0, width=w)               # eyebrows
            if glasses:
                d.ellipse((cx - 32, 112, cx + 32, 164), outline=0, width=w)
        if glasses:
            d.line((157, 136, 163, 136), fill=0, width=w)
        d.line((160, 150, 150, 200), fill=0, width=w)                           # nose
        d.line((150, 200, 168, 202), fill=0, width=w)
        d.arc((115, 195, 205, 250), 15, 165, fill=0, width=w)                   # a smile

    astro = skd.astronaut()[35:185, 146:296]                                    # her face, framed like CelebA
    face = np.asarray(Image.fromarray(astro).resize((SIZE, SIZE), Image.LANCZOS))
    return {"a smiling face (drawn)": pen(smiling),
            "a face with glasses (drawn)": pen(lambda d: smiling(d, glasses=True)),
            "edges of scikit-image's astronaut photo (public domain)": extract(face)[0]}


# ----------------------------------------------------------------- the tab


def build(ctx: AppContext) -> None:
    import gradio as gr

    l1, cgan = ctx.models["pix2pix_l1"], ctx.models["pix2pix"]
    if cgan.D is None:
        raise InputError("the pix2pix model was loaded without its discriminator")
    decode = dict(concurrency_id="pix2pix_decode", concurrency_limit=2)
    examples = example_drawings(cgan.drawings)       # edges drawn as the generators' training drawings were
    first = next(iter(examples))
    root = heldout_root(ctx)
    listings = LRU(2)
    warm = translate(l1, cgan, sketch_value(examples[first]))      # PyTorch's first passes are slow: pay them now

    gr.Markdown("## pix2pix — draw a face (Isola et al. 2017)\nDraw with the black pen: both generators redraw "
                "your lines as a face while you draw. Left: trained with the L1 loss alone. Right: the same "
                "U-Net with the conditional GAN term added.")
    with gr.Row():
        with gr.Column(scale=3):
            sketch = SketchpadInput(
                max_pixels=ctx.max_pixels, max_side=CANVAS, value=sketch_value(examples[first]), type="numpy",
                image_mode="RGBA", format="png", canvas_size=(CANVAS, CANVAS), fixed_canvas=True, sources=(),
                transforms=(), layers=False,
                brush=gr.Brush(default_size=4, colors=["#000000", "#ffffff"], color_mode="fixed"),
                eraser=gr.Eraser(default_size=14), height=CANVAS + 110, elem_id="pix2pix_sketch",
                label="Your drawing (black pen on white; the white pen or the eraser remove lines)")
            with gr.Row():
                clear = gr.Button("Blank paper", scale=1)
                example = gr.Dropdown(list(examples), value=first, label="Examples", scale=3)
            with gr.Accordion("Start from a face's edges", open=True):
                number = b_held = None
                if root is not None:
                    lo, hi = FM.SPLITS["heldout"]
                    with gr.Row():
                        number = gr.Number(value=lo, precision=0, minimum=lo, maximum=hi, scale=2,
                                           label=f"Held-out CelebA face ({lo}–{hi}, never used in training)")
                        b_held = gr.Button("Load its edges", scale=1, elem_id="pix2pix_load_heldout")
                else:
                    gr.Markdown("*Held-out CelebA faces appear here when the app is started with `--data-dir` "
                                "pointing to a folder that holds `celeba/`.*")
                upload = gr.File(label="…or upload a photo of a face: its centred square, at 64×64, becomes edges",
                                 file_types=["image"], type="filepath")
            note = gr.Markdown("", elem_id="pix2pix_note")
        with gr.Column(scale=4):
            with gr.Row():
                out_l1 = gr.Image(value=warm["l1"], label="L1 only", type="numpy", format="png", interactive=False,
                                  height=270, elem_classes=["pixelated", "fit"], elem_id="pix2pix_l1")
                out_cg = gr.Image(value=warm["cgan"], label="cGAN + L1 (pix2pix)", type="numpy", format="png",
                                  interactive=False, height=270, elem_classes=["pixelated", "fit"], elem_id="pix2pix_cgan")
            patches = gr.Image(value=warm["patches"], label="D's patch map: L1 only | cGAN + L1 (red = D says fake)",
                               type="numpy", format="png", interactive=False, height=270, elem_id="pix2pix_patches",
                               elem_classes=["pixelated", "fit"])
            status = gr.Markdown(warm["status"], elem_id="pix2pix_status")
    latex = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
    gr.Markdown(FORMULA, elem_classes="formula", latex_delimiters=latex, elem_id="pix2pix_formula")
    gr.Markdown(receptive_field_note(cgan))
    gr.Markdown(perception_distortion_note(ctx.store), elem_id="pix2pix_tradeoff")
    gr.Markdown(PAIRED, elem_id="pix2pix_paired")
    gr.Markdown(f"*{LICENCE}.*", elem_id="pix2pix_licence")

    def draw_fn(value):
        r = translate(l1, cgan, value)
        return r["l1"], r["cgan"], r["patches"], r["status"]
    run = quick(draw_fn, "pix2pix_sketch")
    outs = [out_l1, out_cg, patches, status]
    # every finished stroke (and every loaded drawing) redraws both faces; while one request runs, the
    # strokes after it collapse into one (always_last): the newest drawing wins, the rest are dropped
    sketch.change(run, sketch, outs, api_name="pix2pix_sketch", **LIVE, **decode)
    sketch.apply(run, sketch, outs, api_visibility="private", **LIVE, **decode)

    src = [sketch, note]
    # a drawing put on the sketchpad by the app (an example, a face's edges) fires no change event in the browser
    # (only the student's strokes do), so each loader runs the generators itself once it has succeeded
    redraw = dict(fn=run, inputs=sketch, outputs=outs, api_visibility="private", **LIVE, **decode)
    clear.click(lambda: (sketch_value(), "Blank paper: draw a face."), None, src, api_visibility="private",
                show_progress="hidden")
    example.change(quick(lambda k: (sketch_value(examples[k]) if k in examples else sketch_value(),
                                    f"Example: {k}." if k in examples else ""), "pix2pix_example"),
                   example, src, api_visibility="private", show_progress="hidden").success(**redraw)
    if b_held is not None:
        def held_fn(n):
            return load_heldout(root, listings.get(root, lambda: heldout_files(root)), n, cgan.drawings)
        b_held.click(quick(held_fn, "pix2pix_load_heldout"), number, src, api_name="pix2pix_load_heldout",
                     concurrency_limit=None).success(**redraw)
    upload.upload(quick(lambda p: load_upload(p, ctx.max_pixels, cgan.drawings), "pix2pix_load_upload"), upload, src,
                  api_name="pix2pix_load_upload", **decode).success(**redraw)
