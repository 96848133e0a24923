"""A class of students using the app at once: many clients, a realistic mix, over HTTP.

    python bench/classroom.py [--students 30] [--seconds 60] [--weights weights] [--via queue|run]

Starts the app itself in its own process (``python app.py``: shipped weights, default serving settings),
finds its public API endpoints (``GET /config``; so every tab present is covered), then
lets N simulated students open the page (all within ~1.5 s; the first event of each session
also creates that session on the server, so it is timed apart: ``session_start_p50_ms`` /
``session_start_p95_ms``), then runs them for S seconds.  Each student is a thread with its own
session (as a browser tab keeps one) that, like a person, mostly drags sliders (InfoGAN codes, latent directions), now and then
asks for a heavy job (inpainting, super-resolution, photo → Monet) and keeps the training
viewer polling — with a short "think time" between actions.

``--via queue`` (default) sends each event the way the browser does: an event the app serves
outside the queue (``queue=False``: the slider moves) as ``POST /gradio_api/run/<api_name>``, every
other one through Gradio's queue (``POST /gradio_api/call/<api_name>`` + its event stream): heavy
jobs wait for their turn, slider events never do.  ``--via run`` uses the direct route ``POST /gradio_api/run/<api_name>``
(the app is then started with ``--open-api``), which skips the queue.

A request is *lost* when it gets no answer at all (connection error, timeout, or a server
error without a message); a clear "busy"/queue-full answer or a gr.Error message counts as
answered.  The last stdout line is one JSON object: requests, errors, lost, busy,
slider_p95_ms (and slider_p95_ms_after_first_5s, without the opening burst in which all students
start at once), endpoints {api_name: {requests, errors, p50_ms, p95_ms}}, and the settings.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from bench.common import call_queue, call_run, free_port, percentile, upload  # (sets the offline defaults)

# Components whose value is a number / a choice / text / a file, by their config "type".
NUMBER_TYPES = {"slider", "number", "checkedslider", "checkednumber"}
CHOICE_TYPES = {"radio", "dropdown"}
FILE_TYPES = {"image", "file", "imageeditor"}


# ------------------------------------------------------------------ the app's API, found at run time


def get_json(url: str, timeout: float = 30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


SLIDER_EVENTS = {"change", "input", "release"}


def slider_endpoints(url: str) -> set[str]:
    """Public endpoints fired by moving a control (change/input/release), not by a button click."""
    cfg = get_json(f"{url}/config")
    return {dep["api_name"] for dep in cfg["dependencies"]
            if dep.get("api_name") and any(t[1] in SLIDER_EVENTS for t in dep.get("targets", []))}


def direct_endpoints(url: str) -> set[str]:
    """Endpoints the app serves outside the queue (``queue=False``): the browser sends those as
    one ``POST /gradio_api/run/<api_name>`` (its client's rule: the dependency's ``queue`` flag)."""
    cfg = get_json(f"{url}/config")
    return {dep["api_name"] for dep in cfg["dependencies"] if dep.get("api_name") and dep.get("queue") is False}


def endpoints(url: str) -> dict[str, list[dict]]:
    """Public API endpoints → their input components ({"type", "props"}), from GET /config."""
    cfg = get_json(f"{url}/config")
    comps = {c["id"]: c for c in cfg["components"]}
    public = set(get_json(f"{url}/gradio_api/info")["named_endpoints"])
    out = {}
    for dep in cfg["dependencies"]:
        name = dep.get("api_name")
        if not name or f"/{name}" not in public or name in out:
            continue
        # every input, State included (its value, None, is replaced by the session's state on the server)
        out[name] = [{"type": comps[i]["type"], "props": comps[i].get("props", {})} for i in dep["inputs"]]
    return out


def choice_values(props: dict) -> list:
    """The values (not labels) a Radio/Dropdown accepts."""
    vals = []
    for c in props.get("choices") or []:
        vals.append(c[1] if isinstance(c, (list, tuple)) and len(c) == 2 else c)
    return vals


def is_slider(comps: list[dict], name: str) -> bool:
    """A cheap, interactive endpoint: every input is a number or a choice (no file, no text)."""
    comps = [c for c in comps if c["type"] != "state"]
    return bool(comps) and all(c["type"] in NUMBER_TYPES | CHOICE_TYPES for c in comps) \
        and not name.startswith("training_")


# ------------------------------------------------------------------ HTTP


# ------------------------------------------------------------------ what a student does


def test_images(n: int = 6, seed: int = 0) -> list[tuple[str, bytes]]:
    """Small PNG photos and digits made here (skimage sample images), as a student would upload."""
    from PIL import Image
    from skimage import data as skd

    rng = random.Random(seed)
    srcs = [skd.astronaut(), skd.chelsea(), skd.coffee(), skd.rocket()]
    out = []
    for i in range(n):
        im = Image.fromarray(srcs[i % len(srcs)])
        s = rng.choice([48, 64, 96, 128])
        im = im.resize((s, int(s * im.height / im.width)))
        buf = io.BytesIO()
        im.save(buf, "PNG")
        out.append((f"photo{i}.png", buf.getvalue()))
    return out


def value_for(comp: dict, rng: random.Random, files: list[dict], move: bool = True):
    """A value the UI could send for one input: a slider moved somewhere in its range (``move``),
    or the UI's default; an uploaded photo for an image input that has no default."""
    t, p = comp["type"], comp["props"]
    default = p.get("value")
    if t == "state":
        return None
    if t in ("image", "file"):
        return rng.choice(files) if files else None
    if t == "imageeditor":
        if isinstance(default, dict) and default.get("background"):
            return default                          # the preloaded digit
        f = rng.choice(files)
        return {"background": f, "layers": [], "composite": f}
    if not move and default is not None:
        return default
    if t in NUMBER_TYPES:
        lo, hi = p.get("minimum"), p.get("maximum")
        if lo is None or hi is None:              # a seed box
            return rng.randint(0, 1000)
        step = p.get("step") or 0
        v = rng.uniform(lo, hi)
        if step and float(step).is_integer() and float(lo).is_integer():
            v = int(round(v))
        return v
    if t in CHOICE_TYPES:
        vals = choice_values(p)
        return rng.choice(vals) if vals else default
    if t == "checkbox":
        return rng.random() < 0.5
    return default if default is not None else ""


