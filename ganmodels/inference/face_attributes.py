"""Attribute vectors in the face GAN's latent space (Radford et al. 2016 §6.3; Shen et al. 2020).

``SAMPLES`` samples z ~ N(0, I) go through G, and the project's face classifier reads each face's
40 CelebA attributes.  For an attribute a:

    v_a = mean{ z : p_a(G(z)) > ½ } − mean{ z : p_a(G(z)) ≤ ½ }        (the attribute vector)
    z'  = z + α · v_a                                                  (an edit; α = amount)

α is in units of v_a itself: α = 1 moves a face by the whole gap between the two groups' means.
Radford et al. averaged three hand-picked samples per concept; with a classifier we can average
thousands, as InterFaceGAN does with its linear boundaries.  Many are needed: each group mean carries
noise of about 1/√n per coordinate, so with 100 bespectacled faces among 2,000 the noise in a
128-dimensional v_a has a norm near 1.1 — as large as the signal; 20,000 samples cut it by √10.  Attributes are correlated in the
data (blond hair ↔ female), so a raw vector drags the others along; ``keep=`` removes from v_a its
components along the kept attributes' vectors (Gram–Schmidt; InterFaceGAN's "conditional
manipulation"), so that moving along it changes those attributes' readings as little as a linear
edit can.

The 40 vectors and a pool of the first ``POOL`` samples with their readings (the tab picks its
arithmetic groups from it) are computed once, when the face model is exported (:func:`compute`), and
shipped as ``faces_attributes.safetensors``.  This module never imports gradio.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from ganmodels import weights as W
from ganmodels.errors import InputError
from ganmodels.models.faces import ATTRIBUTES

FAMILY = "faces"
FILE = "faces_attributes.safetensors"
SAMPLES = 20000         # samples read by the classifier to build the vectors
POOL = 2000             # the first of them, kept (z and readings) for the tab's groups
POOL_SEED = 20160107    # the samples' seed (the DCGAN paper's arXiv date)
SLIDERS = ("Smiling", "Eyeglasses", "Male", "Blond_Hair")   # the tab's attribute sliders
DEFAULT_AMOUNT = 1.5    # the tab's default edit (α in units of v_a), and ``edit faces``'s
KEEP_DEFAULT = True     # edits keep the other slider attributes (conditional manipulation)


def attribute_index(name: str) -> int:
    """The position of a CelebA attribute name (exact spelling) among the 40; a clear error otherwise."""
    try:
        return ATTRIBUTES.index(name)
    except ValueError:
        raise InputError(f"unknown attribute {name!r}: one of the 40 CelebA attributes — "
                         + ", ".join(ATTRIBUTES)) from None


@dataclass
class FaceAttributes:
    z: torch.Tensor            # (P, d) the pool's latents
    probs: torch.Tensor        # (P, 40) the classifier's reading of G(z)
    directions: torch.Tensor   # (40, d) v_a; zero where one side of the split is empty
    counts: torch.Tensor       # (40,) how many of the SAMPLES read as having each attribute
    samples: int = 0           # how many samples the vectors were computed from

    @property
    def z_dim(self) -> int:
        return int(self.z.shape[1])

    def vector(self, name: str, keep: Iterable[str] = ()) -> torch.Tensor:
        """v_a for ``name`` (d,), with its components along the ``keep`` attributes' vectors removed."""
        v = self.directions[attribute_index(name)].clone()
        basis: list[torch.Tensor] = []
        for k in keep:
            if k == name:
                continue
            u = self.directions[attribute_index(k)].clone()
            for b in basis:
                u -= (u @ b) * b
            n = u.norm()
            if n > 1e-8:
                basis.append(u / n)
        for b in basis:
            v -= (v @ b) * b
        return v

    def edit(self, z: torch.Tensor, amounts: dict[str, float], keep: Iterable[str] | None = None
             ) -> torch.Tensor:
        """z (N, d) + Σ_a α_a · v_a.  ``keep=None``: each vector keeps the other slider attributes
        (:data:`SLIDERS`) when :data:`KEEP_DEFAULT`; pass ``()`` for the raw vectors."""
        out = z.clone().float()
        for name, a in amounts.items():
            if not np.isfinite(a):
                raise InputError(f"the amount of {name} must be a finite number, got {a!r}")
            if a == 0:
                continue
            kp = (SLIDERS if KEEP_DEFAULT else ()) if keep is None else tuple(keep)
            out = out + float(a) * self.vector(name, keep=[k for k in kp if k != name])
        return out

    def group(self, conditions: dict[str, bool], k: int = 3, exclude: Iterable[int] = ()) -> list[int]:
        """Indices of the ``k`` pool samples the classifier reads most confidently as matching every
        condition (name → has it): the largest product of p or 1 − p."""
        score = torch.ones(len(self.z), dtype=torch.float64)
        for name, has in conditions.items():
            p = self.probs[:, attribute_index(name)].double()
            score = score * (p if has else 1 - p)
        for i in exclude:
            score[i] = -1.0
        return [int(i) for i in score.argsort(descending=True)[:k]]


