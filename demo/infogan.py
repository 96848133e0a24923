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

# the loss G minimises in V(D, G)'s place, per --loss of the recipe (ganmodels/losses.py), as LaTeX
G_LOSS_TEX = {
    "ns": (r"-\log D(G(z,c))", "the **non-saturating** loss"),
    "minimax": (r"\log(1 - D(G(z,c)))", "the minimax (saturating) loss"),
    "lsgan": (r"\tfrac12\,(D(G(z,c)) - 1)^2", "the least-squares loss"),
    "hinge": (r"-D(G(z,c))", "the hinge loss"),
}
NS_NOTE = (r"instead of $V$'s $\log(1 - D(G(z,c)))$, whose gradient vanishes while D still rejects G's samples "
           r"(Goodfellow et al. 2014 recommend this form, and the InfoGAN paper's own code trains G with it)")

EXPLAIN = r"""
**InfoGAN** (Chen et al. 2016). The generator gets noise $z$ (62 numbers) **and** a latent code; with the paper's names,
$c_1 \sim \mathrm{Cat}(K{=}10)$ is the **categorical** code and $c_2, c_3 \sim \mathrm{Unif}(-1, 1)$ are the two **continuous** codes
(the paper's Figure 2: $c_1$ the digit, $c_2$ rotation, $c_3$ width; here they are what the measurement on the sliders says).
A plain GAN would ignore $c$. InfoGAN adds the mutual information between the code and the image — the paper's objective:

$$\min_{G,Q}\ \max_D\ V(D,G) - \lambda\, L_I(G,Q), \qquad V(D,G) = \mathbb E_x[\log D(x)] + \mathbb E_{z,c}[\log(1 - D(G(z,c)))]$$

$I(c; G(z,c))$ needs the unknown posterior $P(c\mid x)$, so a head $Q(c \mid x)$ on the discriminator's body
approximates it, giving the **variational lower bound**

$$L_I(G,Q) = \mathbb E_{c \sim P(c),\, x \sim G(z,c)}[\log Q(c \mid x)] + H(c) \;\le\; I(c; G(z,c)).$$

For $c_1$, $-\log Q$ is a cross-entropy (at most $H(c_1) = \log 10 \approx 2.30$ nats to gain);
for $c_2, c_3$ it is a Gaussian negative log-likelihood $\tfrac12 (c - \mu_Q(x))^2 + \text{const}$ ($\sigma = 1$).

**What is trained** (<<source>>): <<d_text>>
G minimises <<g_name>> $\mathbb E_{z,c}[<<g_tex>>]$<<ns_note>>:

$$\min_G\ \mathbb E_{z,c}\big[<<g_tex>>\big] + \lambda_{cat}\, \mathrm{CE}\big(c_1, Q(x)\big) + \lambda_{cont} \sum_{j=2,3} \tfrac12 \big(c_j - \mu_{Q,j}(x)\big)^2, \qquad x = G(z,c),$$

i.e. $-\lambda L_I$ up to a constant, with $\lambda_{cat} = <<lam_cat>>$ for $c_1$ and $\lambda_{cont} = <<lam_cont>>$ for $c_2, c_3$.
<<q_where>>
G and Q both maximise $L_I$: G must draw images from which the code can be read back.
Nobody tells the model what the codes mean — on MNIST the cheapest way to keep 10 equally likely values of $c_1$
readable is to make them *digit classes*. That is why **code k is not digit k**: the mapping below is *measured* when the app starts:
2,000 samples (200 per code) are classified by the project's MNIST classifier and the codes are matched to digits
one-to-one so that the most samples agree (the Hungarian algorithm on the 10×10 count table).
What $c_2$ and $c_3$ control is measured by `python -m ganmodels.evaluate infogan` on 2,000 samples (every code and $z$
drawn at random): Spearman's $\rho$ of each code with the digit's slant (second moments) and its ink area (pixels ≥ 128);
the slider labels show it.

**Conditional GAN** (Mirza & Osindero 2014): the label $y$ is *given* to both networks,
$\min_G \max_D\ \mathbb E_{x,y}[\log D(x \mid y)] + \mathbb E_{z,y}[\log(1 - D(G(z \mid y) \mid y))]$ —
<<cgan_g>>
G receives $[z, \mathrm{onehot}(y)]$, D the image plus 10 one-hot planes. It is trained **with** the labels, so digit $y$ is just digit $y$.
Both generators use 62-dimensional $z \sim \mathcal N(0, I)$ and the same seed gives the same $z$ — but they are different
networks, so the same $z$ does not mean the same style.
"""


