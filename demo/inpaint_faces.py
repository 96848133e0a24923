"""Inpainting tab, faces (issue #30): Yeh et al.'s search on the 64×64 face DCGAN, beside the digits.

Pure functions first (editor values / photos in, images and captions out), then ``build(ctx, ...)``,
which ``demo/inpaint.py`` puts behind its Digits/Faces switch.  The search itself is
``ganmodels.inference.face_inpaint.inpaint_faces`` (the digits' ``inpaint`` with the face defaults).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from demo.common import LRU, ImageEditorInput, InputError, as_float, as_int, quick
from demo.context import AppContext
from ganmodels import imageio
from ganmodels.errors import DataError
from ganmodels.imageio import upscale_nearest as upscale
from ganmodels.inference import face_inpaint as FI
from ganmodels.inference import inpaint as I
from ganmodels.models import faces as FM
from serving import priority

SIZE = FM.SIZE              # 64 px faces
SCALE = 5                   # 64 px face → 320 px canvas (preloaded at canvas size: the mask maps back exactly)
CANVAS = SIZE * SCALE
SHOW = 4                    # results are shown at 64·4 = 256 px
PAINT_SHARE = 0.2           # a 64-px cell is "painted" when this share of its 5×5 block is painted
DECODE_PIXELS = 4_000_000   # photos above this are downscaled while decoded (a face becomes 64×64 anyway)
# the most a student may ask for: a face step costs ~10× a digit step, so the caps are lower than the
# digits' (100 × 32); 50 steps × 16 restarts is ~4× the defaults (30 × 8)
MAX_STEPS, MAX_RESTARTS = 50, 16
DECODE = dict(concurrency_id="decode", concurrency_limit=2)     # as the digits' canvas events
LICENCE = f"{FM.LICENCE}; the app ships weights, never images"
HOLE = ((70, 70, 70), (125, 125, 125))   # the hole in "what the GAN sees": grey checks
WATCH = ("Smiling", "Male", "Eyeglasses", "Mouth_Slightly_Open")   # attributes always in the table

PAINTED = "painted mask"
PRESETS = {PAINTED: None, **{FI.MASK_LABELS[k]: k for k in FI.MASK_KINDS}}
DEFAULT_PRESET = FI.MASK_LABELS["center"]

EXPLAIN = r"""
**The same search on faces.** $G$ is now the 64×64 face DCGAN (Radford et al. 2016) and $y$ a colour face: the contextual loss sums $|W\odot(G(z)-y)|$ over the three colour channels, $W$ weighs the three alike, and Poisson blending is done per channel. Yeh et al.'s face masks: a centre square, the eyes, the mouth, the left half, 80 % random pixels.
A face step costs about ten digit steps, so the defaults are fewer restarts (8) and steps (30).
Where it differs from the paper, as on digits: a known pixel with no missing neighbour keeps a weight of 0.2 (Yeh et al.: 0), so the whole face still anchors the fit; and z ~ N(0, I) is kept within ±2.5 per coordinate (Yeh et al.'s prior was uniform on [−1, 1], which has edges; a Gaussian has none, so the clip is ours).
The attribute classifier (40 CelebA attributes) reads the original and every completion: does the fill keep the smile, the glasses, the "Male" reading that the known pixels suggest?
"""


# ----------------------------------------------------------------- images ↔ canvas


def face_to_canvas(face: np.ndarray) -> np.ndarray:
    """uint8 (64,64,3) → RGBA uint8 (320,320,4), each pixel a 5×5 block."""
    rgb = upscale(np.asarray(face, np.uint8), SCALE)
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])


def editor_value(face: np.ndarray) -> dict:
    return {"background": face_to_canvas(face), "layers": [], "composite": None}


def face_from_editor(value) -> np.ndarray:
    """The editor's background → uint8 (64,64,3): block means of a 320×320 canvas; any other
    image is framed like a photo (centre square, resized)."""
    if not isinstance(value, dict) or value.get("background") is None:
        raise InputError("The canvas is empty: load a face first (held-out, generated or your photo).")
    bg = np.asarray(value["background"])
    if bg.ndim < 2 or bg.size == 0:
        raise InputError("The canvas holds no image: load a face first.")
    rgb, _ = imageio.as_rgb(bg, what="the canvas")
    if rgb.shape[:2] == (CANVAS, CANVAS):
        return rgb.reshape(SIZE, SCALE, SIZE, SCALE, 3).mean((1, 3)).round().astype(np.uint8)
    return FI.photo_to_face(rgb)[0]


def painted_cells(value, size: int, scale: int, share: float = PAINT_SHARE) -> np.ndarray:
    """Painted cells (bool (size,size)) of a (size·scale)² canvas: OR over the editor's layers of
    alpha > 0, a cell painted when ``share`` of its scale×scale block is.  (The digits use it too.)"""
    canvas = size * scale
    painted = np.zeros((canvas, canvas), bool)
    for layer in (value or {}).get("layers") or []:
        if layer is None:
            continue
        a = np.asarray(layer)
        if a.ndim == 3 and a.shape[2] == 4:
            alpha = a[..., 3] > 0
        elif a.ndim == 3:
            alpha = a[..., :3].max(2) > 0       # no alpha channel: any non-black paint
        else:
            alpha = a > 0
        if alpha.shape != painted.shape:
            from PIL import Image
            alpha = np.asarray(Image.fromarray(alpha.astype(np.uint8) * 255).resize((canvas, canvas))) > 127
        painted |= alpha
    return painted.reshape(size, scale, size, scale).mean((1, 3)) >= share


def get_mask(value, preset: str, seed: int = 0) -> np.ndarray:
    """Known-pixel mask float (64,64), 1 = known, from a preset (Yeh et al.'s face masks) or the strokes."""
    if preset not in PRESETS:
        raise InputError(f"Unknown mask {preset!r}; choose one of: {', '.join(PRESETS)}")
    kind = PRESETS[preset]
    if kind is None:
        return (~painted_cells(value, SIZE, SCALE)).astype(np.float32)
    return FI.face_mask(kind, seed=seed)


def masked_view(face: np.ndarray, known: np.ndarray) -> np.ndarray:
    """What the GAN sees: the known pixels, the hole in grey checks. RGB uint8 (256,256,3)."""
    rgb = np.array(face, np.uint8)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    checks = np.where((((yy // 4) + (xx // 4)) % 2 == 0)[..., None], HOLE[0], HOLE[1]).astype(np.uint8)
    hole = known < 0.5
    rgb[hole] = checks[hole]
    return upscale(rgb, SHOW)


# ----------------------------------------------------------------- image sources


@dataclass
class HeldOut:
    """The held-out CelebA faces (``faces.SPLITS["heldout"]``) of a --data-dir: listed, read one at a time."""
    root: Path                  # the --data-dir folder holding celeba/
    index: dict[int, int]       # image number → row
    files: list[str]
    attrs: np.ndarray           # uint8 (N, 40)
    names: list[str]


def heldout_root(ctx: AppContext) -> Path | None:
    """The first --data-dir folder that holds celeba/'s attribute list, or None."""
    p = ctx.data_file(str(FM.CELEBA_ATTRS))
    return p.parent.parent if p is not None else None


def list_heldout(root: Path) -> HeldOut:
    try:
        names, files, attrs = FM.celeba_split(root, "heldout")
    except DataError as e:
        raise InputError(f"The held-out faces cannot be listed: {e}") from None
    return HeldOut(root, {int(Path(f).stem): i for i, f in enumerate(files)}, files, attrs, names)


def load_heldout_face(held: HeldOut, number) -> tuple[dict, str]:
    """Held-out face ``number`` (8001–9000), framed like the training faces, and a line saying which."""
    from PIL import Image

    lo, hi = FM.SPLITS["heldout"]
    n = as_int(number, "Face number", lo, hi)
    if n not in held.index:
        raise InputError(f"Face {n:06d} is not in the attribute list of the --data-dir: pick another number.")
    i = held.index[n]
    path = held.root / FM.CELEBA_IMAGES / held.files[i]
    try:
        with Image.open(path) as im:
            face = np.asarray(FM.frame_face(im))
    except OSError:
        raise InputError(f"Face {held.files[i]} could not be read from the --data-dir: pick another number.") from None
    labels = [held.names[j] for j in np.nonzero(held.attrs[i])[0]]
    return editor_value(face), (f"Loaded held-out CelebA face {held.files[i]} (never seen in training); "
                                f"labelled: {', '.join(labels[:8]) or 'none of the 40 attributes'}"
                                f"{' …' if len(labels) > 8 else ''}.")


def load_generated_face(gan, seed) -> tuple[dict, str]:
    s = as_int(seed, "Seed", 0, 2**31 - 1)
    face = FM.sample_uint8(gan, 1, seed=s)[0]
    return editor_value(face), f"Loaded G(z) for seed {s}: a face the GAN itself made, so a perfect fill exists."


def convert_upload(path, limit: int = imageio.DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, list[str]]:
    """An uploaded photo → uint8 (64,64,3) and what was done to it.  Refused: not an image, more than
    ``limit`` pixels (from the header), smaller than ``FI.MIN_SIDE`` on a side; grey is converted."""
    if not path:
        raise InputError("No file: choose a photo (PNG, JPG, …) of a face.")
    rgb, notes = imageio.open_image(path, DECODE_PIXELS, limit=limit)
    try:
        face, more = FI.photo_to_face(rgb)
    except InputError as e:
        raise InputError(_sentence(str(e))) from None
    return face, notes + more


def load_upload(path, limit: int = imageio.DEFAULT_MAX_PIXELS) -> tuple[dict, str]:
    face, notes = convert_upload(path, limit)
    return editor_value(face), f"Loaded your photo: {'; '.join(notes)}."


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# ----------------------------------------------------------------- running


def settings(lam, steps, restarts, seed) -> dict:
    return dict(lam=as_float(lam, "λ", 0.0, 10.0), steps=as_int(steps, "Steps", 1, MAX_STEPS),
                restarts=as_int(restarts, "Restarts", 1, MAX_RESTARTS), seed=as_int(seed, "Seed", 0, 2**31 - 1))


def live_frame(state: I.InpaintState) -> np.ndarray:
    """[current best G(z) | its composite with the known pixels] side by side, uint8 (256, 516, 3)."""
    a = FI.to_uint8_hwc(state.best)[0]
    b = FI.to_uint8_hwc(state.composite)[0]
    sep = np.full((SIZE, 1, 3), 60, np.uint8)
    return upscale(np.hstack([a, sep, b]), SHOW)


def attributes(classifier, images_u8: np.ndarray) -> np.ndarray | None:
    """The face classifier's 40 probabilities per image (N, 40), or None without a classifier."""
    if classifier is None:
        return None
    from ganmodels.models.face_classifier import predict
    return predict(classifier, images_u8)[0]


def changed_most(probs: np.ndarray, k: int = 2) -> list[int]:
    """The ``k`` attributes whose probability differs most between row 0 (the original) and row 1."""
    return [int(j) for j in np.argsort(-np.abs(probs[1] - probs[0]), kind="stable")[:k]]


def attribute_caption(p: np.ndarray, cols: list[int]) -> str:
    """e.g. "Smiling 0.82, Male 0.10"."""
    return ", ".join(f"{FM.ATTRIBUTES[j]} {p[j]:.2f}" for j in cols)


def attribute_table(probs: np.ndarray, heads: list[str]) -> str:
    """A Markdown table: the WATCH attributes and the two that changed most, one column per image."""
    rows = [FM.ATTRIBUTES.index(a) for a in WATCH]
    rows += [j for j in changed_most(probs, 4) if j not in rows][:2]
    out = ["| attribute (face classifier) | " + " | ".join(heads) + " |",
           "|---|" + "---:|" * len(heads)]
    out += [f"| {FM.ATTRIBUTES[j]} | " + " | ".join(f"{p[j]:.2f}" for p in probs) + " |" for j in rows]
    return "\n".join(out)


def run_faces(gan, classifier, editor, preset, lam, steps, restarts, seed, blend="poisson", device="cpu",
              *, curve: Callable[[dict, int, float], np.ndarray]):
    """The face search as a generator of UI updates (dicts keyed by output name), like the digits'.

    Yields {"frame", "curve", "status"} while optimising (the first at once: the input, before the
    starting points are scored), then everything incl. "results" and "top4" (lists of (image, caption))
    and "attributes" (Markdown).  ``curve(history, steps, lam)`` draws the loss plot.
    """
    s = settings(lam, steps, restarts, seed)
    if blend not in I.BLENDS:
        raise InputError(f"Blending must be one of {', '.join(I.BLENDS)}")
    face = face_from_editor(editor)
    known = get_mask(editor, preset, s["seed"])
    try:
        FI.check_mask(known)
    except InputError as e:
        raise InputError(_sentence(str(e))) from None
    n_missing = int((known < 0.5).sum())
    head = f"{n_missing} of {SIZE * SIZE} pixels missing ({100 * n_missing / known.size:.0f} %)."
    t0 = time.perf_counter()
    empty = {"contextual": [], "perceptual": [], "total": []}
    sep = np.full((SIZE * SHOW, SHOW, 3), 60, np.uint8)
    yield {"frame": np.hstack([masked_view(face, known), sep, masked_view(face, known)]),
           "curve": curve(empty, s["steps"], s["lam"]),
           "status": f"{head}\n\nChoosing starting points: {FI.POOL} random z scored by the contextual loss "
                     f"(the best {s['restarts']} will be optimised)…"}
    it = FI.inpaint_faces(gan.G, gan.D, face[None], known[None], steps=s["steps"], lam=s["lam"],
                          restarts=s["restarts"], seed=s["seed"], blend=blend, device=device,
                          frame_every=I.FRAME_EVERY,   # a face frame costs more to send than a digit one
                          pause=priority.yield_to_interactive)     # students' quick requests go first
    while True:
        try:
            st = next(it)
        except StopIteration as e:
            res = e.value
            break
        yield {"frame": live_frame(st), "curve": curve(st.history, s["steps"], s["lam"]),
               "status": f"{head}\n\nOptimising: step {st.step}/{s['steps']}, {s['restarts']} restarts, "
                         f"{time.perf_counter() - t0:.1f} s"}
    out = FI.to_uint8_hwc(res.image)[0]
    raw = FI.to_uint8_hwc(res.generated)[0]
    bih = I.biharmonic(face, known)
    mean = I.mean_fill(face, known)
    probs = attributes(classifier, np.stack([face, out, raw, bih, mean]))
    cols = changed_most(probs) if probs is not None else []
    cap = (lambda text, i: text if probs is None else f"{text}: {attribute_caption(probs[i], cols)}")  # noqa: E731
    results = [(upscale(face, SHOW), cap("original (hidden part included)", 0)),
               (masked_view(face, known), "input (grey checks = missing)"),
               (upscale(out, SHOW), cap(f"result x̂ ({blend})", 1)),
               (upscale(raw, SHOW), cap("raw G(ẑ)", 2)),
               (upscale(bih, SHOW), cap("biharmonic", 3)),
               (upscale(mean, SHOW), cap("mean fill", 4))]
    pick = I.distinct(res.candidates[0], res.mask[0], k=4)
    comp = res.mask[0] * FI.to_nchw(face)[0] + (1 - res.mask[0]) * res.candidates[0, pick]
    tops = FI.to_uint8_hwc(comp)
    tp = attributes(classifier, tops)
    top4 = [(upscale(t, SHOW), f"#{p + 1} (loss {res.losses['total'][0, p]:.3g})"
             + ("" if tp is None else f": {attribute_caption(q, cols)}"))
            for t, p, q in zip(tops, pick, tp if tp is not None else [None] * len(tops))]
    table = ("" if probs is None else
             attribute_table(probs, ["original", "result x̂", "raw G(ẑ)", "biharmonic", "mean fill"]))
    last = res.history["total"][-1][0]
    status = (f"{head}\n\nDone in {time.perf_counter() - t0:.2f} s: {s['steps']} steps × {s['restarts']} restarts. "
              f"Best restart: contextual {res.losses['contextual'][0, 0]:.3g}, "
              f"perceptual log(1−D) {res.losses['perceptual'][0, 0]:.3g}, total {last:.3g}.")
    yield {"frame": live_frame(I.InpaintState(s["steps"], s["steps"], res.generated, res.composite,
                                                res.history, res.elapsed)),
           "curve": curve(res.history, s["steps"], s["lam"]), "status": status,
           "results": results, "top4": top4, "attributes": table}


def warm_up(gan, device="cpu") -> None:
    """PyTorch's first passes with a new set of shapes are slow: pay them at start-up, not on a click."""
    face, known = np.zeros((1, SIZE, SIZE, 3), np.uint8), FI.face_mask("center")[None]
    FI.complete_faces(gan.G, gan.D, face, known, steps=1, restarts=FI.RESTARTS, pool=FI.RESTARTS, device=device)
    I.biharmonic(face[0], known[0])           # and the baseline's first call (it imports scikit-image)


# ----------------------------------------------------------------- the face half of the tab


@dataclass
class _Sources:
    number: Any      # held-out face number (None without data)
    b_held: Any
    b_rand: Any
    gseed: Any
    b_gen: Any
    upload: Any


def build(ctx: AppContext, *, curve: Callable[[dict, int, float], np.ndarray]) -> None:
    """The face controls (inside the caller's container): canvas, sources, presets, the live search."""
    import gradio as gr

    gan = ctx.models["faces"]
    clf = ctx.models.get("face_classifier")
    device = ctx.device
    heavy = dict(concurrency_id="heavy", concurrency_limit=ctx.heavy_limit)
    root = heldout_root(ctx)
    listings = LRU(2)                                   # the held-out list, read on first use (read-only)
    warm_up(gan, device)
    first = FM.sample_uint8(gan, 1, seed=7)[0]

    gr.Markdown("## Inpainting faces\nLoad a face, paint over the part to hide (or pick one of Yeh et al.'s "
                "masks) and press **Fill the hole in the face**.")
    with gr.Row():
        with gr.Column(scale=3):
            editor = ImageEditorInput(
                max_pixels=ctx.max_pixels, max_side=CANVAS, value=editor_value(first), type="numpy",
                image_mode="RGBA", format="png", canvas_size=(CANVAS, CANVAS), fixed_canvas=True, sources=(),
                transforms=(), layers=False, brush=gr.Brush(default_size=20, colors=["#ff40ff"], color_mode="fixed"),
                eraser=gr.Eraser(default_size=20), label="Face canvas: paint the part to hide",
                height=CANVAS + 110, elem_id="inpaint_faces_editor")
            with gr.Accordion("Face source", open=True):
                src = _source_controls(root)
            source_note = gr.Markdown("Loaded G(z) for seed 7: a face the GAN itself made.",
                                      elem_id="inpaint_faces_note")
        with gr.Column(scale=2):
            preset = gr.Radio(list(PRESETS), value=DEFAULT_PRESET, label="Face mask")
            preview = gr.Image(value=masked_view(first, FI.face_mask("center")), label="What the face GAN sees",
                               type="numpy", format="png", interactive=False, height=256, elem_classes="pixelated")
            lam = gr.Slider(0, 1, value=FI.LAM, step=0.01, label="λ for faces (weight of the perceptual loss)")
            steps = gr.Slider(1, MAX_STEPS, value=FI.STEPS, step=1, label="Adam steps on z (faces)")
            restarts = gr.Slider(1, MAX_RESTARTS, value=FI.RESTARTS, step=1, label="Restarts (faces)")
            with gr.Row():
                seed = gr.Number(value=0, precision=0, minimum=0, label="Seed of the restarts (faces)")
                blend = gr.Radio(list(I.BLENDS), value="poisson", label="Blending (faces)")
            run = gr.Button("Fill the hole in the face", variant="primary", elem_id="inpaint_faces_run")
    with gr.Row():
        frame = gr.Image(label="Live: current best G(z) | composite with your pixels", type="numpy",
                         format="png", interactive=False, height=260, elem_classes="pixelated")
        plot = gr.Image(label="Loss of the best restart per step", type="numpy", format="png",
                        interactive=False, height=260)
    status = gr.Markdown("", elem_id="inpaint_faces_status")
    results = gr.Gallery(label="Original, input, result vs baselines (with the face classifier's reading)",
                         columns=6, height=320, format="png", elem_id="inpaint_faces_results", object_fit="contain")
    table = gr.Markdown("", elem_id="inpaint_faces_attributes")
    top4 = gr.Gallery(label="Distinct completions (the hole can be filled in more than one way)",
                      columns=4, height=320, format="png", object_fit="contain")
    gr.Markdown(EXPLAIN, elem_classes="formula", latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                                                   {"left": "$", "right": "$", "display": False}])
    gr.Markdown(f"*{LICENCE}.*", elem_id="inpaint_faces_licence")

    def run_fn(ed, pre, lam_v, steps_v, rest_v, seed_v, blend_v):
        try:
            # in a low-priority thread: students' slider moves run first (serving.priority)
            for upd in priority.iterate_in_background(run_faces, gan, clf, ed, pre, lam_v, steps_v, rest_v,
                                                      seed_v, blend_v, device, curve=curve):
                yield (upd["frame"], upd["curve"], upd["status"], upd.get("results", gr.skip()),
                       upd.get("top4", gr.skip()), upd.get("attributes", gr.skip()))
        except InputError as e:
            raise gr.Error(str(e)) from None
    run_fn.__name__ = "inpaint_faces"
    run.click(run_fn, [editor, preset, lam, steps, restarts, seed, blend], [frame, plot, status, results, top4, table],
              api_name="inpaint_faces", **heavy)

    def prev_fn(ed, pre, seed_v):
        return masked_view(face_from_editor(ed), get_mask(ed, pre, as_int(seed_v, "Seed", 0, 2**31 - 1)))
    preview_fn = quick(prev_fn, "inpaint_faces_preview")
    editor.change(preview_fn, [editor, preset, seed], preview, trigger_mode="always_last", show_progress="hidden",
                  api_name="inpaint_faces_preview", **DECODE)
    for ev in (preset.change, seed.change, editor.input, editor.apply):
        ev(preview_fn, [editor, preset, seed], preview, trigger_mode="always_last", show_progress="hidden",
           api_visibility="private", **DECODE)

    out = [editor, source_note]
    if src.number is not None:
        def held_fn(n):
            return load_heldout_face(listings.get(root, lambda: list_heldout(root)), n)
        load_held = quick(held_fn, "inpaint_faces_load_heldout")
        src.b_held.click(load_held, src.number, out, api_name="inpaint_faces_load_heldout", concurrency_limit=None)
        lo, hi = FM.SPLITS["heldout"]
        src.b_rand.click(lambda: int(np.random.default_rng().integers(lo, hi + 1)), None, src.number,
                         api_visibility="private").then(load_held, src.number, out, api_visibility="private")
    src.b_gen.click(quick(lambda s: load_generated_face(gan, s), "inpaint_faces_load_generated"), src.gseed, out,
                    api_name="inpaint_faces_load_generated", concurrency_limit=None)
    src.upload.upload(quick(lambda p: load_upload(p, ctx.max_pixels), "inpaint_faces_load_upload"), src.upload, out,
                      api_name="inpaint_faces_load_upload", **DECODE)


def _source_controls(root: Path | None) -> _Sources:
    """Where the face comes from: a held-out CelebA face (with --data-dir), a generated one, a photo."""
    import gradio as gr

    number = b_held = b_rand = None
    if root is not None:
        lo, hi = FM.SPLITS["heldout"]
        with gr.Row():
            number = gr.Number(value=lo, precision=0, minimum=lo, maximum=hi,
                               label=f"Held-out CelebA face number ({lo}–{hi}, never used in training)", scale=2)
            b_held = gr.Button("Load held-out face", scale=1)
            b_rand = gr.Button("Random one", scale=1)
    else:
        gr.Markdown("*Held-out CelebA faces appear here when the app is started with `--data-dir` "
                    "pointing to a folder that holds `celeba/`.*")
    with gr.Row():
        gseed = gr.Number(value=7, precision=0, minimum=0, label="Seed of a generated face", scale=2)
        b_gen = gr.Button("Load generated face", scale=1)
    upload = gr.File(label="…or upload a photo of a face (it is centre-cropped and resized to 64×64)",
                     file_types=["image"], type="filepath")
    return _Sources(number, b_held, b_rand, gseed, b_gen, upload)
