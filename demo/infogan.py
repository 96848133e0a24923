"""InfoGAN codes tab: latent codes that learned a meaning without labels, beside a conditional GAN that was told.

Pure functions first (numbers in, images out), then ``build(ctx)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from demo.common import LIVE, InputError, as_float, as_int, digit_image, grid, quick, slow
from demo.context import AppContext

REQUIRES = ("infogan",)
OPTIONAL = ("cgan", "classifier")

SCALE = 8          # 28 px → 224 px on screen
GRID_SCALE = 2     # the Figure-2 grid
SWEEP = np.linspace(-2.0, 2.0, 9)   # columns of the Figure-2 grid (trained on [−1, 1])
C_MAX = 2.0
MAX_SEED = 2**31 - 1
N_MATCH = 2000

EXPLAIN = r"""
**InfoGAN** (Chen et al. 2016). The generator gets noise $z$ (62 numbers) **and** a code
$c = (c_{cat}, c_1, c_2)$ with $c_{cat} \sim \mathrm{Cat}(10)$ and $c_1, c_2 \sim \mathrm{Unif}(-1, 1)$.
A plain GAN would ignore $c$. InfoGAN adds the mutual information between the code and the image:

$$\min_{G,Q}\ \max_D\ V(D,G) - \lambda\, L_I(G,Q), \qquad V(D,G) = \mathbb E_x[\log D(x)] + \mathbb E_{z,c}[\log(1 - D(G(z,c)))]$$

$I(c; G(z,c))$ needs the unknown posterior $P(c\mid x)$, so a head $Q(c \mid x)$ on the discriminator's body
approximates it, giving the **variational lower bound**

$$L_I(G,Q) = \mathbb E_{c \sim P(c),\, x \sim G(z,c)}[\log Q(c \mid x)] + H(c) \;\le\; I(c; G(z,c)).$$

For $c_{cat}$, $-\log Q$ is a cross-entropy (at most $H(c_{cat}) = \log 10 \approx 2.30$ nats to gain);
for $c_1, c_2$ it is a Gaussian negative log-likelihood $\tfrac12 (c - \mu_Q(x))^2 + \text{const}$.
G and Q both maximise $L_I$: G must draw images from which the code can be read back.
Nobody tells the model what the codes mean — on MNIST the cheapest way to keep 10 equally likely values
readable is to make them *digit classes*, and the continuous codes become slant and width/thickness.
That is why **code k is not digit k**: the mapping below is *measured* when the app starts:
2,000 samples (200 per code) are classified by the project's MNIST classifier and the codes are matched to digits
one-to-one so that the most samples agree (the Hungarian algorithm on the 10×10 count table).

**Conditional GAN** (Mirza & Osindero 2014): the label $y$ is *given* to both networks,
$\min_G \max_D\ \mathbb E_{x,y}[\log D(x \mid y)] + \mathbb E_{z,y}[\log(1 - D(G(z \mid y) \mid y))]$ —
G receives $[z, \mathrm{onehot}(y)]$, D the image plus 10 one-hot planes. It is trained **with** the labels, so digit $y$ is just digit $y$.
Both generators use 62-dimensional $z \sim \mathcal N(0, I)$ and the same seed gives the same $z$ — but they are different
networks, so the same $z$ does not mean the same style.
"""


@dataclass
class InfoTab:
    """The loaded models plus what the tab measures once at load: the code → digit matching."""
    infogan: object                      # ganmodels.models.infogan.InfoGAN
    cgan: object | None = None           # ganmodels.models.cgan.CGAN
    classifier: object | None = None
    match: dict | None = None            # ganmodels.models.infogan.match_codes(...) result
    meanings: dict | None = None         # code_meaning measured by `python -m ganmodels.evaluate infogan`

    @property
    def K(self) -> int:
        return self.infogan.cfg.n_cat

    def digit_of(self, code: int) -> int | None:
        return None if self.match is None else int(self.match["mapping"][code])

    def code_order(self) -> list[int]:
        """Codes sorted by the digit they were matched to (identity if not measured)."""
        if self.match is None:
            return list(range(self.K))
        return sorted(range(self.K), key=lambda k: self.match["mapping"][k])


def prepare(ctx: AppContext, n: int = N_MATCH) -> InfoTab:
    """The tab's models and what it measures once when it is built (the code → digit matching)."""
    ig, clf = ctx.models["infogan"], ctx.models.get("classifier")
    match = ig.measure_mapping(clf, n=n, seed=0) if clf is not None else None
    return InfoTab(ig, ctx.models.get("cgan"), clf, match, measured_meanings(ctx.store))


