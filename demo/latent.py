"""Latent space tab: what a DCGAN's input z means.

Pure functions first (numbers in, images out), then ``build(ctx)``.  What the tab computes
once (the GANSpace directions) and caches (sample grids, the classified pool) lives in its
``LatentModel``, made by ``prepare(ctx)`` when the tab is built.
"""
import math
import tempfile
import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from demo.common import LIVE, LRU, InputError, Number, Slider, as_float, as_int, digit_image, grid, quick, slow
from demo.context import AppContext
from ganmodels.data import to_uint8
from ganmodels.imageio import write_gif
from serving.perf import bf16_pays, cpu_bf16

REQUIRES = ("dcgan",)
OPTIONAL = ("classifier",)

N_PCS = 6        # principal directions shown as sliders
N_RAW = 4        # raw z dimensions shown as sliders
GRID = 64        # 8×8 sample grid
POOL = 512       # samples addressable by index in the z-arithmetic
GRID_SCALE, GRID_PAD = 2, 2   # the 8×8 sample grid: 8·(56+2)+2 = 466 px (fits a laptop screen)
SCALE = 4        # 28 px → 112 px (shown larger with CSS image-rendering: pixelated)
MAX_SEED = 2**31 - 1
Z_SCALE_LABEL = "z scale ψ (a simple truncation: z·ψ, not BigGAN's resampling)"

EXPLAIN = r"""
**What you are looking at.** The generator maps a latent vector $z \sim \mathcal N(0, I_{d})$ to an image $x = G(z)$.
Nearby $z$ give similar digits, so you can *walk* in latent space.

**The model.** The shipped DCGAN follows Radford et al. (2016) — transposed convolutions, batchnorm, ReLU/Tanh in G, strided convolutions and LeakyReLU in D —
with three additions the paper does not have: a two-layer mapping MLP from $z$ (fully connected hidden layers, against the paper's guideline to remove them),
an R1 penalty on D, and an exponential moving average (EMA) of G's weights, which is the G shown here.

* **z scale** $\psi$: we show $G(\psi z)$ — $z$ multiplied by $\psi$, a simple form of truncation. It is not BigGAN's truncation trick (resample the coordinates
  outside a threshold) nor StyleGAN's $\psi$ (towards the mean in $W$). $\psi<1$ pulls $z$ towards the centre of the prior — cleaner, more typical, less varied digits.
* **Principal directions** (GANSpace, Härkönen et al. 2020): sample 2,000 $z$, take the generator's first feature map $h(z)$ (7×7, where its fully connected part ends),
  find its principal components $u_k$ and regress them back to directions $v_k$ in $z$-space. A slider moves $z \leftarrow z + \alpha_k v_k$.
* **Raw dimensions**: set $z_i$ directly. One coordinate alone rarely means anything — the meaningful directions are mixtures.
* **Interpolation** from $z_a$ to $z_b$: linear $z_t=(1-t)z_a+t z_b$ or spherical
  $z_t=\frac{\sin((1-t)\Omega)}{\sin\Omega}z_a+\frac{\sin(t\Omega)}{\sin\Omega}z_b$, $\cos\Omega=\frac{z_a\cdot z_b}{\|z_a\|\|z_b\|}$.
  In high dimensions almost all of $\mathcal N(0,I)$ lies near the sphere $\|z\|\approx\sqrt d$; the linear midpoint falls inside it (shorter $z$), slerp stays on it.
* **z-arithmetic** (Radford et al. 2016, §6.3): average the $z$ of three samples per concept, then $\bar z_A-\bar z_B+\bar z_C$;
  the $3\times3$ grid adds uniform noise in $[-0.25, 0.25]$ per coordinate (as the paper did; the slider sets the bound) around the result, which stays in the centre. The same sum on *pixels* just overlays images.
"""


@dataclass(eq=False)
class LatentModel:
    """The DCGAN plus what the tab computes once at load (the GANSpace directions) and its caches."""
    gan: object                     # ganmodels.models.dcgan.DCGAN
    directions: np.ndarray          # (N_PCS, z_dim), unit rows
    explained: np.ndarray           # share of variance of each component
    classifier: object | None = None
    bf16_g: bool = False            # batched renders (the grid, the pool) under bfloat16: measured faster here
    bf16_c: bool = False            # the same for the classifier reading the pool
    # a class opens the tab on seed 0 and tries the same few seeds: each 8×8 grid is drawn once
    grids: LRU = field(init=False, repr=False, default_factory=lambda: LRU(128))      # (seed, ψ) → grid
    # seed → the classified chunks of its pool read so far (read POOL_CHUNK samples at a time)
    pool: LRU = field(init=False, repr=False, default_factory=lambda: LRU(32))
    pool_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    @property
    def z_dim(self) -> int:
        return self.gan.z_dim


