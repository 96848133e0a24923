"""What batching the class's 2-D runs buys: the cost of one toy step, alone and stacked.

    python bench/toy_batched.py [--runs 30] [--steps 100]

The default 2-D preset's networks (G: 2 → 64 → 64 → 2, D: 2 → 64 → 64 → 1, LeakyReLU, batch 256,
non-saturating loss, fused Adam) on one CPU thread, written as batched matrix products over ``--runs``
stacked copies (what a trainer that steps every student's run at once, when their settings agree, would do),
against ``--runs 1`` of the same code: the bound for a batched trainer.  Beside it, what the app does:
``--runs`` live trainers of the default preset, each trained in slices of 10 ms one after another
(``Trainer.run_slice``, as the class scheduler does for runs that cannot share a computation) and all
together (``ganmodels.training.batched.train_group``, slices of 0.1 s, as it does for runs that can),
snapshots included.  The last stdout line is one JSON object.
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


def scheduled_steps_per_s(runs: int, seconds: float) -> tuple[float, float]:
    """Run-steps/s of ``runs`` scheduled default-preset trainers: (separate slices, batched slices)."""
    from ganmodels.training import batched
    from ganmodels.training import live as T

    class _Scheduler:                 # the trainers only tell their scheduler that they have work
        threads: list = []

        def wake(self, t):
            pass

        def remove(self, t):
            pass

    trs = [T.Trainer(T.preset_config("nonsat", seed=i), scheduler=_Scheduler()) for i in range(runs)]
    try:
        for t in trs:
            t.start()

        def rate(one_turn) -> float:
            one_turn()
            t0, s0 = time.perf_counter(), sum(t.step for t in trs)
            while time.perf_counter() - t0 < seconds:
                one_turn()
            return (sum(t.step for t in trs) - s0) / (time.perf_counter() - t0)

        separate = rate(lambda: [t.run_slice(0.01) for t in trs])
        together = rate(lambda: batched.train_group(trs, 0.1))
        return separate, together
    finally:
        for t in trs:
            t.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--seconds", type=float, default=10.0, help="per scheduled figure")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    one = stacked_steps_per_s(1, args.steps * 3)
    many = stacked_steps_per_s(args.runs, args.steps)
    live = trainer_steps_per_s(args.steps * 3)
    separate, together = scheduled_steps_per_s(args.runs, args.seconds)
    out = {"bench": "toy_batched", "runs": args.runs, "run_steps_per_s_one_thread": {
        "live_trainer": round(live), "plain_one_run": round(one), f"stacked_{args.runs}_runs": round(many),
        f"scheduled_{args.runs}_runs_separate_slices": round(separate),
        f"scheduled_{args.runs}_runs_batched": round(together)},
        "speedup_stacked_vs_live_trainer": round(many / live, 2),
        "speedup_batched_vs_separate_slices": round(together / separate, 2),
        "per_run_steps_per_s_batched": round(together / args.runs, 1)}
    out.update(machine(load0))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