def measured_meanings(store) -> dict | None:
    """The continuous codes' meanings that the evaluate command wrote in the manifest (None if absent)."""
    try:
        m = store.manifest["files"]["infogan_G.safetensors"]["metrics"]["infogan"]["code_meaning"]
        return {p: {"code": str(v["code"]), "rho": float(v["rho"])} for p, v in m.items()}
    except Exception:  # noqa: BLE001 -- no store, no manifest entry, older format: the labels stay plain
        return None


PROPERTY_WORDS = {"slant": "slant", "thickness": "width / ink"}


def code_label(tab: InfoTab, j: int) -> str:
    """Slider label for continuous code j (1-based), with its measured meaning when known."""
    base = f"c{'₁₂₃₄'[j - 1] if j <= 4 else j} (continuous code {j})"
    for prop, v in (tab.meanings or {}).items():
        if v["code"] == f"c{j}":
            base += f" — measured: {PROPERTY_WORDS.get(prop, prop)}, Spearman ρ {v['rho']:+.2f}"
    return base


# ---------------------------------------------------------------- pure functions


def code_choices(tab: InfoTab) -> list[tuple[str, int]]:
    out = []
    for k in tab.code_order():
        d = tab.digit_of(k)
        out.append((f"code {k}" + ("" if d is None else f"  →  looks like {d}"), k))
    return out


def z_for(tab: InfoTab, seed) -> torch.Tensor:
    return tab.infogan.z_from_seed(as_int(seed, "Seed", 0, MAX_SEED), 1)


def infogan_sample(tab: InfoTab, code, c1, c2, seed) -> tuple[np.ndarray, str]:
    """G(z, c): one enlarged digit, and what Q and the classifier read back from it."""
    k = as_int(code, "Categorical code", 0, tab.K - 1)
    c1 = as_float(c1, "c1", -C_MAX, C_MAX)
    c2 = as_float(c2, "c2", -C_MAX, C_MAX)
    z = z_for(tab, seed)
    x = tab.infogan.generate(z, [k], [[c1, c2]])
    from ganmodels.data import to_uint8
    return digit_image(to_uint8(x)[0], SCALE), read_back(tab, x, k, c1, c2)


@torch.no_grad()
def read_back(tab: InfoTab, x: torch.Tensor, k: int, c1: float, c2: float) -> str:
    parts = []
    D = tab.infogan.D
    if D is not None:
        d_logit, cat_logits, mu, _ = D(x.to(tab.infogan.device))
        p = torch.softmax(cat_logits, 1)[0].cpu()
        kq = int(p.argmax())
        parts.append(f"**Q reads back:** code {kq} ({p[kq]:.0%}), ĉ₁ = {mu[0, 0]:+.2f}, ĉ₂ = {mu[0, 1]:+.2f} "
                     f"(asked: code {k}, c₁ = {c1:+.2f}, c₂ = {c2:+.2f}) · D(x) = {torch.sigmoid(d_logit)[0]:.2f}")
    if tab.classifier is not None:
        parts.append(classifier_line(tab, x, None if tab.match is None else tab.digit_of(k)))
    return "  \n".join(parts) or "(no Q head or classifier loaded)"


def classifier_line(tab: InfoTab, x: torch.Tensor, expected: int | None) -> str:
    from ganmodels.models.classifier import predict
    probs, _ = predict(tab.classifier, x)
    d = int(probs[0].argmax())
    s = f"**Classifier:** {d} ({probs[0].max():.0%})"
    if expected is not None:
        s += " ✓" if d == expected else f" (expected {expected})"
    return s