@torch.no_grad()
def ganspace_directions(gan, k: int = N_PCS, n: int = 2000, seed: int = 123) -> tuple[np.ndarray, np.ndarray]:
    """PCA of G's first feature map h(z) (the output of G.project), regressed back to z (GANSpace). Returns (V (k, z_dim), explained)."""
    z = torch.randn(n, gan.z_dim, generator=torch.Generator().manual_seed(seed))
    G = gan.G
    h = G.project(z.to(gan.device)).cpu() if hasattr(G, "project") else G(z.to(gan.device)).flatten(1).cpu()
    h = h - h.mean(0)
    # PCA through the n × n Gram matrix h hᵀ = U S² Uᵀ: the same components as an SVD of h (n = 2000 rows,
    # 6272 features) in ~1 s instead of ~7 s of the app's start-up
    ev, U = torch.linalg.eigh(h @ h.T)                         # ascending
    ev, U = ev.flip(0).clamp_min(0), U.flip(1)
    coords = U[:, :k] * ev[:k].sqrt()                          # (n, k): PCA coordinates
    V = torch.linalg.lstsq(coords, z).solution                 # (k, z_dim): z ≈ coords @ V
    V = V / V.norm(dim=1, keepdim=True)
    # an eigenvector's sign is arbitrary: make each direction's largest entry positive (scikit-learn's
    # svd_flip convention) so that a slider's sense does not depend on the linear-algebra library
    V = V * torch.sign(V.gather(1, V.abs().argmax(1, keepdim=True)))
    explained = (ev[:k] / ev.sum()).numpy()
    return V.numpy().astype(np.float32), explained


def prepare(ctx: AppContext) -> LatentModel:
    """The tab's model: the DCGAN, its GANSpace directions, and whether bfloat16 pays on this CPU."""
    V, ex = ganspace_directions(ctx.models["dcgan"])
    lm = LatentModel(ctx.models["dcgan"], V, ex, ctx.models.get("classifier"))
    lm.bf16_g, lm.bf16_c = batch_precision(lm)
    return lm


def batch_precision(lm: LatentModel) -> tuple[bool, bool]:
    """Whether G on a grid's 64 z's, and the classifier on a pool chunk of its digits, run faster under
    bfloat16 here (``serving.perf.bf16_pays``); on a GPU, or for single images, float32 is kept."""
    if lm.gan.device.type != "cpu":
        return False, False
    z = lm.gan.z_from_seed(0, GRID)
    fast_g = bf16_pays(lambda: lm.gan.generate(z))
    fast_c = False
    if lm.classifier is not None:
        from ganmodels.models.classifier import predict

        x = lm.gan.generate(lm.gan.z_from_seed(1, POOL_CHUNK))
        fast_c = bf16_pays(lambda: torch.from_numpy(predict(lm.classifier, x)[0]), max_mean=0.005, max_abs=0.1)
    return fast_g, fast_c


# ---------------------------------------------------------------- pure functions


def seed_z(lm: LatentModel, seed, n: int = GRID) -> torch.Tensor:
    seed = as_int(seed, "Seed", 0, MAX_SEED)
    return lm.gan.z_from_seed(seed, n)


@torch.no_grad()
def render(lm: LatentModel, z: torch.Tensor, batched: bool = False) -> np.ndarray:
    """G(z) as uint8 digits; ``batched``: a many-z render, in bfloat16 where that was measured faster."""
    with cpu_bf16(batched and lm.bf16_g):
        x = lm.gan.generate(z)
    return to_uint8(x.float())


def sample_grid(lm: LatentModel, seed=0, truncation=1.0) -> np.ndarray:
    """The 8×8 grid of G(ψ z_i) for the seed (what the user picks a sample from)."""
    psi = as_float(truncation, "z scale ψ", 0.0, 2.0, clamp=True)
    seed = as_int(seed, "Seed", 0, MAX_SEED)
    psi = round(psi, 4)
    return lm.grids.get((seed, psi), lambda: _draw_grid(lm, seed, psi)).copy()


def _draw_grid(lm: LatentModel, seed: int, psi: float) -> np.ndarray:
    imgs = render(lm, seed_z(lm, seed) * psi, batched=True)
    return grid(imgs, nrow=8, scale=GRID_SCALE, pad=GRID_PAD)


