"""Speed of the live training run: headless vs served by the app with two viewers polling it.

    python bench/training.py            # toy (2-D ring) + DCGAN on digits, incl. time to 80 % recognised
    python bench/training.py --quick    # toy only, short windows (< 50 s on an idle machine)

Measured in this process on one training thread (``torch.set_num_threads(1)``), the
default ("non-saturating") ring preset unless ``--preset`` says otherwise:

* ``plain_loop_steps_per_s`` — ``ganmodels.training.loop.train_loop`` alone, no callback (the CLI's loop);
* ``headless_steps_per_s``   — the live ``Trainer`` in its background thread, nobody watching
  (it still takes its snapshots: generated points, D's field, the mode metrics);
* ``ui_steps_per_s``         — the same trainer served by the tab (gradio) while two viewers call
  the tab's timer endpoint ``training_poll`` over HTTP once a second (the tab's gr.Timer), as two
  browser tabs do
  (each viewer keeps one session, as a browser tab does: a 2-D run's poll brings the frames — points,
  D's field, arrows, G's manifold — taken since that viewer's last poll, which the browser draws one by
  one; ``viewer_frames_per_s`` is how many new frames each viewer received per second);
* ``toy_steps_per_s``        — = ``plain_loop_steps_per_s``; ``toy_steps_per_cpu_s`` divides by
  the thread's CPU time instead of wall time (what one idle core would give).

Windows alternate headless → UI → headless (→ UI → headless) and the headless rate is the mean of
its windows, so that a change in the machine's load hits both.  The full run adds the DCGAN
"digits" preset: headless vs UI steps/s, and the wall time until the project's classifier
recognises ≥ 80 % of the 6×6 fixed-z grid (top probability ≥ 0.9) with at least 8 different
digits among them.  The CPU is shared: the
1-minute load average is reported beside the numbers.  The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from bench.common import launch, machine, post  # (sets the offline defaults)


def plain_loop_rate(cfg, seconds: float) -> tuple[float, float]:
    """(steps/s wall, steps/s of thread CPU time) of train_loop alone."""
    from ganmodels.training import live as T
    from ganmodels.training.loop import train_loop

    tr = T.Trainer(cfg)
    train_loop(tr.objective, tr.data, tr.optimizers, steps=20, k=tr.cfg.k)      # warm up
    n, t0, c0 = 0, time.perf_counter(), time.thread_time()
    chunk = 50
    while time.perf_counter() - t0 < seconds:
        train_loop(tr.objective, tr.data, tr.optimizers, steps=n + chunk, start_step=n, k=tr.cfg.k)
        n += chunk
    dt, dc = time.perf_counter() - t0, time.thread_time() - c0
    tr.close()
    return n / dt, n / max(dc, 1e-9)


def window(trainer, seconds: float) -> float:
    """Steps/s of a running trainer over ``seconds`` of wall time."""
    s0, t0 = trainer.step, time.perf_counter()
    time.sleep(seconds)
    return (trainer.step - s0) / (time.perf_counter() - t0)


class Viewers:
    """n threads calling the tab's timer endpoint every ``every`` seconds, as browser tabs do."""

    def __init__(self, url: str, n: int = 2, every: float = 0.5):
        self.url, self.every = url, every
        self.stop = threading.Event()
        self.latency_ms: list[float] = []
        self.bytes = 0
        self.errors = 0
        self.frames = 0          # new 2-D frames the polls brought (the browser plays them one by one)
        self.spans: list[list[float]] = []      # per viewer: [its first poll, its last poll]
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(f"viewer-{i}",), daemon=True) for i in range(n)]

    def _run(self, session: str):
        first = True
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                r = post(self.url, "training_poll", [None], session=session)   # a browser tab keeps one session
                self.bytes += len(json.dumps(r))
                self.latency_ms.append(1000 * (time.perf_counter() - t0))
                data = r.get("data") or []
                n = len(json.loads(data[3]).get("frames") or []) if len(data) > 3 and isinstance(data[3], str) \
                    and data[3] else 0
                if first:          # the first poll of a tab brings only the newest frame: count from there
                    first = False
                    with self.lock:
                        self.spans.append([time.perf_counter(), time.perf_counter()])
                        mine = len(self.spans) - 1
                else:
                    with self.lock:
                        self.frames += n
                        self.spans[mine][1] = time.perf_counter()
            except Exception:  # noqa: BLE001 -- counted, reported
                self.errors += 1
            self.stop.wait(max(0.0, self.every - (time.perf_counter() - t0)))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def frames_per_s(self) -> float:
        """New frames a viewer received per second, after its first poll (over all viewers)."""
        return self.frames / max(1e-9, sum(b - a for a, b in self.spans))