def trained_objective(store, file: str = "infogan_G.safetensors", recipe: str = "infogan") -> dict:
    """How the shipped weights were trained: the manifest's training command for ``file``, read with the
    recipe's own options (``ganmodels/recipes/<recipe>.py``; its defaults where the command gives none).

    Returns {"loss", "lam_cat", "lam_cont", "q_in_g", "command" (None when the manifest has none)}."""
    import argparse
    import importlib
    import shlex

    rec = importlib.import_module(f"ganmodels.recipes.{recipe}")
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    rec.add_args(p)
    try:
        command = str(store.manifest["files"][file]["command"])
    except Exception:  # noqa: BLE001 -- no store or no entry: the recipe's defaults
        command = None
    args, _ = p.parse_known_args(shlex.split(command) if command else [])
    return {"loss": args.loss, "lam_cat": getattr(args, "lam_cat", None), "lam_cont": getattr(args, "lam_cont", None),
            "q_in_g": bool(getattr(args, "q_in_g", False)), "command": command}


def explain(trained: dict, cgan_trained: dict | None = None) -> str:
    """The formulas, with the loss G is really trained with and the λ of the shipped weights."""
    g_tex, g_name = G_LOSS_TEX[trained["loss"]]
    source = (f"the shipped weights, `{trained['command']}`" if trained["command"]
              else "the recipe's defaults: the manifest has no training command")
    q_where = ("Q's head learns in G's step, with G's optimizer (`--q-in-g`); D's step is adversarial only."
               if trained["q_in_g"] else "Q's head learns in D's step too (with D's body), from the same term.")
    cg = cgan_trained or {"loss": "ns"}
    cg_tex, cg_name = G_LOSS_TEX[cg["loss"]]
    cg_tex = cg_tex.replace("G(z,c)", r"G(z \mid y) \mid y")
    cgan_g = f"G is trained with {cg_name} ${cg_tex}$ in that place."
    d_text = ("D maximises $V$ (a binary cross-entropy on real and generated digits)." if trained["loss"] in
              ("ns", "minimax") else f"D minimises {g_name}'s D term (`--loss {trained['loss']}`).")
    fill = {"source": source, "d_text": d_text, "g_name": g_name, "g_tex": g_tex, "lam_cat": f"{trained['lam_cat']:g}",
            "lam_cont": f"{trained['lam_cont']:g}", "q_where": q_where, "cgan_g": cgan_g,
            "ns_note": (" " + NS_NOTE) if trained["loss"] == "ns" else ""}
    text = EXPLAIN
    for k, v in fill.items():
        text = text.replace(f"<<{k}>>", v)
    return text


@dataclass
class InfoTab:
    """The loaded models plus what the tab measures once at load: the code → digit matching."""
    infogan: object                      # ganmodels.models.infogan.InfoGAN
    cgan: object | None = None           # ganmodels.models.cgan.CGAN
    classifier: object | None = None
    match: dict | None = None            # ganmodels.models.infogan.match_codes(...) result
    meanings: dict | None = None         # measured by `python -m ganmodels.evaluate infogan` (measured_meanings)

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


# The paper's names (Chen et al. 2016): c₁ is the categorical code, c₂ and c₃ the continuous codes.
# Internally (model inputs, the HTTP API's arguments, the CLI's --c1/--c2) the continuous codes are
# numbered 1, 2: continuous input j is the paper's c_{j+1}.
SUB = "₀₁₂₃₄₅₆₇₈₉"
CAT_NAME = "c₁"


def paper_name(j: int) -> str:
    """The paper's name of continuous input j (1-based): 1 → c₂, 2 → c₃."""
    return "c" + "".join(SUB[int(d)] for d in str(j + 1))


def measured_meanings(store) -> dict | None:
    """What the evaluate command measured for the continuous codes (in the manifest), or None.

    {"n": samples, "rho": {"c2": {"slant": ρ, "ink_area": ρ}, "c3": {...}}} — codes by their paper names."""
    try:
        m = store.manifest["files"]["infogan_G.safetensors"]["metrics"]["infogan"]
        rho = {str(c): {str(p): (None if v is None else float(v)) for p, v in props.items()}
               for c, props in m["continuous_code_spearman"].items()}
        return {"n": int(m["n_continuous"]), "rho": rho}
    except Exception:  # noqa: BLE001 -- no store, no manifest entry, older format: the labels stay plain
        return None


PROPERTY_WORDS = {"slant": "slant", "ink_area": "ink area (width / thickness)"}


def minus(x: float) -> str:
    return f"{x:+.2f}".replace("-", "−")