# weights of the mix: a student mostly moves sliders, watches the live training, now and then clicks
# a cheap button (a new grid, an interpolation) and sometimes starts a heavy job
STEADY_AFTER_S = 5.0     # the opening burst (everyone starts at once) is also reported apart
MIX = {"slider": 0.60, "click": 0.10, "poll": 0.15, "heavy": 0.15}


class Student(threading.Thread):
    def __init__(self, i, url, eps, files, t_end, via, results, lock, heavy, sliders, direct=frozenset()):
        super().__init__(daemon=True)
        self.direct = direct
        self.rng = random.Random(1000 + i)
        self.session = uuid.UUID(int=self.rng.getrandbits(128)).hex[:11]   # one browser tab per student
        self.url, self.eps, self.files, self.t_end, self.via = url, eps, files, t_end, via
        self.results, self.lock = results, lock
        names = sorted(eps)
        cheap = [n for n in names if is_slider(eps[n], n)]
        self.sliders = [n for n in cheap if n in sliders] or cheap
        self.clicks = [n for n in cheap if n not in sliders]
        self.polls = [n for n in names if n == "training_poll"]
        self.heavy = list(heavy)

    def pick(self) -> str | None:
        r, acc = self.rng.random(), 0.0
        for kind, pool in (("slider", self.sliders), ("click", self.clicks), ("poll", self.polls),
                           ("heavy", self.heavy)):
            acc += MIX[kind]
            if r < acc and pool:
                return self.rng.choice(pool)
        return self.rng.choice(self.sliders) if self.sliders else None

    def open_page(self) -> None:
        """The student opens the app: the first event of a session also creates the session on the
        server (its copy of every component's config), which costs far more than a slider move.
        Measured apart from the steady-state latencies (``session_start_*`` in the summary)."""
        name = self.sliders[0] if self.sliders else sorted(self.eps)[0]
        data = [value_for(c, self.rng, self.files) for c in self.eps[name]]
        call = self.route(name)
        t0 = time.perf_counter()
        self.first = (call(self.url, name, data, session=self.session)[0], (time.perf_counter() - t0) * 1000)

    def route(self, name: str):
        """The route the browser would use for this event (see the module docstring)."""
        return call_run if self.via == "run" or name in self.direct else call_queue

    def run(self):
        while time.time() < self.t_end:
            name = self.pick()
            if name is None:
                return
            # sliders are dragged anywhere in their range; a heavy job keeps the UI's defaults
            # (the teacher's settings) with the student's own photo
            data = [value_for(c, self.rng, self.files, move=name not in self.heavy) for c in self.eps[name]]
            t0 = time.perf_counter()
            status, msg = self.route(name)(self.url, name, data, session=self.session)
            ms = (time.perf_counter() - t0) * 1000
            with self.lock:
                self.results.append((name, status, ms, msg, t0))
            # think time: a slider drag sends a value every 0.1-0.4 s; a heavy result is looked at for 5-15 s
            time.sleep(self.rng.uniform(5.0, 15.0) if name in self.heavy else self.rng.uniform(0.1, 0.4))


