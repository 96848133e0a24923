"""How much would batching the class's 2-D runs buy?  The cost of one toy step, alone and stacked.

    python bench/toy_batched.py [--runs 30] [--steps 100]

The default 2-D preset's networks (G: 2 → 64 → 64 → 2, D: 2 → 64 → 64 → 1, LeakyReLU, batch 256,
non-saturating loss, fused Adam) on one CPU thread, written as batched matrix products over ``--runs``
stacked copies (what a trainer that steps every student's run at once, when their settings agree, would do),
against ``--runs 1`` of the same code.  This is the upper bound of that rewrite: the live trainer's own
step (``Trainer.run_steps``) is timed beside it.  The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import time

from bench.common import machine  # (sets the offline defaults)


def stacked_steps_per_s(runs: int, steps: int, batch: int = 256, hidden: int = 64) -> float:
    import torch
    import torch.nn.functional as F

    def mlp(sizes):
        ps = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            ps += [(torch.randn(runs, a, b) / a ** 0.5).requires_grad_(), torch.zeros(runs, 1, b).requires_grad_()]
        return ps

    def fwd(ps, x):
        n = len(ps) // 2
        for i in range(n):
            x = torch.baddbmm(ps[2 * i + 1], x, ps[2 * i])
            if i < n - 1:
                x = F.leaky_relu(x, 0.2)
        return x

    G, D = mlp([2, hidden, hidden, 2]), mlp([2, hidden, hidden, 1])
    og = torch.optim.Adam(G, lr=1e-3, betas=(0.5, 0.999), fused=True)
    od = torch.optim.Adam(D, lr=1e-3, betas=(0.5, 0.999), fused=True)

    def step():
        x, z = torch.randn(runs, batch, 2), torch.randn(runs, batch, 2)
        od.zero_grad(set_to_none=True)
        fake = fwd(G, z).detach()
        ((F.softplus(-fwd(D, x)).mean() + F.softplus(fwd(D, fake)).mean()) * runs).backward()
        od.step()
        og.zero_grad(set_to_none=True)
        (F.softplus(-fwd(D, fwd(G, torch.randn(runs, batch, 2)))).mean() * runs).backward()
        og.step()

    for _ in range(10):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return runs * steps / (time.perf_counter() - t0)


def trainer_steps_per_s(steps: int) -> float:
    from ganmodels.training import live as T

    tr = T.Trainer(T.preset_config("nonsat"))
    try:
        tr.run_steps(20)
        t0 = time.perf_counter()
        tr.run_steps(steps)
        return steps / (time.perf_counter() - t0)
    finally:
        tr.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--steps", type=int, default=100)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    one = stacked_steps_per_s(1, args.steps * 3)
    many = stacked_steps_per_s(args.runs, args.steps)
    live = trainer_steps_per_s(args.steps * 3)
    out = {"bench": "toy_batched", "runs": args.runs, "run_steps_per_s_one_thread": {
        "live_trainer": round(live), "plain_one_run": round(one), f"stacked_{args.runs}_runs": round(many)},
        "speedup_stacked_vs_live_trainer": round(many / live, 2),
        "per_run_steps_per_s_if_one_thread_served_all": round(many / args.runs, 1)}
    out.update(machine(load0))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