def grid_index_from_click(x: float, y: float, cell: int = 28 * GRID_SCALE + GRID_PAD, pad: int = GRID_PAD) -> int:
    """(x, y) in the grid image's own pixels (Gradio's select event reports those; it assumes the
    image is never shown larger than it is, so the grid is sent at the size it is shown) → index."""
    col = int((x - pad) // cell)
    row = int((y - pad) // cell)
    return int(min(max(row, 0), 7) * 8 + min(max(col, 0), 7))


def base_z(lm: LatentModel, seed, index) -> torch.Tensor:
    index = as_int(index, "Sample index", 0, GRID - 1)
    return seed_z(lm, seed)[index]


def edit_z(lm: LatentModel, seed, index, truncation, pcs, raws) -> torch.Tensor:
    z = base_z(lm, seed, index).clone()
    for i, v in enumerate(raws):
        z[i] = as_float(v, f"z[{i}]", -4.0, 4.0, clamp=True)
    for k, a in enumerate(pcs):
        z += as_float(a, f"Direction {k + 1}", -5.0, 5.0, clamp=True) * torch.from_numpy(lm.directions[k])
    return z * as_float(truncation, "z scale ψ", 0.0, 2.0, clamp=True)


@torch.no_grad()
def describe(lm: LatentModel, z: torch.Tensor, img: torch.Tensor | None = None) -> str:
    """One line of numbers about a latent: ‖z‖ vs √d, D(G(z)), and the classifier's reading."""
    d = lm.z_dim
    parts = [f"‖z‖ = {z.norm():.2f} (typical: √{d} ≈ {math.sqrt(d):.1f})"]
    x = lm.gan.generate(z[None]) if img is None else img
    if lm.gan.D is not None:
        p = torch.sigmoid(lm.gan.D(x.to(lm.gan.device))).item()
        parts.append(f"D(G(z)) = {p:.2f}")
    if lm.classifier is not None:
        from ganmodels.models.classifier import predict
        probs, _ = predict(lm.classifier, x)
        parts.append(f"classifier: **{probs[0].argmax()}** ({probs[0].max():.0%})")
    return " · ".join(parts)


def edit(lm: LatentModel, seed, index, truncation, *sliders) -> tuple[np.ndarray, str]:
    pcs, raws = sliders[:N_PCS], sliders[N_PCS:N_PCS + N_RAW]
    z = edit_z(lm, seed, index, truncation, pcs, raws)
    x = lm.gan.generate(z[None])
    return digit_image(to_uint8(x)[0], SCALE), describe(lm, z, x)


def raw_values(lm: LatentModel, seed, index) -> list[float]:
    z = base_z(lm, seed, index)
    return [round(float(v), 2) for v in z[:N_RAW]]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows a and b at times t (T,) → (T, d)."""
    an, bn = a / a.norm(), b / b.norm()
    omega = torch.arccos((an * bn).sum().clamp(-1 + 1e-7, 1 - 1e-7))
    so = torch.sin(omega)
    t = t[:, None]
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    t = t[:, None]
    return (1 - t) * a + t * b


def interpolate(lm: LatentModel, seed_a=0, seed_b=1, frames=10, mode="slerp", truncation=1.0):
    """Returns (strip image, GIF path, figure of ‖z_t‖ for lerp and slerp)."""
    frames = as_int(frames, "Frames", 2, 64)
    if mode not in ("lerp", "slerp"):
        raise InputError("Mode must be 'lerp' or 'slerp'")
    psi = as_float(truncation, "z scale ψ", 0.0, 2.0, clamp=True)
    za = lm.gan.z_from_seed(as_int(seed_a, "Seed A", 0, MAX_SEED))[0]
    zb = lm.gan.z_from_seed(as_int(seed_b, "Seed B", 0, MAX_SEED))[0]
    t = torch.linspace(0, 1, frames)
    path = (slerp if mode == "slerp" else lerp)(za, zb, t)
    imgs = render(lm, path * psi)
    strip = grid(imgs, nrow=frames, scale=3, pad=2)
    big = [digit_image(im, 6) for im in imgs]
    gif = str(write_gif(big + big[-2:0:-1], tempfile.NamedTemporaryFile(suffix=".gif", delete=False).name, 90))
    return strip, gif, norm_plot(za, zb, lm.z_dim)


def norm_plot(za, zb, d):
    """‖z_t‖ along lerp and slerp, and √d, as a table for gr.LinePlot (drawn by the browser:
    no server-side rendering, so a class clicking "Interpolate" at once costs little)."""
    import pandas as pd

    t = torch.linspace(0, 1, 50)
    rows = {"lerp": lerp(za, zb, t).norm(dim=1), "slerp": slerp(za, zb, t).norm(dim=1),
            "√d (typical ‖z‖)": torch.full((50,), math.sqrt(d))}
    return pd.DataFrame({"t": np.tile(t.numpy(), len(rows)),
                         "‖z_t‖": torch.cat(list(rows.values())).numpy().round(4),
                         "path": np.repeat(list(rows), 50)})


def parse_group(text, name: str) -> list[int]:
    try:
        idx = [int(s) for s in str(text).replace(";", ",").split(",") if s.strip()]
    except ValueError:
        raise InputError(f"{name}: give sample numbers separated by commas, e.g. 3, 17, 42") from None
    if not idx:
        raise InputError(f"{name}: pick at least one sample number")
    bad = [i for i in idx if not 0 <= i < POOL]
    if bad:
        raise InputError(f"{name}: sample numbers go from 0 to {POOL - 1} (got {bad})")
    return idx


def arithmetic_neighbours(z: torch.Tensor, noise: float = 0.25, seed: int = 0) -> torch.Tensor:
    """The 3×3 grid's nine z: the result z in the centre (index 4), around it z + u with u uniform
    in [−noise, noise] per coordinate, as Radford et al. (2016, §6.3) did (not Gaussian noise)."""
    gen = torch.Generator().manual_seed(seed)
    u = (torch.rand(9, z.shape[-1], generator=gen) * 2 - 1) * noise
    neigh = z + u
    neigh[4] = z
    return neigh


def arithmetic(lm: LatentModel, seed, group_a, group_b, group_c, noise=0.25):
    """z̄_A − z̄_B + z̄_C with a 3×3 neighbourhood, and the same sum on pixels for contrast.

    Returns (inputs strip: rows A, B, C; result grid; pixel-arithmetic image).
    """
    noise = as_float(noise, "Noise", 0.0, 1.0, clamp=True)
    zs = seed_z(lm, seed, POOL)
    groups = [parse_group(g, n) for g, n in ((group_a, "Group A"), (group_b, "Group B"), (group_c, "Group C"))]
    means = [zs[g].mean(0) for g in groups]
    z = means[0] - means[1] + means[2]
    neigh = arithmetic_neighbours(z, noise)
    result = grid(render(lm, neigh), nrow=3, scale=4, pad=3)
    rows = []
    for g in groups:
        imgs = render(lm, zs[g[:3]])
        if len(imgs) < 3:
            imgs = np.concatenate([imgs, np.zeros((3 - len(imgs), 28, 28), np.uint8)])
        rows.append(imgs)
    inputs = grid(np.concatenate(rows), nrow=3, scale=3, pad=3)
    pix = [render(lm, zs[g]).astype(np.float32).mean(0) for g in groups]
    pixel = np.clip(pix[0] - pix[1] + pix[2], 0, 255).astype(np.uint8)
    return inputs, result, digit_image(pixel, 6)


POOL_CHUNK = 128


@torch.no_grad()
def pool_reading(lm: LatentModel, seed: int, chunk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(class, confidence, ink area) of the seed's pool samples 0 … (chunk+1)·128 − 1.

    Rendering and classifying digits is the costliest thing this tab does, so the pool is read
    128 samples at a time, only as far as needed, and kept for the last 32 seeds (``lm.pool``).
    Handlers run in parallel threads: one reader of the pool at a time, so no chunk is read twice."""
    from ganmodels.models.classifier import predict

    with lm.pool_lock:
        chunks = lm.pool.get(seed, list)
        while len(chunks) <= chunk:
            i = len(chunks) * POOL_CHUNK
            imgs = render(lm, seed_z(lm, seed, POOL)[i:i + POOL_CHUNK], batched=True)
            with cpu_bf16(lm.bf16_c):
                probs, _ = predict(lm.classifier, imgs)
            chunks.append((probs.argmax(1), probs.max(1), (imgs > 127).mean((1, 2))))
        return tuple(np.concatenate([c[j] for c in chunks[:chunk + 1]]) for j in range(3))


@torch.no_grad()
def preset_groups(lm: LatentModel, seed, digit_a: int, digit_b: int) -> tuple[str, str, str]:
    """"bold a − thin a + thin b" from the seed's pool, using the classifier and ink area.

    Expected result: a bold b. Needs the classifier to read the digits.
    """
    if lm.classifier is None:
        raise InputError("This preset needs the MNIST classifier, which is not loaded.")
    seed = as_int(seed, "Seed", 0, MAX_SEED)
    for chunk in range(POOL // POOL_CHUNK):   # read only as much of the pool as needed: ≥ 6 of each digit
        pred, conf, ink = pool_reading(lm, seed, chunk)
        if all(((pred == d) & (conf > 0.9)).sum() >= 6 for d in (digit_a, digit_b)):
            break
    out = []
    for digit, thick in ((digit_a, True), (digit_a, False), (digit_b, False)):
        idx = np.where((pred == digit) & (conf > 0.9))[0]
        if len(idx) < 6:
            raise InputError(f"Too few confident {digit}s among the {POOL} samples of this seed; try another seed")
        order = idx[np.argsort(ink[idx])]
        pick = order[-3:] if thick else order[:3]
        out.append(", ".join(str(int(i)) for i in pick))
    return tuple(out)


# ---------------------------------------------------------------- the tab


def build(ctx: AppContext) -> None:
    """Three sections on one LatentModel: editing one sample, interpolation, z-arithmetic."""
    import gradio as gr

    lm = prepare(ctx)
    seed, truncation = _editor_section(lm)
    _interpolation_section(lm, truncation)
    _arithmetic_section(lm, seed)
    with gr.Accordion("What is computed (formulas)", open=False):
        gr.Markdown(EXPLAIN, latex_delimiters=[{"left": "$", "right": "$", "display": False}])


def _editor_section(lm: LatentModel):
    """The 8×8 grid to pick a sample from, and the sliders that move it; returns (seed, truncation)."""
    import gradio as gr

    gr.Markdown("## Latent space — DCGAN on MNIST digits\nPick a sample from the grid, then move through "
                "latent space with the sliders. Everything updates as you drag.")
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                seed = Number(value=0, label="Seed (which 64 z's)", precision=None, minimum=0, maximum=MAX_SEED)
                truncation = Slider(0.0, 1.5, value=1.0, step=0.05, label=Z_SCALE_LABEL)
            # 466² px: the whole grid fits a laptop screen, and its PNG (the seed box is the costliest
            # quick request of a class) stays small
            grid_img = gr.Image(value=sample_grid(lm, 0, 1.0), label="G(ψ z) for 64 z's — click one to edit it",
                                type="numpy", format="png", interactive=False, elem_classes="pixelated",
                                elem_id="latent-grid", buttons=["download"])
            index = Slider(0, GRID - 1, value=0, step=1, label="Sample being edited (row-major, 0–63)")
        with gr.Column(scale=2):
            out_img = gr.Image(value=edit(lm, 0, 0, 1.0, *([0.0] * N_PCS), *raw_values(lm, 0, 0))[0],
                               label="Edited sample G(z′)", type="numpy", format="png", interactive=False,
                               height=260, elem_classes="pixelated", elem_id="latent-out")
            info = gr.Markdown(edit(lm, 0, 0, 1.0, *([0.0] * N_PCS), *raw_values(lm, 0, 0))[1])
            pcs = [Slider(-4, 4, value=0, step=0.1, elem_id=f"latent-pc{k + 1}",
                             label=f"Direction {k + 1} (PC{k + 1}, {lm.explained[k]:.0%} of h's variance)")
                   for k in range(N_PCS)]
            with gr.Accordion("Raw z dimensions", open=False):
                raws = [Slider(-4, 4, value=v, step=0.05, label=f"z[{i}]")
                        for i, v in enumerate(raw_values(lm, 0, 0))]
            reset = gr.Button("Reset directions", size="sm")

    slider_inputs = [seed, index, truncation, *pcs, *raws]
    edit_fn = quick(lambda *a: edit(lm, *a))
    edit_fn.__name__ = "latent_edit"
    for i, s in enumerate([truncation, *pcs, *raws]):
        s.change(edit_fn, slider_inputs, [out_img, info], trigger_mode="always_last", **LIVE,
                 api_name="latent_edit" if i == 0 else None, api_visibility="public" if i == 0 else "private")

    def pick(seed_v, index_v):
        vals = raw_values(lm, seed_v, index_v)
        # plain values, not gr.update(value=…): an update makes gradio build a new Slider per output
        # (≈ 0.5 ms each, most of this event's cost)
        return [0.0] * N_PCS + vals

    index.change(quick(pick), [seed, index], [*pcs, *raws], **LIVE, api_name="latent_pick")
    seed.change(quick(lambda s, t: sample_grid(lm, s, t)), [seed, truncation], grid_img,
                **LIVE, api_name="latent_grid").then(
        quick(pick), [seed, index], [*pcs, *raws], **LIVE, api_visibility="private")
    truncation.release(quick(lambda s, t: sample_grid(lm, s, t)), [seed, truncation], grid_img,
                       **LIVE, api_visibility="private")

    def on_click(evt: gr.SelectData):
        x, y = evt.index
        return grid_index_from_click(x, y)

    grid_img.select(on_click, None, index, api_visibility="private")
    reset.click(lambda: [gr.update(value=0.0)] * N_PCS, None, pcs, api_visibility="private")

    return seed, truncation


def _interpolation_section(lm: LatentModel, truncation) -> None:
    import gradio as gr

    gr.Markdown("### Interpolation between two samples")
    with gr.Row():
        seed_a = Number(value=3, label="Seed A", precision=None, minimum=0, maximum=MAX_SEED)
        seed_b = Number(value=8, label="Seed B", precision=None, minimum=0, maximum=MAX_SEED)
        frames = Slider(2, 24, value=10, step=1, label="Frames")
        mode = gr.Radio(["lerp", "slerp"], value="slerp", label="Path")
        go = gr.Button("Interpolate", variant="primary")
    with gr.Row():
        strip = gr.Image(label="Frames z_A → z_B", type="numpy", format="png", interactive=False,
                         elem_classes="pixelated", scale=3)
        gif = gr.Image(label="Animated", type="filepath", interactive=False, scale=1)
    norm = gr.LinePlot(x="t", y="‖z_t‖", color="path", y_lim=[0, None], height=240,
                       label="Length of z along the path (lerp cuts through the low-probability middle)")
    go.click(slow(lambda *a: interpolate(lm, *a)), [seed_a, seed_b, frames, mode, truncation],
             [strip, gif, norm], api_name="latent_interpolate")
    gr.Examples([[3, 8, 10, "slerp"], [0, 1, 16, "lerp"], [42, 7, 12, "slerp"]],
                [seed_a, seed_b, frames, mode])



def _arithmetic_section(lm: LatentModel, seed) -> None:
    import gradio as gr

    gr.Markdown("### z-arithmetic: mean(A) − mean(B) + mean(C)\nSample numbers refer to the first "
                f"{POOL} samples of the seed above (0–63 are the grid).")
    with gr.Row():
        ga = gr.Textbox("0, 1, 2", label="Group A")
        gb = gr.Textbox("3, 4, 5", label="Group B")
        gc = gr.Textbox("6, 7, 8", label="Group C")
        noise = Slider(0, 1, value=0.25, step=0.05, label="Noise bound a: uniform in [−a, a] per coordinate, around the result")
    with gr.Row():
        da = gr.Dropdown(list(range(10)), value=1, label="Preset: bold a − thin a + thin b — a")
        db = gr.Dropdown(list(range(10)), value=7, label="b")
        preset = gr.Button("Find groups with the classifier", interactive=lm.classifier is not None)
        go2 = gr.Button("Compute", variant="primary")
    with gr.Row():
        a_in = gr.Image(label="Rows: A, B, C (first three of each)", type="numpy", format="png",
                        interactive=False, elem_classes="pixelated")
        a_out = gr.Image(label="G(z̄_A − z̄_B + z̄_C), centre, with noise around it", type="numpy",
                         format="png", interactive=False, elem_classes="pixelated")
        a_pix = gr.Image(label="Same sum on pixels (for contrast)", type="numpy", format="png",
                         interactive=False, elem_classes="pixelated")
    go2.click(slow(lambda *a: arithmetic(lm, *a)), [seed, ga, gb, gc, noise], [a_in, a_out, a_pix],
              api_name="latent_arithmetic")
    preset.click(slow(lambda s, a, b: preset_groups(lm, s, as_int(a, "Digit a", 0, 9), as_int(b, "Digit b", 0, 9))),
                 [seed, da, db], [ga, gb, gc],
                 api_name="latent_preset").then(slow(lambda *a: arithmetic(lm, *a)), [seed, ga, gb, gc, noise],
                                                [a_in, a_out, a_pix], api_visibility="private")


LATENCY_ENDPOINTS = {"latent_edit": [0, 5, 1.0, 0.5, 0, 0, 0, 0, 0, 0.1, -0.3, 0.2, 0.0]}
