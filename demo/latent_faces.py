"""Faces in the Latent space tab: attribute vectors, the classifier's reading, the lecture's presets.

Pure functions over the shipped face models (``ganmodels.models.faces``, ``face_classifier``,
``inference.face_attributes``); ``demo.latent`` builds the tab on them.  No gradio here.
"""
from __future__ import annotations

import numpy as np
import torch

from demo.common import InputError, as_float
from ganmodels.inference import face_attributes as FA
from ganmodels.models import face_classifier as FC
from ganmodels.models.faces import LICENCE

NEEDS = ("faces", "face_classifier", "face_attributes")   # the Faces model of the tab needs all three
SLIDERS = FA.SLIDERS            # the attribute sliders: Smiling, Eyeglasses, Male, Blond_Hair
KEEP_DEFAULT = FA.KEEP_DEFAULT  # "keep the other attributes" starts ticked
ALPHA_MIN, ALPHA_MAX, ALPHA_STEP = -3.0, 3.0, 0.1
READING_UNITS = "classifier's P(attribute), 0–1"

LICENCE_LINE = f"**Data licence:** {LICENCE}. The app ships weights, never images."
FORMULA = (r"**Attribute vector** (Radford et al. 2016, §6.3): $v_a = \overline{z}_{\text{has } a} - "
           r"\overline{z}_{\text{lacks } a}$, the mean $z$ of the sampled faces the classifier reads as having $a$ "
           r"($P>\frac12$) minus the mean of the others.  A slider shows $G(\psi\,(z + \sum_a \alpha_a v_a))$: "
           r"**α is in units of $v_a$** — α = 1 moves the face by the whole gap between the two groups' means, "
           r"α = −1 the other way.")
KEEP_LABEL = "keep the other attributes (remove from each vector its part along the other three sliders' vectors)"

# the lecture's arithmetic: (A, B, C) for mean z(A) − mean z(B) + mean z(C), and what it should give
PRESETS = {
    "smiling woman − neutral woman + neutral man": (
        {"Smiling": True, "Male": False}, {"Smiling": False, "Male": False}, {"Smiling": False, "Male": True}),
    "man with glasses − man without + woman without": (
        {"Male": True, "Eyeglasses": True}, {"Male": True, "Eyeglasses": False},
        {"Male": False, "Eyeglasses": False}),
}
EXPECTED = {"smiling woman − neutral woman + neutral man": "a smiling man",
            "man with glasses − man without + woman without": "a woman with glasses"}

EXPLAIN = r"""
**Faces.** A DCGAN of Radford et al. (2016)'s 64×64 architecture (no mapping MLP: z feeds the first transposed convolution, as in the paper), trained on aligned CelebA with three additions the paper does not have, for a 9,000-image set on a CPU: DiffAugment on everything D sees, a lazy R1 penalty on D, and the moving average (EMA) of G's weights as the G shown; every tool above works on it.
{licence}
GANSpace on faces uses G's first feature map $h(z)$ (4×4×8ngf, after the first transposed convolution).

* **Attribute vectors**: {samples:,} samples $z$ were drawn once, when the model was exported, and the project's face
  classifier read the 40 CelebA attributes of each $G(z)$; $v_a$ = mean $z$ of those read as having $a$ − mean $z$ of the others
  (Radford et al. 2016 §6.3 averaged three hand-picked samples per concept; the classifier lets us average thousands —
  needed, since a group mean's noise is about $1/\sqrt{{n}}$ per coordinate).  The first {pool:,} of them, with their
  readings, are the pool the presets pick from.
* **α** is in units of $v_a$: $z' = z + \alpha\,v_a$, α from −3 to 3.
* **Keep the other attributes** (Shen et al. 2020, InterFaceGAN's conditional manipulation): attributes are correlated in
  the data (blond hair ↔ female), so a raw $v_a$ drags the others along.  With the box ticked each vector loses its
  components along the other three sliders' vectors (Gram–Schmidt), so the other readings move as little as a linear edit can.
* **The readings** are the classifier's $P(\text{{attribute}})$, 0–1: a measurement of the picture, not the truth about it.
* **Presets** pick the three pool faces the classifier reads most confidently as each group
  (e.g. smiling woman = Smiling and not Male: the largest $P(\text{{Smiling}})\,(1-P(\text{{Male}}))$).
"""


def explain(attrs: FA.FaceAttributes) -> str:
    return EXPLAIN.format(licence=LICENCE_LINE, pool=len(attrs.z), samples=attrs.samples or len(attrs.z))


