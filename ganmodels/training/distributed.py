"""Running the training CLI under ``torchrun`` (one process per device or CPU slot).

``python -m ganmodels.train dcgan ...`` is the same command on a laptop and under
``torchrun --nproc_per_node N -m ganmodels.train dcgan ...``: when torchrun's
environment (WORLD_SIZE, RANK, LOCAL_RANK) is present we join the process group
(``gloo`` on CPU, ``nccl`` on CUDA), each rank reads its own shard of the data
(``data.batches(rank=, world=)``) and the networks are wrapped in
DistributedDataParallel so that gradients are averaged across ranks.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import timedelta

import torch


@dataclass
class Context:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    backend: str | None = None


def setup(device: str = "cpu") -> Context:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Context()
    import torch.distributed as dist

    backend = "nccl" if str(device).startswith("cuda") else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        torch.cuda.set_device(local)
    return Context(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=local, backend=backend)


def wrap(run, ctx: Context) -> None:
    """Wrap every trainable network the objective uses in DistributedDataParallel."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    obj = run.objective
    for attr, value in list(vars(obj).items()):
        if isinstance(value, torch.nn.Module) and any(p.requires_grad for p in value.parameters()):
            # broadcast_buffers=False: batchnorm statistics stay per rank (as in most GAN code)
            setattr(obj, attr, DDP(value, broadcast_buffers=False))


def any_rank(flag: bool, ctx: Context) -> bool:
    """True on every rank when ``flag`` is true on at least one (e.g. the --minutes limit):
    ranks that stopped at different steps would wait for each other forever."""
    if ctx.world <= 1:
        return bool(flag)
    import torch.distributed as dist

    dev = f"cuda:{ctx.local_rank}" if ctx.backend == "nccl" else "cpu"
    t = torch.tensor([1.0 if flag else 0.0], device=dev)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def unwrap(run) -> None:
    """Put the plain networks back on the objective (undo :func:`wrap`)."""
    obj = run.objective
    for attr, value in list(vars(obj).items()):
        if isinstance(value, torch.nn.parallel.DistributedDataParallel):
            setattr(obj, attr, value.module)


def cleanup(ctx: Context, run=None) -> None:
    """Leave the process group in step with the other ranks.

    Every rank waits at a barrier first (rank 0 may still be exporting), then drops its
    DistributedDataParallel wrappers, whose reducers hold the group, and only then destroys
    the group: a rank that tore its group down and exited while a peer still held live
    connections could abort at exit ("terminate called without an active exception")."""
    if ctx.world <= 1:
        return
    import gc

    import torch.distributed as dist
    if not dist.is_initialized():
        return
    # Called on the normal path only: a rank that stopped with an error exits at once, and the
    # barrier then fails on the others (closed connection) or, at worst, after the timeout.
    try:
        if ctx.backend == "gloo":
            dist.monitored_barrier(timeout=timedelta(minutes=10))
        else:   # monitored_barrier is gloo-only; nccl's barrier ends with the group's own timeout
            dist.barrier(device_ids=[ctx.local_rank])
    except RuntimeError as e:
        print(f"rank {ctx.rank}: the other ranks did not reach the end of training ({e}); leaving anyway",
              file=sys.stderr)
    if run is not None:
        unwrap(run)
        gc.collect()
    dist.destroy_process_group()


def describe_device(device: str) -> str:
    if str(device).startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({torch.get_num_threads()} threads)"