def heavy_endpoints(eps: dict) -> list[str]:
    """Endpoints that take a picture and do real work (inpainting, translation, super-resolution)."""
    return sorted(n for n, comps in eps.items()
                  if any(c["type"] in FILE_TYPES for c in comps) and not is_slider(comps, n)
                  and not n.startswith(("training_", "inpaint_load")) and "preview" not in n)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def endpoint_table(results) -> dict:
    """{api_name: {requests, errors, lost, busy, p50_ms, p95_ms}} from (name, status, ms, msg, t0) results."""
    per = {}
    for name, status, ms, msg, _ in results:
        d = per.setdefault(name, {"requests": 0, "errors": 0, "lost": 0, "busy": 0, "_ms": []})
        d["requests"] += 1
        if status == "ok":
            d["_ms"].append(ms)
        elif status == "busy":
            d["busy"] += 1
        elif status == "lost":
            d["lost"] += 1
            d["errors"] += 1
        else:
            d["errors"] += 1
    table = {}
    for name, d in sorted(per.items()):
        table[name] = {"requests": d["requests"], "errors": d["errors"], "lost": d["lost"], "busy": d["busy"],
                       "p50_ms": percentile(d["_ms"], 50), "p95_ms": percentile(d["_ms"], 95)}
    return table


def summarise(results, eps, args, url, sliders: set[str]) -> dict:
    table = endpoint_table(results)
    slider_ms = [ms for name, status, ms, _, _ in results if status == "ok" and name in sliders]
    # the same, leaving out the first STEADY_AFTER_S seconds, when all students move a slider at once
    t_first = min((r[4] for r in results), default=0.0)
    steady_ms = [ms for name, status, ms, _, t0 in results
                 if status == "ok" and name in sliders and t0 - t_first >= STEADY_AFTER_S]
    examples = {}
    for name, status, _, msg, _ in results:
        if status in ("error", "lost") and name not in examples:
            examples[name] = f"{status}: {str(msg)[:160]}"
    return {"requests": len(results), "errors": sum(d["errors"] for d in table.values()),
            "lost": sum(d["lost"] for d in table.values()), "busy": sum(d["busy"] for d in table.values()),
            "slider_p95_ms": percentile(slider_ms, 95), "slider_p50_ms": percentile(slider_ms, 50),
            "slider_p95_ms_after_first_5s": percentile(steady_ms, 95),
            "slider_endpoints": sorted(sliders),
            "students": args.students, "seconds": args.seconds, "via": args.via, "mix": dict(MIX),
            "concurrency": args.concurrency, "torch_threads": args.torch_threads, "load_avg_1min": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(), "error_examples": examples, "endpoints": table}


def launch_app(argv_app: list[str], port: int, name: str):
    """Start ``python app.py argv_app`` in its own process (log in $TMPDIR/<name>_<port>.log) and wait until
    it answers: (the process, its URL).  Exits with a message if it dies or takes over 15 minutes."""
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"{name}_{port}.log"), "w")
    t0 = time.time()
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), *argv_app], cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            get_json(f"{url}/config", timeout=5)
            break
        except Exception:  # noqa: BLE001 -- not up yet
            if server.poll() is not None or time.time() - t0 > 900:
                raise SystemExit(f"the app did not start (see {log.name})")
            time.sleep(1)
    print(f"app up in {time.time() - t0:.1f} s at {url} (log: {log.name})", file=sys.stderr)
    return server, url


