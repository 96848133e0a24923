"""CPU settings for serving a class: threads per request, and bfloat16 where it is measured faster.

Model loading keeps its own CPU choice (``ganmodels.weights.cpu_layout``: channels-last
weights); what is here only concerns how the app serves many requests at once.
"""
from __future__ import annotations

import contextlib
import os
import time

import torch

BF16_ENV = "GAN_CLASSROOM_BF16"   # "0": never use bfloat16 for the UI's batched renders


def torch_threads(concurrency: int, cores: int | None = None) -> int:
    """PyTorch threads per operation on a CPU that serves ``concurrency`` heavy jobs plus the sliders.

    Requests run side by side, so each gets few threads: cores / (concurrency + 1), at least 1,
    which keeps the cores from being oversubscribed.
    """
    cores = cores or os.cpu_count() or 1
    return max(1, cores // (concurrency + 1))


def cpu_bf16(enabled: bool):
    """The context that :func:`bf16_pays` chose: bfloat16 autocast on the CPU, or nothing."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if enabled else contextlib.nullcontext()


@torch.no_grad()
def bf16_pays(run, *, min_speedup: float = 1.3, max_mean: float = 0.01, max_abs: float = 0.25,
              repeats: int = 3) -> bool:
    """Whether ``run()`` — a network on the CPU, on a batch like the ones it will serve — is at least
    ``min_speedup`` × faster under bfloat16 autocast than in float32 *on this machine*, with outputs
    that agree (mean |Δ| ≤ ``max_mean``, max |Δ| ≤ ``max_abs``; ``run`` returns a tensor on the
    scale of an image in [-1, 1] or of probabilities).

    Timed rather than guessed from CPU flags: with AMX or AVX512-BF16 (oneDNN) bfloat16 is several
    times faster, where it is emulated it is slower, and the flags do not say which kernels oneDNN
    picks.  For the UI's *batched* renders only (one image is faster in float32); every metric and
    CLI result stays float32.  ``GAN_CLASSROOM_BF16=0`` turns it off."""
    if os.environ.get(BF16_ENV, "1") == "0":
        return False

    def best(ctx_on: bool) -> tuple[float, torch.Tensor]:
        times, out = [], None
        for _ in range(repeats + 1):        # the first call warms oneDNN's kernels up
            t0 = time.perf_counter()
            with cpu_bf16(ctx_on):
                out = run()
            times.append(time.perf_counter() - t0)
        return min(times[1:]), out.float()

    try:
        t32, ref = best(False)
        t16, out = best(True)
    except (RuntimeError, TypeError):        # no bfloat16 kernel for some layer, or output
        return False
    if out.shape != ref.shape or not torch.isfinite(out).all():
        return False
    diff = (out - ref).abs()
    if diff.mean().item() > max_mean or diff.max().item() > max_abs:
        return False
    return t32 >= min_speedup * t16