def headless_vs_ui(cfg, seconds: float, rounds: int, classifier=None) -> dict:
    """Alternating windows with the same trainer: headless (no app) and served + 2 viewers."""
    import gradio as gr

    from demo import training as TR
    from demo.context import AppContext

    trainer = TR.new_trainer(cfg, classifier=classifier)         # as the app makes it (serving.priority hooks)
    ctx = AppContext(models={"classifier": classifier} if classifier is not None else {}, trainer=trainer)
    with gr.Blocks() as demo:
        TR.build(ctx)
    demo.queue(default_concurrency_limit=2)
    url = launch(demo)
    views = ctx.training_views
    try:
        post(url, "training_poll", [None], timeout=120)        # first picture; starts the render process
        post(url, "training_start", [])
        time.sleep(1.0)
        head, ui, lat, nbytes, errors, fps = [], [], [], 0, 0, []
        renders0 = views.renders
        for r in range(rounds):
            head.append(window(trainer, seconds))
            with Viewers(url, 2, TR.POLL_S) as v:
                time.sleep(0.5)
                ui.append(window(trainer, seconds))
            lat += v.latency_ms
            fps.append(v.frames_per_s())
            nbytes += v.bytes
            errors += v.errors
        head.append(window(trainer, seconds))
        lat.sort()
        h, u = sum(head) / len(head), sum(ui) / len(ui)
        out = {"headless_steps_per_s": round(h, 1), "ui_steps_per_s": round(u, 1),
               "ui_over_headless": round(u / h, 3) if h else None,
               "headless_windows": [round(x, 1) for x in head], "ui_windows": [round(x, 1) for x in ui],
               "window_s": seconds, "viewer_polls": len(lat), "viewer_errors": errors,
               "poll_p50_ms": round(lat[len(lat) // 2], 1) if lat else None,
               "poll_p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
               "poll_mean_kb": round(nbytes / max(1, len(lat)) / 1024, 1),
               "pictures_rendered": views.renders - renders0,
               "viewer_frames_per_s": round(sum(fps) / len(fps), 2) if fps else None,
               "step_reached": trainer.step}
        return out, trainer, (demo, ctx)
    except BaseException:
        demo.close()
        ctx.close()
        raise


def shutdown(handle) -> None:
    demo, ctx = handle
    demo.close()
    ctx.close()


def time_to_recognised(trainer, target: float, limit_s: float, min_classes: int = 8) -> dict:
    """Training time from step 0 until the first snapshot with recognised ≥ target and at least
    ``min_classes`` different digits among the recognised ones (not one digit 36 times)."""
    t0 = time.time()
    while True:
        with trainer._lock:
            rows = [r for r in trainer.metric_history
                    if r.get("recognised", 0.0) >= target and r.get("grid_classes", 0) >= min_classes]
        if rows:
            r = rows[0]
            return {"recognised": r["recognised"], "grid_classes": r["grid_classes"], "step": r["step"],
                    "train_seconds": r["time_s"], "reached": True}
        if time.time() - t0 > limit_s:
            m = trainer.snapshot().metrics
            return {"recognised": m.get("recognised"), "grid_classes": m.get("grid_classes"),
                    "step": trainer.step,
                    "train_seconds": round(trainer.elapsed(), 1), "reached": False}
        time.sleep(0.5)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="toy only, 4 s windows")
    p.add_argument("--preset", default="nonsat", help="the 2-D preset measured (default nonsat)")
    p.add_argument("--digits-limit", type=float, default=420, help="seconds allowed to reach 80 %% recognised")
    args = p.parse_args(argv)

    import torch

    from ganmodels.training import live as T

    torch.set_num_threads(1)
    load0 = os.getloadavg()[0]
    t_all = time.time()
    sec, rounds = (4.0, 1) if args.quick else (10.0, 2)
    cfg = T.preset_config(args.preset)
    plain, plain_cpu = plain_loop_rate(cfg, sec)
    toy, trainer, handle = headless_vs_ui(cfg, sec, rounds)
    shutdown(handle)
    out = {"bench": "training", "quick": bool(args.quick), "toy_preset": args.preset,
           "toy_steps_per_s": round(plain, 1), "toy_steps_per_cpu_s": round(plain_cpu, 1),
           "plain_loop_steps_per_s": round(plain, 1), **toy,
           "ui_over_plain_loop": round(toy["ui_steps_per_s"] / plain, 3) if plain else None}
    if not args.quick:
        try:
            from ganmodels.models import classifier as C

            net = C.load()
        except Exception as e:  # noqa: BLE001 -- reported: the digits part needs the shipped classifier
            out["digits"] = {"error": f"classifier not available: {e}"}
        else:
            dcfg = T.preset_config("digits")
            dig, trainer, handle = headless_vs_ui(dcfg, 15.0, 1, classifier=net)
            try:
                dig.update(time_to_recognised(trainer, 0.8, args.digits_limit))
                dig["preset"] = "digits"
                dig["settings"] = {k: getattr(dcfg, k) for k in ("loss", "lr_g", "lr_d", "batch", "z_dim",
                                                                  "ngf", "ndf", "real_label")}
                dig["recognised_definition"] = ("share of the 36 fixed-z digits with classifier top p >= 0.9; "
                                                "target: >= 80 % with >= 8 different digits among them")
            finally:
                shutdown(handle)
            out["digits"] = dig
            out["dcgan_steps_per_s"] = dig["headless_steps_per_s"]
            out["digits_seconds_to_80pct"] = dig["train_seconds"] if dig["reached"] else None
    out["seconds"] = round(time.time() - t_all, 1)
    out.update(machine(load0))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
