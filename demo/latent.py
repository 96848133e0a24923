"""Latent space tab: what a DCGAN's input z means — on MNIST digits, and on CelebA faces.

Pure functions first (numbers in, images out), then ``build(ctx)``.  What the tab computes
once (the GANSpace directions) and caches (sample grids, the classified pool) lives in its
``LatentModel``, made by ``prepare(ctx)`` (digits) and ``prepare_faces(ctx)`` (faces) when the
tab is built.  A switch shows one model or the other; every tool works on both, and the faces get
attribute vectors (``demo.latent_faces``).
"""
import math
import tempfile
import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from demo import latent_faces as LF
from demo.common import LIVE, LRU, InputError, Number, Slider, as_float, as_int, grid, quick, slow
from demo.context import AppContext
from ganmodels.data import to_uint8
from ganmodels.imageio import upscale_nearest, write_gif
from serving.perf import bf16_pays, cpu_bf16

REQUIRES = ("dcgan",)
OPTIONAL = ("classifier", *LF.NEEDS)

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


@dataclass(frozen=True)
class Look:
    """How one model's images are shown: its side in pixels and the (nearest) enlargement of each view."""
    size: int           # G's output side
    grid: int           # the 8×8 grid to pick from (sent at the size it is shown: see grid_index_from_click)
    view: int           # the edited sample
    strip: int          # the interpolation's frames
    gif: int            # … and its animation
    arith_in: int       # the arithmetic's input rows
    arith_out: int      # its 3×3 result
    pixel: int          # the pixel-arithmetic contrast


DIGITS = Look(size=28, grid=GRID_SCALE, view=SCALE, strip=3, gif=6, arith_in=3, arith_out=4, pixel=6)
# 64 px faces: the grid at 1× (8·66+2 = 530 px), the edited face at 4× (256 px)
FACES = Look(size=64, grid=1, view=4, strip=2, gif=3, arith_in=2, arith_out=2, pixel=3)


@dataclass(eq=False)
class LatentModel:
    """The GAN plus what the tab computes once at load (the GANSpace directions) and its caches."""
    gan: object                     # ganmodels.models.dcgan.DCGAN, or ganmodels.models.faces.FacesGAN
    directions: np.ndarray          # (N_PCS, z_dim), unit rows
    explained: np.ndarray           # share of variance of each component
    classifier: object | None = None   # MNIST classifier (digits) or face-attribute classifier (faces)
    kind: str = "digits"            # "digits" or "faces"
    look: Look = DIGITS
    attrs: object | None = None     # faces: ganmodels.inference.face_attributes.FaceAttributes
    bf16_g: bool = False            # batched renders (the grid, the pool) under bfloat16: measured faster here
    bf16_c: bool = False            # the same for the classifier reading the pool
    # a class opens the tab on seed 0 and tries the same few seeds: each 8×8 grid is drawn once
    grids: LRU = field(init=False, repr=False, default_factory=lambda: LRU(128))      # (seed, ψ) → grid
    # seed → the classified chunks of its pool read so far (read POOL_CHUNK samples at a time)
    pool: LRU = field(init=False, repr=False, default_factory=lambda: LRU(32))
    pool_lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    # faces: G(ψ z) of the picked face before its attribute edits → the classifier's readings (an
    # attribute drag then costs one G and one classifier pass, not two)
    readings: LRU = field(init=False, repr=False, default_factory=lambda: LRU(256))

    @property
    def z_dim(self) -> int:
        return self.gan.z_dim

    @property
    def api(self) -> str:
        """The prefix of this model's api_names (the digits keep the tab's original names)."""
        return "latent" if self.kind == "digits" else "latent_faces"

    @property
    def css(self) -> str:
        return "latent" if self.kind == "digits" else "latent-faces"

    @property
    def cell(self) -> int:
        """One grid cell's side in the grid image (pixels), padding included."""
        return self.look.size * self.look.grid + GRID_PAD


