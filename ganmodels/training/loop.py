"""One training loop for every model: the alternating game, objective-agnostic.

An *objective* has ``d_loss(batch)`` and ``g_loss(batch)`` (each returns
``(loss, logs)``); the loop only alternates

    for each step:
        k times:  (1) update D: descend ∇ d_loss   (for the minimax loss: ascend log D(x) + log(1 − D(G(z))))
        once:     (2) update G: descend ∇ g_loss   (e.g. −log D(G(z)) for the non-saturating loss)
        on_step(step, logs)   → progress bar, sample sheets, checkpoints, the live viewer

Objectives without a discriminator (``has_d = False``: the classifier, SRResNet)
only run step (2).  A recipe (``ganmodels.recipes``) builds a :class:`Run`; the
command line ``python -m ganmodels.train`` (``ganmodels.cli.train``) runs it.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch



def linear_decay(total_steps: int, decay_from: float = 0.5):
    """LR factor: 1 for the first ``decay_from`` of the steps, then linearly down to 0 (CycleGAN's schedule)."""
    start = int(total_steps * decay_from)
    span = max(1, total_steps - start)

    def factor(step: int) -> float:
        return 1.0 if step < start else max(0.0, 1.0 - (step - start) / span)
    return factor


def decay_schedulers(optimizers, total_steps: int, decay_from: float) -> list:
    """One LambdaLR per optimizer with :func:`linear_decay`; none when ``decay_from`` ≥ 1 (constant LR)."""
    if decay_from >= 1:
        return []
    f = linear_decay(total_steps, decay_from)
    return [torch.optim.lr_scheduler.LambdaLR(o, f) for o in optimizers]


def _no_hooks(opt) -> bool:
    from torch.optim import optimizer as O

    return not (opt._optimizer_step_pre_hooks or opt._optimizer_step_post_hooks
                or getattr(O, "_global_optimizer_pre_hooks", None) or getattr(O, "_global_optimizer_post_hooks", None))


def optimizer_step(opt) -> None:
    """``opt.step()``, minus the profiler record every call opens (``Optimizer.step``'s wrapper): on this
    CPU build it costs 0.3–0.5 ms, as much as the fused Adam update of a small network itself — most of a
    2-D step's optimizer time.  Hooks (WGAN's weight clipping) and an LR scheduler's patched ``step`` are
    honoured by taking the ordinary path whenever there are any."""
    raw = getattr(type(opt).step, "__wrapped__", None)
    if raw is None or "step" in vars(opt) or not _no_hooks(opt):
        opt.step()
    else:
        raw(opt)


def zero_grad(opt) -> None:
    """``opt.zero_grad(set_to_none=True)`` without its profiler record (see :func:`optimizer_step`)."""
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = None


class NonFiniteLoss(FloatingPointError):
    """A loss became NaN or inf: the run stops (the live tab pauses with this message)."""

    def __init__(self, step: int, logs: dict):
        bad = ", ".join(k for k, v in logs.items() if not math.isfinite(v))
        super().__init__(f"step {step}: {bad} became NaN/inf — the learning rate is probably too "
                         "high. Lower it and reset the run.")
        self.step, self.logs = step, logs


def train_loop(objective, data: Iterator, optimizers: dict[str, torch.optim.Optimizer], *,
               steps: int, start_step: int = 0, k: int = 1, k_g: int = 1,
               on_step: Callable[[int, dict], Any] | None = None,
               schedulers: tuple = (), should_stop: Callable[[], bool] | None = None) -> int:
    """Run steps ``start_step+1 … steps``; returns the last completed step.

    One step is ``k`` D updates, then ``k_g`` G updates (1 by default, as in Goodfellow et al.'s
    Algorithm 1). ``on_step(step, logs)`` is called after every step; returning ``False`` stops
    the run.  Raises NonFiniteLoss when a loss is NaN/inf (before stepping on it).
    """
    has_d = getattr(objective, "has_d", True)
    reuse = getattr(objective, "reuse_batch", False)
    opt_d, opt_g = optimizers.get("D"), optimizers["G"]
    step = start_step
    while step < steps:
        if should_stop is not None and should_stop():
            break
        logs: dict[str, float] = {}
        batch = None
        if has_d:
            for _ in range(max(1, int(k))):
                batch = next(data)
                # (1) Update D: maximise log D(x) + log(1 − D(G(z)))  (the objective's D term)
                zero_grad(opt_d)
                loss_d, logs_d = objective.d_loss(batch)
                if not torch.isfinite(loss_d):
                    raise NonFiniteLoss(step + 1, logs_d)
                loss_d.backward()
                optimizer_step(opt_d)
                logs.update(logs_d)
        for _ in range(max(1, int(k_g))):
            # (2) Update G: minimise the objective's G term, e.g. −log D(G(z))
            if batch is None or not reuse:
                batch = next(data)
            zero_grad(opt_g)
            loss_g, logs_g = objective.g_loss(batch)
            if not torch.isfinite(loss_g):
                raise NonFiniteLoss(step + 1, {**logs, **logs_g})
            loss_g.backward()
            optimizer_step(opt_g)
            logs.update(logs_g)
            if hasattr(objective, "after_step"):
                objective.after_step()
        for s in schedulers:
            s.step()
        step += 1
        if on_step is not None and on_step(step, logs) is False:
            break
    return step


# ------------------------------------------------------------------ what a recipe hands the loop


@dataclass
class Run:
    """Everything the CLI needs to train one model family."""
    modules: dict[str, torch.nn.Module]                 # all checkpointed
    optimizers: dict[str, torch.optim.Optimizer]         # "G" (and "D")
    objective: Any
    data: Iterator
    export: Callable[[Path], dict[str, str]]             # writes weight files → {name: sha256}
    data_desc: str
    sample: Callable[[], np.ndarray] | None = None       # uint8 sample sheet (fixed z)
    schedulers: list = field(default_factory=list)
    k: int = 1
    # a run that starts from earlier exported weights (``--init-from``): their manifest entry's
    # (steps, command), so the export records the whole lineage — steps added up, commands joined by &&
    lineage: tuple[int, str] | None = None
    # exported files that this run starts afresh (SRGAN's D beside a G from SRResNet): the lineage's
    # command still reproduces them, but their steps are this run's alone
    fresh: tuple[str, ...] = ()


def save_png(img: np.ndarray, path: str | os.PathLike) -> None:
    from PIL import Image
    Image.fromarray(img).save(path)


def config_from_args(cls, args, prefix: str = ""):
    """Fill a config dataclass from CLI args named like its fields (``--ngf``)."""
    kw = {}
    for f in dataclasses.fields(cls):
        v = getattr(args, prefix + f.name, None)
        if v is not None:
            kw[f.name] = v
    return cls(**kw)