def cgan_sample(tab: InfoTab, digit, seed) -> tuple[np.ndarray, str]:
    """G(z | y) of the conditional GAN for the chosen digit and the same z."""
    if tab.cgan is None:
        raise InputError("The conditional GAN is not loaded (weights/cgan_G.safetensors missing): "
                         "train it with the command in weights/manifest.json.")
    y = as_int(digit, "Digit", 0, tab.cgan.cfg.n_classes - 1)
    z = tab.cgan.z_from_seed(as_int(seed, "Seed", 0, MAX_SEED), 1)
    x = tab.cgan.generate(z, [y])
    from ganmodels.data import to_uint8
    info = classifier_line(tab, x, y) if tab.classifier is not None else ""
    return digit_image(to_uint8(x)[0], SCALE), info


def figure2_grid(tab: InfoTab, which="c1", seed=0) -> np.ndarray:
    """The paper's Figure 2: rows = categorical codes (ordered by matched digit), columns = one code
    swept from −2 to 2 (the other at 0), the same noise z everywhere."""
    if which not in ("c1", "c2"):
        raise InputError("Sweep must be 'c1' or 'c2'")
    j = 0 if which == "c1" else 1
    z = z_for(tab, seed)
    rows = tab.code_order()
    n = len(rows) * len(SWEEP)
    cc = np.zeros((n, 2), np.float32)
    cc[:, j] = np.tile(SWEEP, len(rows))
    cats = np.repeat(rows, len(SWEEP))
    imgs = tab.infogan.generate_uint8(z.repeat(n, 1), cats, cc)
    return grid(imgs, nrow=len(SWEEP), scale=GRID_SCALE, pad=2)


def cgan_row(tab: InfoTab, seed=0) -> np.ndarray:
    """Digits 0–9 from the conditional GAN with one z."""
    if tab.cgan is None:
        raise InputError("The conditional GAN is not loaded.")
    z = tab.cgan.z_from_seed(as_int(seed, "Seed", 0, MAX_SEED), 1).repeat(10, 1)
    return grid(tab.cgan.generate_uint8(z, np.arange(10)), nrow=10, scale=GRID_SCALE, pad=2)


def mapping_markdown(tab: InfoTab) -> str:
    m = tab.match
    if m is None:
        return ("**Learned mapping:** not measured — the MNIST classifier "
                "(weights/mnist_classifier.safetensors) is not loaded.")
    head = "| code | " + " | ".join(str(k) for k in range(tab.K)) + " |"
    sep = "|---" * (tab.K + 1) + "|"
    dig = "| looks like digit | " + " | ".join(f"**{d}**" for d in m["mapping"]) + " |"
    acc = "| samples agreeing | " + " | ".join(f"{a:.0%}" for a in m["per_code"]) + " |"
    return (f"**Learned mapping, measured at start-up** on {sum(map(sum, m['confusion'])):,} samples: "
            f"with the best one-to-one matching of codes to digits, the classifier agrees on "
            f"**{m['accuracy']:.1%}** of them.\n\n{head}\n{sep}\n{dig}\n{acc}")


# ---------------------------------------------------------------- the tab