@torch.no_grad()
def compute(generate: Callable[[torch.Tensor], torch.Tensor], classify: Callable[[torch.Tensor], torch.Tensor],
            z_dim: int, n: int = SAMPLES, seed: int = POOL_SEED, batch: int = 250, pool: int = POOL
            ) -> FaceAttributes:
    """The 40 vectors from ``n`` samples, and the first ``pool`` of them with their readings.
    ``generate``: z (B, d) → faces (B, 3, 64, 64) in [-1, 1]; ``classify``: faces → probabilities (B, 40)."""
    g = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, z_dim, generator=g)
    probs = torch.cat([classify(generate(z[i:i + batch])).float().cpu() for i in range(0, n, batch)])
    has = probs > 0.5                                              # (n, 40)
    cnt = has.sum(0)
    pos = (has.T.float() @ z) / cnt.clamp(min=1)[:, None]          # (40, d)
    neg = ((~has).T.float() @ z) / (n - cnt).clamp(min=1)[:, None]
    dirs = torch.where(((cnt > 0) & (cnt < n))[:, None], pos - neg, torch.zeros_like(pos))
    return FaceAttributes(z=z[:pool].clone(), probs=probs[:pool].clone(), directions=dirs, counts=cnt, samples=n)


def save(attrs: FaceAttributes, path: str | Path, extra: dict | None = None) -> str:
    meta = {"family": FAMILY, "network": "attributes",
            "config": json.dumps({"pool": len(attrs.z), "z_dim": attrs.z_dim, "samples": attrs.samples}),
            "attributes": json.dumps(list(ATTRIBUTES))}
    if extra:
        meta["extra"] = json.dumps(extra)
    W.save_tensors({"z": attrs.z, "probs": attrs.probs, "directions": attrs.directions,
                    "counts": attrs.counts.to(torch.int64)}, path, meta)
    return W.sha256(path)


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None) -> FaceAttributes:
    """The shipped pool, readings and vectors (kept on the CPU whatever ``device``: they are small)."""
    store = store or W.WeightStore(weights_dir)
    path = store.path(FILE)
    manifest = store.manifest_for_check()
    if manifest is not None:
        W.verify(path, manifest)
    t, meta = W.load_tensors(path)
    if meta.get("family") != FAMILY or meta.get("network") != "attributes":
        raise W.WeightsError(f"{path.name}: holds {meta.get('family')}/{meta.get('network')}, "
                             "expected faces/attributes")
    try:
        a = FaceAttributes(z=t["z"].float(), probs=t["probs"].float(), directions=t["directions"].float(),
                           counts=t["counts"], samples=int(json.loads(meta.get("config", "{}")).get("samples", 0)))
    except KeyError as e:
        raise W.WeightsError(f"{path.name}: missing tensor {e}") from None
    if a.directions.shape != (len(ATTRIBUTES), a.z_dim) or a.probs.shape != (len(a.z), len(ATTRIBUTES)):
        raise W.WeightsError(f"{path.name}: shapes do not fit 40 attributes × z_dim {a.z_dim}")
    return a