@torch.no_grad()
def ganspace_directions(gan, k: int = N_PCS, n: int = 2000, seed: int = 123, features=None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """PCA of G's first feature map h(z) (the output of G.project, or ``features(G, z)``), regressed back
    to z (GANSpace). Returns (V (k, z_dim), explained)."""
    z = torch.randn(n, gan.z_dim, generator=torch.Generator().manual_seed(seed))
    G = gan.G
    if features is not None:
        h = features(G, z.to(gan.device)).float().cpu()
    else:
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


def prepare_faces(ctx: AppContext) -> tuple[LatentModel | None, str | None]:
    """The Faces model of the tab (face DCGAN, its GANSpace directions, the face classifier and the
    attribute vectors), or (None, why) when one of them is not loaded."""
    why = LF.missing(ctx.models, ctx.errors)
    if why is not None:
        return None, why
    gan = ctx.models["faces"]
    V, ex = ganspace_directions(gan, features=LF.first_feature_map)
    lm = LatentModel(gan, V, ex, ctx.models["face_classifier"], kind="faces", look=FACES,
                     attrs=ctx.models["face_attributes"])
    lm.bf16_g, lm.bf16_c = batch_precision(lm)
    return lm, None


def batch_precision(lm: LatentModel) -> tuple[bool, bool]:
    """Whether G on a grid's 64 z's, and the classifier on a pool chunk of its digits, run faster under
    bfloat16 here (``serving.perf.bf16_pays``); on a GPU, or for single images, float32 is kept."""
    if lm.gan.device.type != "cpu":
        return False, False
    z = lm.gan.z_from_seed(0, GRID)
    fast_g = bf16_pays(lambda: lm.gan.generate(z))
    fast_c = False
    if lm.classifier is not None and lm.kind == "digits":    # only the digits' pool is read in batches
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
    return grid(imgs, nrow=8, scale=lm.look.grid, pad=GRID_PAD)


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
    """One line of numbers about a latent: ‖z‖ vs √d, D(G(z)), and the classifier's reading.
    Faces: ‖z‖ only — their readings have a table, and a face's D pass would cost as much as its G pass."""
    d = lm.z_dim
    parts = [f"‖z‖ = {z.norm():.2f} (typical: √{d} ≈ {math.sqrt(d):.1f})"]
    if lm.kind == "faces":
        return parts[0]
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
    return upscale_nearest(to_uint8(x)[0], lm.look.view), describe(lm, z, x)


def face_edit(lm: LatentModel, seed, index, truncation, *sliders) -> tuple[np.ndarray, str, str]:
    """The picked face moved along the principal directions, raw dimensions and attribute vectors:
    sliders = N_PCS directions, N_RAW raw z, one α per ``LF.SLIDERS``, then "keep the other attributes".
    Returns (enlarged face, numbers line, table of the classifier's readings of the picked face and the
    edited one).  One G and one classifier pass per move: the picked face's reading is kept (``lm.readings``)."""
    n = N_PCS + N_RAW + len(LF.SLIDERS) + 1
    if len(sliders) != n:
        raise InputError(f"the face editor takes {n} slider values after seed, sample and ψ, got {len(sliders)}")
    pcs, raws = sliders[:N_PCS], sliders[N_PCS:N_PCS + N_RAW]
    alphas = LF.amounts(sliders[N_PCS + N_RAW:-1])
    psi = as_float(truncation, "z scale ψ", 0.0, 2.0, clamp=True)
    z0 = edit_z(lm, seed, index, 1.0, pcs, raws)
    z = LF.edit_z(lm.attrs, z0, alphas, sliders[-1]) * psi
    x = lm.gan.generate(z[None])
    after = LF.readings(lm.classifier, x)[0]
    picked = edit_z(lm, seed, index, psi, [0.0] * N_PCS, raws)       # G(ψ z) of the grid (raw z as set)
    if torch.equal(picked, z):
        before = after
    else:
        before = lm.readings.get(picked.numpy().tobytes(),
                                 lambda: LF.readings(lm.classifier, lm.gan.generate(picked[None]))[0])
    return upscale_nearest(to_uint8(x)[0], lm.look.view), describe(lm, z, x), LF.readings_markdown(before, after)


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
    strip = grid(imgs, nrow=frames, scale=lm.look.strip, pad=2)
    big = [upscale_nearest(im, lm.look.gif) for im in imgs]
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


def parse_group(text, name: str, pool: int = POOL) -> list[int]:
    try:
        idx = [int(s) for s in str(text).replace(";", ",").split(",") if s.strip()]
    except ValueError:
        raise InputError(f"{name}: give sample numbers separated by commas, e.g. 3, 17, 42") from None
    if not idx:
        raise InputError(f"{name}: pick at least one sample number")
    bad = [i for i in idx if not 0 <= i < pool]
    if bad:
        raise InputError(f"{name}: sample numbers go from 0 to {pool - 1} (got {bad[:5]})")
    return idx


def pool_z(lm: LatentModel, seed) -> torch.Tensor:
    """The z's that the arithmetic's sample numbers refer to: the digits' first POOL z of the seed;
    the faces' classified pool (``FaceAttributes.z``, which the presets pick from; the seed is not used)."""
    if lm.kind == "faces":
        return lm.attrs.z
    return seed_z(lm, seed, POOL)


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
    return _arithmetic(lm, seed, group_a, group_b, group_c, noise)[:3]


def _arithmetic(lm: LatentModel, seed, group_a, group_b, group_c, noise):
    """``arithmetic``'s three images and the result z."""
    noise = as_float(noise, "Noise", 0.0, 1.0, clamp=True)
    zs = pool_z(lm, seed)
    groups = [parse_group(g, n, len(zs))
              for g, n in ((group_a, "Group A"), (group_b, "Group B"), (group_c, "Group C"))]
    if lm.kind == "faces" and max(len(g) for g in groups) > MAX_GROUP:
        raise InputError(f"A group holds at most {MAX_GROUP} sample numbers (the paper averaged three)")
    means = [zs[g].mean(0) for g in groups]
    z = means[0] - means[1] + means[2]
    neigh = arithmetic_neighbours(z, noise)
    result = grid(render(lm, neigh), nrow=3, scale=lm.look.arith_out, pad=3)
    rows = []
    for g in groups:
        imgs = render(lm, zs[g[:3]])
        if len(imgs) < 3:
            imgs = np.concatenate([imgs, np.zeros((3 - len(imgs), *imgs.shape[1:]), np.uint8)])
        rows.append(imgs)
    inputs = grid(np.concatenate(rows), nrow=3, scale=lm.look.arith_in, pad=3)
    pix = [render(lm, zs[g]).astype(np.float32).mean(0) for g in groups]
    pixel = np.clip(pix[0] - pix[1] + pix[2], 0, 255).astype(np.uint8)
    return inputs, result, upscale_nearest(pixel, lm.look.pixel), z


MAX_GROUP = 64      # faces: sample numbers per group (each is drawn for the pixel average; the pool holds 2,000)


@torch.no_grad()
def face_arithmetic(lm: LatentModel, group_a, group_b, group_c, noise=0.25):
    """``arithmetic`` on the faces' classified pool, plus the classifier's reading of the result (the centre)."""
    inputs, result, pixel, z = _arithmetic(lm, 0, group_a, group_b, group_c, noise)
    r = LF.readings(lm.classifier, lm.gan.generate(z[None]))[0]
    text = (f"**The result's reading** ({LF.READING_UNITS}): "
            + ", ".join(f"{n.replace('_', ' ')} {p:.2f}" for n, p in zip(LF.SLIDERS, r)))
    return inputs, result, pixel, text


def face_preset(lm: LatentModel, preset) -> tuple[str, str, str, str]:
    """A preset's three groups, picked from the classified pool (``FaceAttributes.group``): (A, B, C, description)."""
    groups = LF.preset_groups(lm.attrs, str(preset))
    return (*(", ".join(str(i) for i in g) for g in groups), LF.preset_markdown(lm.attrs, str(preset), groups))


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

MODEL_CHOICES = ("Digits", "Faces")
LATEX = [{"left": "$", "right": "$", "display": False}]


def build(ctx: AppContext) -> None:
    """A Digits/Faces switch over two LatentModels; for each: editing one sample, interpolation, z-arithmetic
    (each model's controls are its own, so a student's switch changes only that student's page)."""
    import gradio as gr

    lm = prepare(ctx)
    fm, why = prepare_faces(ctx)
    gr.Markdown("## Latent space\nPick a sample from the grid, then move through latent space with the "
                "sliders. Everything updates as you drag.")
    model = gr.Radio(list(MODEL_CHOICES), value="Digits", label="Model", elem_id="latent-model",
                     interactive=fm is not None,
                     info="Digits: DCGAN on MNIST (28×28 grey). Faces: DCGAN on aligned CelebA (64×64 RGB)."
                     if fm is not None else f"Faces are not loaded, so only the digits are shown ({why}).")
    with gr.Column(visible=True) as digits_col:
        seed, truncation = _editor_section(lm)
        _interpolation_section(lm, truncation)
        _arithmetic_section(lm, seed)
    if fm is not None:
        with gr.Column(visible=False) as faces_col:
            _, trunc_f = _editor_section(fm)
            _interpolation_section(fm, trunc_f)
            _face_arithmetic_section(fm)

        def switch(choice):
            if choice not in MODEL_CHOICES:
                raise InputError(f"Model must be one of {', '.join(MODEL_CHOICES)}")
            return gr.update(visible=choice == "Digits"), gr.update(visible=choice == "Faces")

        model.change(quick(switch), model, [digits_col, faces_col], **LIVE, api_visibility="private")
    with gr.Accordion("What is computed (formulas)", open=False):
        gr.Markdown(EXPLAIN + (LF.explain(fm.attrs) if fm is not None else ""), latex_delimiters=LATEX)


def _editor_section(lm: LatentModel):
    """The 8×8 grid to pick a sample from, and the sliders that move it (on faces also the attribute
    sliders and the classifier's readings); returns (seed, truncation)."""
    import gradio as gr

    faces = lm.kind == "faces"
    p, c = lm.api, lm.css
    if faces:
        gr.Markdown("### DCGAN on CelebA faces (64×64 RGB)\n" + LF.LICENCE_LINE)
    else:
        gr.Markdown("### DCGAN on MNIST digits")
    zeros = [0.0] * N_PCS
    first = (face_edit(lm, 0, 0, 1.0, *zeros, *raw_values(lm, 0, 0), *[0.0] * len(LF.SLIDERS), LF.KEEP_DEFAULT)
             if faces else edit(lm, 0, 0, 1.0, *zeros, *raw_values(lm, 0, 0)))
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                seed = Number(value=0, label="Seed (which 64 z's)", precision=None, minimum=0, maximum=MAX_SEED)
                truncation = Slider(0.0, 1.5, value=1.0, step=0.05, label=Z_SCALE_LABEL)
            # the grid is sent at the size it is shown (466² px digits, 530² px faces): it fits a laptop
            # screen, and a click maps back to its cell
            grid_img = gr.Image(value=sample_grid(lm, 0, 1.0), label="G(ψ z) for 64 z's — click one to edit it",
                                type="numpy", format="png", interactive=False, elem_classes="pixelated",
                                elem_id=f"{c}-grid", buttons=["download"])
            index = Slider(0, GRID - 1, value=0, step=1, label="Sample being edited (row-major, 0–63)")
        with gr.Column(scale=2):
            out_img = gr.Image(value=first[0], label="Edited sample G(z′)", type="numpy", format="png",
                               interactive=False, height=260,
                               elem_classes="pixelated", elem_id=f"{c}-out")
            info = gr.Markdown(first[1])
            pcs = [Slider(-4, 4, value=0, step=0.1, elem_id=f"{c}-pc{k + 1}",
                          label=f"Direction {k + 1} (PC{k + 1}, {lm.explained[k]:.0%} of h's variance)")
                   for k in range(N_PCS)]
            with gr.Accordion("Raw z dimensions", open=False):
                raws = [Slider(-4, 4, value=v, step=0.05, label=f"z[{i}]")
                        for i, v in enumerate(raw_values(lm, 0, 0))]
            extra_in, extra_out = [], []
            if faces:
                with gr.Group():
                    gr.Markdown(LF.FORMULA, latex_delimiters=LATEX)
                    attrs = [Slider(LF.ALPHA_MIN, LF.ALPHA_MAX, value=0, step=LF.ALPHA_STEP,
                                    elem_id=f"{c}-attr-{name}",
                                    label=f"{name.replace('_', ' ')}: α (units of v_{name})")
                             for name in LF.SLIDERS]
                    keep = gr.Checkbox(value=LF.KEEP_DEFAULT, label=LF.KEEP_LABEL, elem_id=f"{c}-keep")
                    readings = gr.Markdown(first[2], elem_id=f"{c}-readings")
                extra_in, extra_out = [*attrs, keep], [readings]
            reset = gr.Button("Reset directions" + (" and attributes" if faces else ""), size="sm")

    slider_inputs = [seed, index, truncation, *pcs, *raws, *extra_in]
    edit_fn = quick(lambda *a: (face_edit if faces else edit)(lm, *a))
    edit_fn.__name__ = f"{p}_edit"
    for i, s in enumerate([truncation, *pcs, *raws, *extra_in]):
        s.change(edit_fn, slider_inputs, [out_img, info, *extra_out], trigger_mode="always_last", **LIVE,
                 api_name=f"{p}_edit" if i == 0 else None, api_visibility="public" if i == 0 else "private")

    def pick(seed_v, index_v):
        vals = raw_values(lm, seed_v, index_v)
        # plain values, not gr.update(value=…): an update makes gradio build a new Slider per output
        # (≈ 0.5 ms each, most of this event's cost)
        return [0.0] * N_PCS + vals

    draw = quick(lambda s, t: sample_grid(lm, s, t))
    index.change(quick(pick), [seed, index], [*pcs, *raws], **LIVE, api_name=f"{p}_pick")
    seed.change(draw, [seed, truncation], grid_img, **LIVE, api_name=f"{p}_grid").then(
        quick(pick), [seed, index], [*pcs, *raws], **LIVE, api_visibility="private")
    # .change, not .release: a value typed into the ψ box never fires .release, and the grid must follow it too
    # (always_last: a drag redraws the grid at most once per finished draw; grids are cached per (seed, ψ))
    truncation.change(draw, [seed, truncation], grid_img, trigger_mode="always_last", **LIVE,
                      api_visibility="private")

    def on_click(evt: gr.SelectData):
        x, y = evt.index
        return grid_index_from_click(x, y, cell=lm.cell)

    grid_img.select(on_click, None, index, api_visibility="private")
    resettable = pcs + (attrs if faces else [])
    reset.click(lambda: [gr.update(value=0.0)] * len(resettable), None, resettable, api_visibility="private")

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
                         elem_classes="pixelated", scale=3, elem_id=f"{lm.css}-strip")
        gif = gr.Image(label="Animated", type="filepath", interactive=False, scale=1)
    norm = gr.LinePlot(x="t", y="‖z_t‖", color="path", y_lim=[0, None], height=240,
                       label="Length of z along the path (lerp cuts through the low-probability middle)")
    go.click(slow(lambda *a: interpolate(lm, *a)), [seed_a, seed_b, frames, mode, truncation],
             [strip, gif, norm], api_name=f"{lm.api}_interpolate")
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