def stop_app(server) -> None:
    """Stop an app started by :func:`launch_app` (terminate; kill after 30 s)."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--weights", default=None, help="weights folder (default: the shipped weights/)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--via", choices=["queue", "run"], default="queue")
    p.add_argument("--concurrency", type=int, default=None, help="app.py --concurrency (default: app.py's)")
    p.add_argument("--torch-threads", type=int, default=None, help="app.py --torch-threads")
    p.add_argument("--mix", default=None,
                   help="override the action mix, e.g. slider=0.8,click=0.1,poll=0.1,heavy=0 (for diagnosis)")
    p.add_argument("--no-live-training", action="store_true",
                   help="do not start the live training run (by default the lecturer's run is going)")
    p.add_argument("--raw", default=None, help="also write every request (name, status, start s, ms) to this CSV")
    p.add_argument("--url", default=None, help="use an app that is already running instead of starting one")
    args = p.parse_args(argv)
    if args.mix:
        for kv in args.mix.split(","):
            k, v = kv.split("=")
            if k.strip() not in MIX:
                p.error(f"--mix: unknown kind {k!r} (choose from {', '.join(MIX)})")
            MIX[k.strip()] = float(v)

    server = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        # the app runs in its own process, as on a server: the simulated students (this process)
        # do not share its interpreter lock
        port = free_port()
        argv_app = ["--port", str(port), "--device", args.device]
        if args.concurrency:
            argv_app += ["--concurrency", str(args.concurrency)]
        if args.weights:
            argv_app += ["--weights", args.weights]
        if args.via == "run":
            argv_app.append("--open-api")
        if args.torch_threads:
            argv_app += ["--torch-threads", str(args.torch_threads)]
        import app as app_module
        args.concurrency = app_module.parse_args(argv_app).concurrency
        args.torch_threads = args.torch_threads or max(1, (os.cpu_count() or 1) // (args.concurrency + 1))
        server, url = launch_app(argv_app, port, "classroom_app")
    try:
        eps = endpoints(url)
        files = [upload(url, n, b) for n, b in test_images()]
        heavy = heavy_endpoints(eps)
        sliders = {n for n in slider_endpoints(url) if n in eps and is_slider(eps[n], n)}
        print(f"{len(eps)} endpoints; cheap: {sorted(n for n in eps if is_slider(eps[n], n))}; "
              f"slider events: {sorted(sliders)}; "
              f"heavy: {sorted(heavy)}", file=sys.stderr)
        results, lock = [], threading.Lock()
        live = "training_start" in eps and not args.no_live_training
        if live:                                  # the lecturer starts the live run; students watch it
            print("training_start:", (call_queue if args.via == "queue" else call_run)(url, "training_start", []),
                  file=sys.stderr)
        direct = frozenset(direct_endpoints(url))
        students = [Student(i, url, eps, files, 0.0, args.via, results, lock, heavy, sliders, direct)
                    for i in range(args.students)]
        # the class opens the page: all students within a second or two (measured on its own)
        openers = [threading.Thread(target=s.open_page, daemon=True) for s in students]
        t_open = time.perf_counter()
        for o in openers:
            o.start()
            time.sleep(0.05)
        for o in openers:
            o.join(timeout=300)
        open_s = time.perf_counter() - t_open
        firsts = [getattr(s, "first", ("lost", math.nan)) for s in students]
        cpu0 = cpu_seconds(server.pid) if server else None
        t_end = time.time() + args.seconds
        for s in students:
            s.t_end = t_end
            s.start()
            time.sleep(0.05)                      # and do not all move a slider at the same instant
        for s in students:
            s.join(timeout=args.seconds + 300)
        with lock:
            summary = summarise(list(results), eps, args, url, sliders)
            ok_first = [ms for st, ms in firsts if st == "ok"]
            summary.update(session_start_p50_ms=percentile(ok_first, 50), session_start_p95_ms=percentile(ok_first, 95),
                           session_start_failed=sum(st != "ok" for st, _ in firsts),
                           session_start_all_s=round(open_s, 2))
            if args.raw:
                t_first = min((r[4] for r in results), default=0.0)
                with open(args.raw, "w") as f:
                    f.write("endpoint,status,start_s,ms\n")
                    for name, status, ms, _, t0 in sorted(results, key=lambda r: r[4]):
                        f.write(f"{name},{status},{t0 - t_first:.3f},{ms:.1f}\n")
        summary["live_training_running"] = live
        summary["direct_endpoints"] = sorted(direct)      # served outside the queue (queue=False)
        if server is not None:
            used = cpu_seconds(server.pid) - cpu0
            wall = time.time() - t_end + args.seconds
            summary["app_cpu_s"] = round(used, 1)
            summary["app_cores_used"] = round(used / wall, 2)   # of os.cpu_count(); the rest went to others
        if live:
            (call_queue if args.via == "queue" else call_run)(url, "training_pause", [])
    finally:
        if server is not None:
            stop_app(server)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