def strength(rho: float) -> str:
    """A word for |ρ| (the usual rough bands; below WEAK_RHO a code gets no meaning at all)."""
    a = abs(rho)
    return "weak" if a < 0.5 else "moderate" if a < 0.7 else "strong"


def code_label(tab: InfoTab, j: int) -> str:
    """Slider label for continuous input j (1-based, the paper's c_{j+1}) with what the measurement supports."""
    from ganmodels.evaluation.infogan import WEAK_RHO, code_meaning

    name = paper_name(j)
    base = f"{name} (continuous code)"
    m = tab.meanings
    rho = None if m is None else m["rho"].get(f"c{j + 1}")
    if not rho:
        return base
    n = f"Spearman, {m['n']:,} samples"
    mean = code_meaning(rho)
    if mean["property"] is None:
        props = " and ".join(PROPERTY_WORDS.get(p, p).split(" (")[0] for p in rho)
        return f"{base} — no clear single property (|ρ| < {WEAK_RHO} with {props}; {n})"
    text = f"{base} — " + "; also ".join(f"{PROPERTY_WORDS.get(p, p)}: {strength(r)}, ρ = {minus(r)}"
                                         for p, r in {mean["property"]: mean["rho"], **mean["also"]}.items())
    return f"{text} ({n})"


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
    """G(z, c): one enlarged digit, and what Q and the classifier read back from it.

    ``code`` is the paper's c₁ (categorical); ``c1``, ``c2`` are the model's continuous inputs,
    the paper's c₂, c₃."""
    k = as_int(code, f"{CAT_NAME} (categorical code)", 0, tab.K - 1)
    c1 = as_float(c1, paper_name(1), -C_MAX, C_MAX)
    c2 = as_float(c2, paper_name(2), -C_MAX, C_MAX)
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
        parts.append(f"**Q reads back:** ĉ₁ = code {kq} ({p[kq]:.0%}), ĉ₂ = {mu[0, 0]:+.2f}, "
                     f"ĉ₃ = {mu[0, 1]:+.2f} (asked: c₁ = code {k}, c₂ = {c1:+.2f}, c₃ = {c2:+.2f}) "
                     f"· D(x) = {torch.sigmoid(d_logit)[0]:.2f}")
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
    """The paper's Figure 2: rows = the categorical code c₁ (ordered by matched digit), columns = one
    continuous code swept from −2 to 2 (the other at 0), the same noise z everywhere.

    ``which`` names the model's continuous input, as the HTTP API always has: "c1" sweeps the paper's c₂,
    "c2" the paper's c₃."""
    if which not in ("c1", "c2"):
        raise InputError("Sweep must be 'c1' (the paper's c₂) or 'c2' (the paper's c₃)")
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
                "With the paper's names: pick a value of the categorical code c₁ and move the continuous codes "
                "c₂, c₃ (trained on −1…1; the paper shows the meaning carries on beyond). The same noise z feeds "
                "both generators.")
    gr.Markdown(mapping_markdown(tab))
    first = tab.code_order()[0]
    with gr.Row():
        with gr.Column():
            gr.Markdown("### InfoGAN: G(z, c)")
            code = gr.Dropdown(code_choices(tab), value=first, label="c₁: categorical code (10 values)",
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

    gr.Markdown("### The paper's Figure 2: rows = categorical code c₁ (sorted by the digit it drew), "
                "columns = one continuous code (c₂ or c₃) from −2 to +2, noise fixed")
    with gr.Row():
        # shown with the paper's names; the values stay the model's inputs (the HTTP API is unchanged)
        which = gr.Radio([(f"{paper_name(1)} (continuous)", "c1"), (f"{paper_name(2)} (continuous)", "c2")],
                         value="c1", label="Sweep")
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
    grid_btn.click(grid_fn, [which, seed], grid_img, concurrency_limit=None, api_name="infogan_grid",
                   api_description="Figure 2 grid; which = 'c1' sweeps the paper's c₂, 'c2' the paper's c₃")
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
                [code, c1, c2, seed], label="Examples: the same digit with c₂ or c₃ at the ends of the range")
    with gr.Accordion("What is computed (formulas)", open=False):
        trained = trained_objective(ctx.store), trained_objective(ctx.store, "cgan_G.safetensors", "cgan")
        gr.Markdown(explain(*trained),
                    latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                      {"left": "$", "right": "$", "display": False}])


# cheap endpoints measured by bench/latency.py: api_name → example inputs
LATENCY_ENDPOINTS = {"infogan_sample": [3, 0.5, -1.0, 0], "cgan_sample": [7, 0]}