def _face_arithmetic_section(lm: LatentModel) -> None:
    """z-arithmetic on the faces' classified pool, with the lecture's two presets."""
    import gradio as gr

    n = len(lm.attrs.z)
    first = next(iter(LF.PRESETS))
    groups = face_preset(lm, first)
    gr.Markdown("### z-arithmetic on faces: mean(A) − mean(B) + mean(C)\nSample numbers refer to the "
                f"{n:,} faces of the classified pool (0–{n - 1}: the faces the attribute vectors were computed "
                "from, each read by the classifier). A preset picks, for each group, the three faces the "
                "classifier reads most confidently as that group.")
    with gr.Row():
        preset = gr.Dropdown(list(LF.PRESETS), value=first, label="Preset (Radford et al. 2016, Fig. 7 and 9)",
                             scale=3)
        pick = gr.Button("Pick the groups with the classifier")
        go = gr.Button("Compute", variant="primary")
    with gr.Row():
        ga = gr.Textbox(groups[0], label="Group A (pool numbers)")
        gb = gr.Textbox(groups[1], label="Group B")
        gc = gr.Textbox(groups[2], label="Group C")
        noise = Slider(0, 1, value=0.25, step=0.05, label="Noise bound a: uniform in [−a, a] per coordinate, around the result")
    picked = gr.Markdown(groups[3])
    first_out = face_arithmetic(lm, *groups[:3], 0.25)
    with gr.Row():
        a_in = gr.Image(first_out[0], label="Rows: A, B, C (first three of each)", type="numpy", format="png",
                        interactive=False, elem_classes="pixelated", elem_id=f"{lm.css}-arith-in")
        a_out = gr.Image(first_out[1], label="G(z̄_A − z̄_B + z̄_C), centre, with noise around it", type="numpy",
                         format="png", interactive=False, elem_classes="pixelated")
        a_pix = gr.Image(first_out[2], label="Same sum on pixels (for contrast)", type="numpy", format="png",
                         interactive=False, elem_classes="pixelated")
    result = gr.Markdown(first_out[3])
    compute = slow(lambda *a: face_arithmetic(lm, *a))
    go.click(compute, [ga, gb, gc, noise], [a_in, a_out, a_pix, result], api_name=f"{lm.api}_arithmetic")
    pick.click(slow(lambda name: face_preset(lm, name)), [preset], [ga, gb, gc, picked],
               api_name=f"{lm.api}_preset").then(compute, [ga, gb, gc, noise], [a_in, a_out, a_pix, result],
                                                 api_visibility="private")


LATENCY_ENDPOINTS = {"latent_edit": [0, 5, 1.0, 0.5, 0, 0, 0, 0, 0, 0.1, -0.3, 0.2, 0.0]}
# the face editor's slider move (served only when the face models are loaded): seed, sample, ψ,
# 6 directions, 4 raw z, α of Smiling, Eyeglasses, Male, Blond_Hair, keep
FACE_LATENCY_ENDPOINTS = {"latent_faces_edit": [0, 5, 1.0, 0.5, 0, 0, 0, 0, 0, 0.1, -0.3, 0.2, 0.0,
                                                1.5, 0, -0.5, 0, True]}