def build(ctx: AppContext) -> None:
    import gradio as gr

    tab = prepare(ctx)

    gr.Markdown("## InfoGAN codes — meanings learned without labels, next to a conditional GAN that was told\n"
                "Pick a categorical code and move the continuous codes c₁, c₂ (trained on −1…1; the paper shows "
                "the meaning carries on beyond). The same noise z feeds both generators.")
    gr.Markdown(mapping_markdown(tab))
    first = tab.code_order()[0]
    with gr.Row():
        with gr.Column():
            gr.Markdown("### InfoGAN: G(z, c)")
            code = gr.Dropdown(code_choices(tab), value=first, label="Categorical code c_cat",
                               allow_custom_value=True)
            c1 = gr.Slider(-C_MAX, C_MAX, value=0.0, step=0.1, label=code_label(tab, 1))
            c2 = gr.Slider(-C_MAX, C_MAX, value=0.0, step=0.1, label=code_label(tab, 2))
            with gr.Row():
                seed = gr.Number(value=0, label="Noise seed (which z)", precision=0, minimum=0, maximum=MAX_SEED)
                new_z = gr.Button("New z", size="sm")
            img0, info0 = infogan_sample(tab, first, 0.0, 0.0, 0)
            ig_img = gr.Image(value=img0, label="G(z, c)", type="numpy", format="png", interactive=False,
                              height=240, elem_classes="pixelated")
            ig_info = gr.Markdown(info0)
        with gr.Column():
            gr.Markdown("### Conditional GAN: G(z | y)")
            if tab.cgan is not None:
                digit = gr.Radio(list(range(10)), value=tab.digit_of(first) or 0, label="Digit y (you choose it)")
                cimg0, cinfo0 = cgan_sample(tab, tab.digit_of(first) or 0, 0)
                cg_img = gr.Image(value=cimg0, label="G(z | y), same z", type="numpy", format="png",
                                  interactive=False, height=240, elem_classes="pixelated")
                cg_info = gr.Markdown(cinfo0)
                cg_row = gr.Image(value=cgan_row(tab, 0), label="y = 0…9 with this z", type="numpy",
                                  format="png", interactive=False, elem_classes="pixelated")
            else:
                gr.Markdown("The conditional GAN's weights are not loaded (weights/cgan_G.safetensors).")

    gr.Markdown("### The paper's Figure 2: rows = categorical code (sorted by the digit it drew), "
                "columns = one continuous code from −2 to +2, noise fixed")
    with gr.Row():
        which = gr.Radio(["c1", "c2"], value="c1", label="Sweep")
        grid_btn = gr.Button("Redraw grid", variant="primary")
    grid_img = gr.Image(value=figure2_grid(tab, "c1", 0), label="Columns: −2 … +2 (trained on −1 … 1)",
                        type="numpy", format="png", interactive=False, elem_classes="pixelated")

    ig_fn = quick(lambda *a: infogan_sample(tab, *a), "infogan_sample")
    ig_in = [code, c1, c2, seed]
    for i, comp in enumerate([c1, c2, code]):
        comp.change(ig_fn, ig_in, [ig_img, ig_info], trigger_mode="always_last", **LIVE,
                    api_name="infogan_sample" if i == 0 else None,
                    api_visibility="public" if i == 0 else "private")
    grid_fn = slow(lambda w, s: figure2_grid(tab, w, s), "infogan_grid")
    grid_btn.click(grid_fn, [which, seed], grid_img, concurrency_limit=None, api_name="infogan_grid")
    which.change(grid_fn, [which, seed], grid_img, show_progress="hidden", concurrency_limit=None,
                 api_visibility="private")
    seed.change(ig_fn, ig_in, [ig_img, ig_info], **LIVE, api_visibility="private")
    seed.change(grid_fn, [which, seed], grid_img, show_progress="hidden", concurrency_limit=None,
                api_visibility="private")
    new_z.click(lambda: int(np.random.default_rng().integers(0, 100_000)), None, seed,
                api_visibility="private")
    if tab.cgan is not None:
        cg_fn = quick(lambda *a: cgan_sample(tab, *a), "cgan_sample")
        digit.change(cg_fn, [digit, seed], [cg_img, cg_info], trigger_mode="always_last", **LIVE,
                     api_name="cgan_sample")
        seed.change(cg_fn, [digit, seed], [cg_img, cg_info], **LIVE, api_visibility="private")
        seed.change(quick(lambda s: cgan_row(tab, s), "cgan_row"), seed, cg_row, **LIVE,
                    api_visibility="private")
        # choosing a code also shows the cGAN's version of the digit that code drew
        if tab.match is not None:
            code.change(lambda k: tab.digit_of(int(k)), code, digit, show_progress="hidden",
                        api_visibility="private")

    ex_codes = tab.code_order()
    gr.Examples([[ex_codes[3], -2.0, 0.0, 7], [ex_codes[3], 2.0, 0.0, 7], [ex_codes[8], 0.0, -2.0, 1],
                 [ex_codes[8], 0.0, 2.0, 1], [ex_codes[0], 1.0, 1.0, 42]],
                [code, c1, c2, seed], label="Examples: the same digit with c₁ or c₂ at the ends of the range")
    with gr.Accordion("What is computed (formulas)", open=False):
        gr.Markdown(EXPLAIN, latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                               {"left": "$", "right": "$", "display": False}])


# cheap endpoints measured by bench/latency.py: api_name → example inputs
LATENCY_ENDPOINTS = {"infogan_sample": [3, 0.5, -1.0, 0], "cgan_sample": [7, 0]}
