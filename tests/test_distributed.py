"""Training beyond one machine: the training CLI under torchrun's environment, 2 CPU processes, gloo.

Each process is started exactly as torchrun starts its workers (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR, MASTER_PORT in the environment) and runs ``python -m ganmodels.train`` through a
thin wrapper that records which real images the process drew and the final weights.
Checked: both ranks finish, their shards of the data are disjoint, and DistributedDataParallel
kept the replicas identical (gradients averaged) while the weights moved away from the start.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

WRAPPER = textwrap.dedent("""
    import hashlib, json, os, sys, time
    from ganmodels import data
    from ganmodels.cli import train
    from ganmodels.training import distributed

    seen, init, runs, clock = [], {}, [], {}
    real_batches, real_wrap, real_cleanup = data.batches, distributed.wrap, distributed.cleanup

    def digest(module):
        return hashlib.sha1(b"".join(p.detach().cpu().numpy().tobytes() for p in module.parameters())).hexdigest()

    def batches(x, *a, **k):          # record every real image this process draws
        for b in real_batches(x, *a, **k):
            t = b[0] if isinstance(b, (tuple, list)) else b
            seen.extend(hashlib.sha1(r.numpy().tobytes()).hexdigest() for r in t)
            yield b

    def wrap(run, ctx):
        runs.append(run)
        init.update({k: digest(m) for k, m in run.modules.items()})
        real_export = run.export

        def slow_export(path):        # rank 0 exports after training: make that take a while
            time.sleep(1.0)
            out = real_export(path)
            clock["export_done"] = time.time()
            return out

        run.export = slow_export
        return real_wrap(run, ctx)

    def cleanup(ctx, run=None):
        real_cleanup(ctx, run)
        clock["left_group"] = time.time()

    data.batches, distributed.wrap, distributed.cleanup = batches, wrap, cleanup
    rc = train.main(sys.argv[1:])
    rank = int(os.environ.get("RANK", "0"))
    mods = runs[0].modules if runs else {}
    with open(f"rank{rank}.json", "w") as f:
        json.dump({"rc": rc, "seen": seen, "init": init, "final": {k: digest(m) for k, m in mods.items()},
                   "clock": clock}, f)
""")

ARGS = ["dcgan", "--steps", "3", "--batch", "8", "--ngf", "4", "--ndf", "4", "--z_dim", "8", "--threads", "1",
        "--no-progress", "--sample-every", "1000", "--ckpt-every", "1000"]


def run_two_ranks(tmp_path: Path, extra: list[str], timeout: int = 900) -> list[dict]:
    (tmp_path / "wrapper.py").write_text(WRAPPER)
    port = free_port()
    procs = []
    for rank in range(2):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "RANK": str(rank),
               "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
        procs.append(subprocess.Popen([sys.executable, "wrapper.py", *ARGS, "--out", "run", *extra],
                                      cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    outs = []
    try:
        for p in procs:
            outs.append(p.communicate(timeout=timeout))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    return [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]


def check_ranks(res: list[dict], tmp_path: Path, steps: int | None = 3):
    r0, r1 = res
    assert r0["seen"] and r1["seen"]
    assert not set(r0["seen"]) & set(r1["seen"]), "the two processes drew the same images: data not sharded"
    for net in ("G", "D"):
        assert r0["final"][net] == r1["final"][net], f"{net} differs between ranks: gradients were not averaged"
        assert r0["final"][net] != r0["init"][net], f"{net} did not train"
    from ganmodels import weights as W
    _, header = W.load_tensors(tmp_path / "run" / "checkpoint.safetensors")
    if steps is not None:
        assert header["step"] == str(steps)


@pytest.mark.parametrize("loss", ["wgan-gp"])
def test_two_cpu_processes_train_on_distinct_shards(tmp_path, loss):
    """wgan-gp: two D forward passes and the gradient penalty's double backward through DDP."""
    res = run_two_ranks(tmp_path, ["--loss", loss, "--export", "export"])
    check_ranks(res, tmp_path)
    man = json.loads((tmp_path / "export" / "manifest.json").read_text())
    entry = man["files"]["dcgan_G.safetensors"]
    assert "world size 2" in entry["trained_on"] and entry["steps"] == 3
    # no rank tears the process group down while rank 0 is still exporting (a rank that did
    # could abort at exit: "terminate called without an active exception")
    export_done = res[0]["clock"]["export_done"]
    assert all(r["clock"]["left_group"] >= export_done for r in res), [r["clock"] for r in res]


@pytest.mark.slow
def test_two_processes_stop_together_on_the_time_limit(tmp_path):
    """--minutes: each rank's clock says stop at a different step; they must agree (no hang)."""
    res = run_two_ranks(tmp_path, ["--steps", "100000", "--minutes", "0.05"])
    check_ranks(res, tmp_path, steps=None)


@pytest.mark.slow
def test_torchrun_command(tmp_path):
    """The documented command itself (torchrun starts the two workers)."""
    torchrun = shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun not on PATH")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([torchrun, "--nproc_per_node", "2", "--master_port", str(free_port()), "-m",
                        "ganmodels.train", *ARGS, "--out", str(tmp_path / "run")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stderr.count("done: 3 steps") == 2
