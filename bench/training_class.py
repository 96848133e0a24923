"""A class training at once: every student's own 2-D run, the lecturer's run, and the slider load.

    python bench/training_class.py [--students 30] [--seconds 60] [--toy-threads 1] [--toy-batch 1] [--no-sliders]

Starts the app in its own process (``python app.py --lecturer-key … --max-private-runs N+5``), then:

1. the lecturer enters the key, switches to the lecturer's run and starts it (the "nonsat" ring preset);
   its steps/s are measured alone for ``--solo-seconds`` (``lecturer_steps_per_s_alone``);
2. N simulated browser sessions each press Start on their own run (the default preset) and poll it once a
   second as the tab's timer does, for ``--seconds``; beside them N more sessions do what the students of
   ``bench/classroom.py`` do — its mix of slider moves, clicks and heavy jobs, with its think times — minus
   its training polls (the N sessions above are those).

Each run's progress is read from what its own poll answers (the step of the newest frame, or the status
line): ``steps_per_s`` of a run = steps between its first and last poll of the window / the time between.
The last stdout line is one JSON object: errors, runs_progressing (runs whose step advanced), min and
median steps/s across the private runs, slider_p95_ms, the polls' p50/p95 ms, the lecturer's steps/s alone and
with the class, the frames per second a student's poll received, ``endpoints`` (requests, errors, p50/p95 ms of
each endpoint the classroom load called: which one is slow) and the machine load.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from bench import classroom as CR  # noqa: E402
from bench.common import call_queue, call_run, free_port, machine, percentile, post  # noqa: E402  (offline defaults)

KEY = "bench-lecturer-key"
DIRECT: set[str] = set()   # the endpoints the app serves outside the queue (the browser POSTs those)


def act(url: str, api: str, data: list, session: str):
    """An event by the browser's route: a direct POST if the app serves it outside the queue, else the queue."""
    return (call_run if api in DIRECT else call_queue)(url, api, data, session=session)
STEP_RE = re.compile(r"\*\*step (\d+)\*\*")


def read_step(answer: dict) -> tuple[int | None, int]:
    """(step shown, frames received) from one ``training_poll`` answer."""
    data = answer.get("data") or []
    step, frames = None, 0
    if len(data) > 3 and isinstance(data[3], str) and data[3]:
        try:
            d = json.loads(data[3])
        except ValueError:
            d = {}
        fr = d.get("frames") or []
        frames = len(fr)
        if fr:
            step = max(f["step"] for f in fr)
    if len(data) > 2 and isinstance(data[2], str):      # the status line: the run's step now
        m = STEP_RE.search(data[2])
        if m:
            step = max(step or 0, int(m.group(1)))
    return step, frames


class Poller(threading.Thread):
    """One browser session: (optionally) starts its own run, then polls it every ``every`` s."""

    def __init__(self, url: str, session: str, t_end: float, start: bool = True, every: float = 1.0):
        super().__init__(daemon=True)
        self.url, self.session, self.t_end, self.start_run, self.every = url, session, t_end, start, every
        self.samples: list[tuple[float, int]] = []      # (time, step)
        self.frames = 0
        self.errors: list[str] = []
        self.polls = 0
        self.poll_ms: list[float] = []

    def run(self):
        if self.start_run:
            st, msg = act(self.url, "training_start", [], self.session)
            if st != "ok":
                self.errors.append(f"start: {st} {msg}")
                return
        while time.time() < self.t_end:
            t0 = time.perf_counter()
            try:
                ans = post(self.url, "training_poll", [None], session=self.session, timeout=60)
                self.poll_ms.append((time.perf_counter() - t0) * 1000)
                step, n = read_step(ans)
                self.polls += 1
                self.frames += n
                if step is not None:
                    self.samples.append((time.perf_counter(), step))
            except Exception as e:  # noqa: BLE001 -- counted, reported
                self.errors.append(f"poll: {type(e).__name__}: {e}")
            time.sleep(max(0.0, self.every - (time.perf_counter() - t0)))

    def rate(self, skip_s: float = 2.0) -> float | None:
        """Steps/s between the first poll after ``skip_s`` s and the last one."""
        if len(self.samples) < 2:
            return None
        t_first = self.samples[0][0] + skip_s
        s = [x for x in self.samples if x[0] >= t_first] or self.samples
        if len(s) < 2 or s[-1][0] <= s[0][0]:
            return None
        return (s[-1][1] - s[0][1]) / (s[-1][0] - s[0][0])


