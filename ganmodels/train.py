"""One training loop for every model, and the ``python -m ganmodels.train`` CLI.

The loop is objective-agnostic: an *objective* has ``d_loss(batch)`` and
``g_loss(batch)`` (each returns ``(loss, logs)``); the loop only alternates

    for each step:
        k times:  (1) update D: descend ∇ d_loss   (for the minimax loss: ascend log D(x) + log(1 − D(G(z))))
        once:     (2) update G: descend ∇ g_loss   (e.g. −log D(G(z)) for the non-saturating loss)
        on_step(step, logs)   → progress bar, sample sheets, checkpoints, the live viewer

Objectives without a discriminator (``has_d = False``: the classifier, SRResNet)
only run step (2).  Model families plug in through ``RECIPES``: a function
that builds the networks, optimizers, data and objective for the CLI.

CLI::

    python -m ganmodels.train dcgan --steps 6000 --out runs/dcgan --export weights
    python -m ganmodels.train dcgan --out runs/dcgan --resume --steps 8000
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from . import weights as W


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


def add_gan_args(p, *, losses, real_label: bool = True, lr_g_help: str | None = None,
                 lr_d_help: str | None = None) -> None:
    """The options every GAN recipe shares: loss, Adam learning rates and β₁, EMA of G, LR decay."""
    p.add_argument("--loss", choices=list(losses), default="ns")
    p.add_argument("--lr-g", type=float, default=2e-4, help=lr_g_help)
    p.add_argument("--lr-d", type=float, default=2e-4, help=lr_d_help)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--ema", type=float, default=0.999, help="decay of the moving average of G (the shipped G)")
    p.add_argument("--decay-from", type=float, default=1.0,
                   help="learning rates decay linearly to 0 from this share of --steps (1: constant)")
    if real_label:
        p.add_argument("--real-label", type=float, default=1.0, help="one-sided label smoothing (e.g. 0.9)")


def gan_run(args, *, G, D, ema, objective, data, export, data_desc, sample, default_steps: int,
            g_params=None, d_params=None) -> "Run":
    """A GAN recipe's Run: Adam for G and D (lr-g/lr-d, β₁), the LR decay, G, D and G's EMA checkpointed."""
    betas = (args.beta1, 0.999)
    opt_g = torch.optim.Adam(list(G.parameters()) if g_params is None else g_params, lr=args.lr_g, betas=betas)
    opt_d = torch.optim.Adam(list(D.parameters()) if d_params is None else d_params, lr=args.lr_d, betas=betas)
    return Run(modules={"G": G, "D": D, "G_ema": ema.shadow}, optimizers={"G": opt_g, "D": opt_d},
               objective=objective, data=data, export=export, data_desc=data_desc, sample=sample,
               schedulers=decay_schedulers((opt_g, opt_d), args.steps or default_steps, args.decay_from))


class NonFiniteLoss(FloatingPointError):
    """A loss became NaN or inf: the run stops (the live tab pauses with this message)."""

    def __init__(self, step: int, logs: dict):
        bad = ", ".join(k for k, v in logs.items() if not math.isfinite(v))
        super().__init__(f"step {step}: {bad} became NaN/inf — the learning rate is probably too "
                         "high. Lower it and reset the run.")
        self.step, self.logs = step, logs


def train_loop(objective, data: Iterator, optimizers: dict[str, torch.optim.Optimizer], *,
               steps: int, start_step: int = 0, k: int = 1,
               on_step: Callable[[int, dict], Any] | None = None,
               schedulers: tuple = (), should_stop: Callable[[], bool] | None = None) -> int:
    """Run steps ``start_step+1 … steps``; returns the last completed step.

    ``on_step(step, logs)`` is called after every step; returning ``False`` stops
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
                opt_d.zero_grad(set_to_none=True)
                loss_d, logs_d = objective.d_loss(batch)
                if not torch.isfinite(loss_d):
                    raise NonFiniteLoss(step + 1, logs_d)
                loss_d.backward()
                opt_d.step()
                logs.update(logs_d)
        # (2) Update G: minimise the objective's G term, e.g. −log D(G(z))
        if batch is None or not reuse:
            batch = next(data)
        opt_g.zero_grad(set_to_none=True)
        loss_g, logs_g = objective.g_loss(batch)
        if not torch.isfinite(loss_g):
            raise NonFiniteLoss(step + 1, {**logs, **logs_g})
        loss_g.backward()
        opt_g.step()
        logs.update(logs_g)
        if hasattr(objective, "after_step"):
            objective.after_step()
        for s in schedulers:
            s.step()
        step += 1
        if on_step is not None and on_step(step, logs) is False:
            break
    return step


# ------------------------------------------------------------------ recipes (CLI)


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


def _recipe(name: str):
    # a plain registry: model name → module with add_args(parser) and make_run(args)
    if name == "dcgan":
        from . import recipes
        return recipes.DCGANRecipe
    if name == "classifier":
        from . import recipes
        return recipes.ClassifierRecipe
    if name == "infogan":
        from . import infogan
        return infogan
    if name == "cgan":
        from . import cgan
        return cgan
    if name == "cyclegan":
        from . import cyclegan
        return cyclegan
    if name in ("srresnet", "srgan"):
        from . import srgan
        return srgan
    raise SystemExit(f"unknown model {name!r}")


RECIPES = ("classifier", "dcgan", "infogan", "cgan", "cyclegan", "srresnet", "srgan")