def missing(models: dict, errors: dict | None = None) -> str | None:
    """Why the Faces model cannot be shown (a sentence), or None when its three parts are loaded."""
    absent = [n for n in NEEDS if n not in models]
    if not absent:
        gan, attrs = models["faces"], models["face_attributes"]
        if attrs.z_dim != gan.cfg.z_dim:
            return (f"the attribute vectors (z_dim {attrs.z_dim}) do not belong to this face model "
                    f"(z_dim {gan.cfg.z_dim}): re-export them with the model")
        return None
    errors = errors or {}
    return "; ".join(f"{n}: {errors[n]}" if n in errors else f"{n} not loaded" for n in absent)


def first_feature_map(G, z: torch.Tensor) -> torch.Tensor:
    """h(z) of the face generator: its first block's output (B, 8ngf, 4, 4), flattened (GANSpace's features)."""
    h = G.mapping(z.view(len(z), -1))
    return G.net[:3](h.view(len(z), -1, 1, 1)).flatten(1)


def amounts(values) -> dict[str, float]:
    """The slider values (α per attribute of ``SLIDERS``, in that order) → {name: α}, checked and clamped."""
    values = list(values)
    if len(values) != len(SLIDERS):
        raise InputError(f"give one amount per attribute ({', '.join(SLIDERS)}), got {len(values)}")
    return {name: as_float(v, f"{name} (α)", ALPHA_MIN, ALPHA_MAX, clamp=True) for name, v in zip(SLIDERS, values)}


def keep_flag(keep) -> bool:
    if not isinstance(keep, bool):
        raise InputError(f"'keep the other attributes' must be true or false, got {keep!r}")
    return keep


def edit_z(attrs: FA.FaceAttributes, z: torch.Tensor, alphas: dict[str, float], keep: bool) -> torch.Tensor:
    """z (d,) + Σ_a α_a · v_a, each v_a without its part along the other sliders' vectors when ``keep``."""
    return attrs.edit(z[None].float(), alphas, keep=SLIDERS if keep_flag(keep) else ())[0]


def readings(classifier, x: torch.Tensor) -> np.ndarray:
    """The classifier's P(attribute) of the slider attributes for faces x (N, 3, 64, 64) → (N, len(SLIDERS))."""
    probs, _ = FC.predict(classifier, x)
    return probs[:, [FA.attribute_index(n) for n in SLIDERS]]


def _bar(p: float, width: int = 10) -> str:
    n = int(round(p * width))
    return "█" * n + "░" * (width - n)


def readings_markdown(before: np.ndarray, after: np.ndarray) -> str:
    """A table of the slider attributes' readings for the picked face and the edited one."""
    rows = [f"**The {READING_UNITS}**", "",
            "| attribute | picked face | edited face |", "|---|---|---|"]
    for name, b, a in zip(SLIDERS, before, after):
        rows.append(f"| {name.replace('_', ' ')} | {b:.2f} | {a:.2f} {_bar(float(a))} |")
    return "\n".join(rows)


def preset_groups(attrs: FA.FaceAttributes, preset: str) -> tuple[list[int], list[int], list[int]]:
    """The three pool faces read most confidently as each of the preset's groups A, B, C (no face twice)."""
    if preset not in PRESETS:
        raise InputError(f"unknown preset {preset!r}: one of " + "; ".join(PRESETS))
    used: list[int] = []
    out = []
    for cond in PRESETS[preset]:
        idx = attrs.group(cond, k=3, exclude=used)
        used += idx
        out.append(idx)
    return tuple(out)


def describe_group(attrs: FA.FaceAttributes, cond: dict[str, bool], idx: list[int]) -> str:
    """"Smiling, not Male: #12 (0.97, 0.02), …" — the condition and each face's readings of its attributes."""
    names = list(cond)
    label = ", ".join(n.replace("_", " ") if has else "not " + n.replace("_", " ") for n, has in cond.items())
    cols = [FA.attribute_index(n) for n in names]
    faces = ", ".join(f"#{i} (" + ", ".join(f"{float(attrs.probs[i, c]):.2f}" for c in cols) + ")" for i in idx)
    return f"{label} — P({', '.join(n.replace('_', ' ') for n in names)}): {faces}"


def preset_markdown(attrs: FA.FaceAttributes, preset: str, groups) -> str:
    lines = [f"**{preset}** — expected: {EXPECTED[preset]}."]
    for letter, cond, idx in zip("ABC", PRESETS[preset], groups):
        lines.append(f"* {letter}: {describe_group(attrs, cond, idx)}")
    return "\n".join(lines)