def lecturer_rate(url: str, session: str, seconds: float) -> float | None:
    p = Poller(url, session, time.time() + seconds, start=False, every=0.5)
    p.run()
    return p.rate(skip_s=0.0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--solo-seconds", type=float, default=10, help="the lecturer's run alone, before the class")
    p.add_argument("--toy-threads", type=int, default=1, help="app.py --toy-threads")
    p.add_argument("--toy-batch", type=int, choices=(0, 1), default=1, help="app.py --toy-batch")
    p.add_argument("--no-sliders", action="store_true", help="without the classroom load (diagnosis)")
    p.add_argument("--url", default=None, help="an app already running with --lecturer-key " + KEY)
    args = p.parse_args(argv)
    load0 = os.getloadavg()[0]
    server = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        port = free_port()
        argv_app = ["--port", str(port), "--device", "cpu", "--lecturer-key", KEY,
                    "--max-private-runs", str(args.students + 5), "--toy-threads", str(args.toy_threads),
                    "--toy-batch", str(args.toy_batch)]
        server, url = CR.launch_app(argv_app, port, "training_class_app")
    try:
        errors: list[str] = []
        DIRECT.update(CR.direct_endpoints(url))
        L = "lecturer-session"
        for api, data in (("training_unlock", [KEY]), ("training_mode", ["Watch the lecturer's run"]),
                          ("training_start", [])):
            st, msg = act(url, api, data, L)
            if st != "ok":
                errors.append(f"lecturer {api}: {st} {msg}")
        time.sleep(1.0)
        solo = lecturer_rate(url, L, args.solo_seconds)
        print(f"lecturer alone: {solo} steps/s", file=sys.stderr)

        # the load of bench/classroom.py beside them: its mix without the training polls
        results, lock = [], threading.Lock()
        sliders, cpu0 = set(), None
        sliding: list = []
        t_end = time.time() + args.seconds
        if not args.no_sliders:
            eps = CR.endpoints(url)
            sliders = {n for n in CR.slider_endpoints(url) if n in eps and CR.is_slider(eps[n], n)}
            direct = frozenset(CR.direct_endpoints(url))
            rest = 1.0 - CR.MIX["poll"]
            CR.MIX.update(slider=CR.MIX["slider"] / rest, click=CR.MIX["click"] / rest, poll=0.0,
                          heavy=CR.MIX["heavy"] / rest)
            files = [CR.upload(url, n, b) for n, b in CR.test_images()]
            heavy = CR.heavy_endpoints(eps)
            sliding = [CR.Student(1000 + i, url, eps, files, t_end, "queue", results, lock, heavy, sliders, direct)
                       for i in range(args.students)]
        students = [Poller(url, f"student-{i:02d}", t_end) for i in range(args.students)]
        lect = Poller(url, L, t_end, start=False, every=1.0)
        if server is not None:
            cpu0 = CR.cpu_seconds(server.pid)
        t_start = time.time()
        for th in [lect, *students, *sliding]:
            th.start()
            time.sleep(0.02)
        for th in [lect, *students, *sliding]:
            th.join(timeout=args.seconds + 300)
        rates = [s.rate() for s in students]
        ok_rates = [r for r in rates if r is not None]
        for s in students:
            errors += [f"{s.session} {e}" for e in s.errors]
        slider_ms = [ms for name, status, ms, _, _ in results if status == "ok" and name in sliders]
        slider_errors = [(name, status, msg) for name, status, _, msg, _ in results if status not in ("ok", "busy")]
        errors += [f"classroom {n}: {st} {str(m)[:80]}" for n, st, m in slider_errors]
        polls = sum(s.polls for s in students)
        out = {
            "bench": "training_class", "students": args.students, "seconds": args.seconds,
            "toy_threads": args.toy_threads, "toy_batch": args.toy_batch,
            "errors": len(errors), "error_examples": errors[:5],
            "runs_progressing": sum(1 for s in students if len(s.samples) >= 2 and s.samples[-1][1] > s.samples[0][1]),
            "min_steps_per_s": round(min(ok_rates), 1) if ok_rates else None,
            "median_steps_per_s": round(statistics.median(ok_rates), 1) if ok_rates else None,
            "max_steps_per_s": round(max(ok_rates), 1) if ok_rates else None,
            "total_private_steps_per_s": round(sum(ok_rates), 1),
            "frames_per_s_per_student": round(sum(s.frames for s in students) / max(1e-9, args.seconds) / max(1, len(students)), 2),
            "student_polls": polls,
            "slider_requests": len(slider_ms), "slider_p50_ms": percentile(slider_ms, 50),
            "slider_p95_ms": percentile(slider_ms, 95),
            "poll_p50_ms": percentile([ms for s in students for ms in s.poll_ms], 50),
            "poll_p95_ms": percentile([ms for s in students for ms in s.poll_ms], 95),
            "lecturer_steps_per_s_alone": round(solo, 1) if solo is not None else None,
            "lecturer_steps_per_s_with_class": round(lect.rate(), 1) if lect.rate() is not None else None,
        }
        out["endpoints"] = CR.endpoint_table(results)
        if server is not None and cpu0 is not None:
            out["app_cores_used"] = round((CR.cpu_seconds(server.pid) - cpu0) / (time.time() - t_start), 2)
        act(url, "training_pause", [], L)
    finally:
        if server is not None:
            CR.stop_app(server)
    out.update(machine(load0))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