def base_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ganmodels.train", description=__doc__, add_help=add_help,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=RECIPES)
    p.add_argument("--steps", type=int, default=None, help="total steps (generator updates)")
    p.add_argument("--minutes", type=float, default=None,
                   help="stop after this wall time (the manifest records the steps actually run)")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--out", default=None, help="run folder (checkpoint, sample sheets); default runs/<model>")
    p.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.safetensors")
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--sample-every", type=int, default=500)
    p.add_argument("--export", default=None, help="write the final weights here (and their manifest entry)")
    p.add_argument("--no-progress", action="store_true")
    return p


def _canonical_command(argv: list[str], steps: int) -> str:
    """The command that reproduces the run: --minutes/--resume dropped, --steps fixed."""
    out, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a in ("--minutes", "--steps", "--threads"):
            skip = True
            continue
        if a.startswith(("--minutes=", "--steps=", "--threads=")) or a in ("--resume", "--no-progress"):
            continue
        out.append(a)
    model, rest = out[0], out[1:]
    return shlex.join(["python", "-m", "ganmodels.train", model, "--steps", str(steps), *rest])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in RECIPES for a in argv):   # no model named: the plain help / error lists the models
        base_parser().parse_args(argv)
    pre, _ = base_parser(add_help=False).parse_known_args(argv)   # --help waits for the recipe's options
    recipe = _recipe(pre.model)
    p = base_parser()
    recipe.add_args(p)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    out = Path(args.out or f"runs/{args.model}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "samples").mkdir(exist_ok=True)

    from . import distributed as dist
    ctx = dist.setup(args.device)
    args.rank, args.world = ctx.rank, ctx.world
    run: Run = recipe.make_run(args)
    if ctx.world > 1:
        dist.wrap(run, ctx)
    steps = args.steps if args.steps is not None else recipe.DEFAULT_STEPS
    ckpt = out / "checkpoint.safetensors"
    start = 0
    if args.resume and ckpt.exists():
        start, _ = W.load_checkpoint(ckpt, modules=run.modules, optimizers=run.optimizers,
                                     device=args.device)
        for s in run.schedulers:
            for _ in range(start):
                s.step()
        if hasattr(run.objective, "g_steps"):   # objectives with a schedule of their own (top-k)
            run.objective.g_steps = start
        print(f"resumed from {ckpt} at step {start}", file=sys.stderr)

    from tqdm import tqdm
    bar = tqdm(total=steps, initial=start, disable=args.no_progress or ctx.rank != 0,
               dynamic_ncols=True, desc=args.model)
    t_end = time.time() + 60 * args.minutes if args.minutes else None

    def save_ckpt(step):
        if ctx.rank == 0:
            try:
                W.save_checkpoint(ckpt, modules=run.modules, optimizers=run.optimizers, step=step,
                                  info={"model": args.model, "argv": argv})
            except OSError as e:   # disk full, read-only folder …: the previous checkpoint is intact
                raise SystemExit(f"could not write the checkpoint {ckpt} at step {step}: {e.strerror or e}. "
                                 "The previous checkpoint is intact (it is replaced atomically): free some "
                                 "space and run the same command with --resume.") from None

    def on_step(step, logs):
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix({k: f"{v:.3g}" for k, v in list(logs.items())[:6]})
        if ctx.rank == 0 and run.sample is not None and step % args.sample_every == 0:
            save_png(run.sample(), out / "samples" / f"step_{step:06d}.png")
        if step % args.ckpt_every == 0:
            save_ckpt(step)
        if t_end is not None and dist.any_rank(time.time() > t_end, ctx):  # every rank stops at the same step
            return False
        return None

    try:
        last = train_loop(run.objective, run.data, run.optimizers, steps=steps, start_step=start,
                          k=run.k, on_step=on_step, schedulers=tuple(run.schedulers))
    except NonFiniteLoss as e:
        bar.close()
        raise SystemExit(f"stopped: {e}\nThe last checkpoint ({ckpt}, written every {args.ckpt_every} steps) "
                         "is intact: rerun with --resume and a lower learning rate.") from None
    bar.close()
    save_ckpt(last)
    if ctx.rank == 0:
        if run.sample is not None:
            save_png(run.sample(), out / "samples" / f"step_{last:06d}.png")
        if args.export:
            exp = Path(args.export)
            try:
                hashes = run.export(exp)
                cmd, total = _canonical_command(argv, last), last
                if run.lineage is not None:
                    total, cmd = run.lineage[0] + last, f"{run.lineage[1]} && {cmd}"
                for name in hashes:
                    W.update_manifest(exp, name, data=run.data_desc, command=cmd,
                                      steps=last if name in run.fresh else total,
                                      trained_on=f"{dist.describe_device(args.device)}, world size {ctx.world}")
            except OSError as e:   # disk full during export: say so, and how to export without retraining
                raise SystemExit(f"could not export the weights to {exp}: {e.strerror or e}. The run is saved "
                                 f"in {ckpt} (step {last}): free some space, then run the same command with "
                                 f"--resume --steps {last} to export without training again.") from None
            print(f"exported {', '.join(hashes)} to {exp}", file=sys.stderr)
    dist.cleanup(ctx, run)   # every rank waits here until rank 0 has exported
    print(f"done: {last} steps", file=sys.stderr)
    return 0


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


if __name__ == "__main__":
    raise SystemExit(main())
