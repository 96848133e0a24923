"""Hostile students against a lab server: memory per image request, the trainer's pause/reset
latency, and slider latency while students run the heaviest jobs the tabs allow.

    python bench/hostile.py [--max-pixels 50000000] [--students 5] [--seconds 20]

Starts the app in its own process (``python app.py``: shipped weights, default serving settings and
``--max-pixels``), then, through the HTTP API a browser uses (uploads, ``/gradio_api/queue/join``
with the ``fn_index`` values from ``/config`` — private endpoints included, as a hostile student would):

1. **Memory.** Every endpoint with an image input (image, image editor, sketchpad or file) gets the
   worst images a student can send inside the limit: an RGBA and a grey PNG of exactly
   ``--max-pixels`` pixels (a few hundred KB each: flat colour compresses well), and a grey PNG of
   1.01×, 1.5× and 2.0× the limit, which must be refused.  The app's resident memory is sampled
   every 5 ms from ``/proc``; each request's peak above the memory just before it is reported, and
   the memory held after it.  Then five requests at once with the costliest image on the costliest
   endpoint.
2. **Trainer.** The live trainer with the heaviest settings the tab allows (``LIMITS``): how long
   ``pause()`` and ``reset()`` take while a step runs (in this process: the same Trainer class).
3. **Fairness.** ``--students`` students each run the heaviest allowed heavy job (every heavy slider
   at its maximum) in a loop while another drags the latent slider: the slider's p95.

Goals (issue 35): ≤ 1.5 GB above idle for any single request, ≤ 3 GB for five at once, pause/reset
≤ 2 s, slider p95 ≤ 150 ms.  The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from bench.common import free_port, machine, percentile, post, upload  # (sets the offline defaults)

ROOT = Path(__file__).resolve().parent.parent
IMAGE_TYPES = {"image", "imageeditor", "sketchpad", "file"}
HEAVY = ("inpaint", "cyclegan_translate", "srgan_upscale")


# ------------------------------------------------------------------ the app's memory


class RSS:
    """Samples a process's resident memory (MB) every ``every`` seconds in a thread."""

    def __init__(self, pid: int, every: float = 0.005):
        self.pid, self.every, self.peak, self._stop = pid, every, 0.0, False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def now(self) -> float:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _run(self):
        while not self._stop:
            self.peak = max(self.peak, self.now())
            time.sleep(self.every)

    def reset(self) -> float:
        self.peak = v = self.now()
        return v

    def stop(self):
        self._stop = True


# ------------------------------------------------------------------ requests by fn_index, through the queue


def queue_call(url: str, fn_index: int, data: list, session: str, timeout: float = 300) -> tuple[str, str]:
    """POST /gradio_api/queue/join, then read the session's event stream → ("ok"|"error"|"lost", text)."""
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()
    req = urllib.request.Request(f"{url}/gradio_api/queue/join", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            event_id = json.loads(r.read()).get("event_id")
        with urllib.request.urlopen(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=timeout) as r:
            for raw in r:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") not in (None, event_id):
                    continue
                if msg.get("msg") == "process_completed":
                    out = msg.get("output") or {}
                    if msg.get("success"):
                        return "ok", ""
                    return ("error", str(out.get("error"))) if out.get("error") else ("lost", "no message")
                if msg.get("msg") in ("queue_full", "unexpected_error"):
                    return "error", str(msg.get("message"))
        return "lost", "stream ended"
    except urllib.error.HTTPError as e:
        return ("error" if e.code < 500 else "lost"), f"HTTP {e.code}: {e.read()[:200]!r}"
    except Exception as e:  # noqa: BLE001 -- no answer at all
        return "lost", f"{type(e).__name__}: {e}"


def png(w: int, h: int, mode: str) -> bytes:
    """A flat-colour PNG (compresses to a few hundred KB even at 50 megapixels)."""
    from PIL import Image

    im = Image.new(mode, (w, h), 128 if mode == "L" else (200, 30, 30, 255)[:len(mode)])
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def image_endpoints(url: str) -> dict[int, dict]:
    """fn_index → {"name", "inputs": [component], "heavy"} for every event with an image input."""
    with urllib.request.urlopen(f"{url}/config", timeout=30) as r:
        cfg = json.loads(r.read())
    comps = {c["id"]: c for c in cfg["components"]}
    out = {}
    for i, dep in enumerate(cfg["dependencies"]):
        ins = [comps[c] for c in dep["inputs"]]
        if any(c["type"] in IMAGE_TYPES for c in ins):
            out[dep.get("id", i)] = {"name": dep.get("api_name") or f"fn{i}", "inputs": ins}
    return out


def value_for(comp: dict, filedata: dict | None, heaviest: bool = False):
    t, props = comp["type"], comp.get("props", {})
    if t in ("image", "file"):
        return filedata
    if t in ("imageeditor", "sketchpad"):
        return {"background": filedata, "layers": [], "composite": filedata, "id": None}
    if heaviest and "maximum" in props:
        return props["maximum"]
    return props.get("value")


# ------------------------------------------------------------------ the three measurements


def memory(url: str, rss: RSS, max_pixels: int) -> dict:
    side = int(math.isqrt(max_pixels))
    files = {"rgba_at_limit": (side, max_pixels // side, "RGBA"), "grey_at_limit": (side, max_pixels // side, "L")}
    for f in (1.01, 1.5, 2.0):
        s = int(math.isqrt(int(max_pixels * f))) + 1
        files[f"grey_{f}x"] = (s, s, "L")
    uploaded = {}
    for name, (w, h, mode) in files.items():
        data = png(w, h, mode)
        uploaded[name] = (upload(url, f"{name}.png", data), len(data), w * h)
    eps = image_endpoints(url)
    out, worst = {}, (0.0, None, None)
    for fn, ep in eps.items():
        res = {}
        for name, (fd, nbytes, pixels) in uploaded.items():
            base = rss.reset()
            status, msg = queue_call(url, fn, [value_for(c, fd) for c in ep["inputs"]], uuid.uuid4().hex)
            peak = rss.peak - base
            res[name] = {"status": status, "peak_mb_above_before": round(peak), "held_mb_after": round(rss.now() - base),
                         "pixels": pixels, "png_kb": round(nbytes / 1024), "message": msg[:160]}
            print(json.dumps({"endpoint": ep["name"], "image": name, **res[name]}), file=sys.stderr, flush=True)
            if peak > worst[0]:
                worst = (peak, fn, name)
        out[ep["name"]] = res
    five = {}
    if worst[1] is not None:
        fn, name = worst[1], worst[2]
        base = rss.reset()
        threads = [threading.Thread(target=queue_call, args=(url, fn, [value_for(c, uploaded[name][0])
                                                                        for c in eps[fn]["inputs"]], uuid.uuid4().hex))
                   for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        five = {"endpoint": eps[fn]["name"], "image": name, "peak_mb_above_before": round(rss.peak - base)}
    return {"per_endpoint": out, "worst_single_mb": round(worst[0]), "worst_single": [eps[worst[1]]["name"] if worst[1] is not None else None, worst[2]],
            "five_at_once": five}


def trainer_latency() -> dict:
    """pause()/reset() while the heaviest allowed step runs (toy and image runs)."""
    import torch

    from ganmodels.training import live as T

    torch.set_num_threads(1)
    out = {}
    for dataset in ("ring", "mnist"):
        cfg = T.RunConfig(dataset=dataset, loss="wgan-gp")     # WGAN-GP: the costliest step (a gradient penalty)
        limits = T.limits(dataset)
        for name, (lo, hi) in limits.items():
            if hasattr(cfg, name) and isinstance(getattr(cfg, name), int) and name not in ("grid_n", "max_steps", "seed"):
                setattr(cfg, name, hi)
        tr = T.Trainer(cfg)
        try:
            tr.start()
            time.sleep(3)
            t0 = time.perf_counter()
            tr.pause()
            t_pause = time.perf_counter() - t0
            tr.start()
            time.sleep(2)
            t0 = time.perf_counter()
            tr.reset()
            t_reset = time.perf_counter() - t0
            alive = [t.name for t in threading.enumerate() if t.name == "gan-live-trainer" and t.is_alive()]
            out[dataset] = {"pause_s": round(t_pause, 2), "reset_s": round(t_reset, 2),
                            "settings": {k: getattr(cfg, k) for k in limits if hasattr(cfg, k)},
                            "trainer_threads_after_reset": len(alive)}
        finally:
            tr.close()
    return out


def fairness(url: str, students: int, seconds: float) -> dict:
    """Heaviest allowed heavy jobs from ``students`` sessions, a slider dragged meanwhile."""
    import numpy as np
    from skimage import data as skd

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(skd.astronaut()).resize((1536, 1536)).save(buf, format="PNG")   # the largest SRGAN takes
    photo = upload(url, "photo.png", buf.getvalue())
    with urllib.request.urlopen(f"{url}/config", timeout=30) as r:
        cfg = json.loads(r.read())
    comps = {c["id"]: c for c in cfg["components"]}
    heavy = {dep["api_name"]: (dep.get("id", i), [comps[c] for c in dep["inputs"]])
             for i, dep in enumerate(cfg["dependencies"]) if dep.get("api_name") in HEAVY}
    stop, answers, times = time.time() + seconds, [], []

    def student(k):
        names = list(heavy)
        session = uuid.uuid4().hex
        while time.time() < stop:
            name = names[k % len(names)]
            fn, ins = heavy[name]
            t0 = time.perf_counter()
            status, msg = queue_call(url, fn, [value_for(c, photo, heaviest=True) for c in ins], session)
            answers.append((name, status, round(time.perf_counter() - t0, 1), msg[:100]))

    def slider():
        from demo.latent import LATENCY_ENDPOINTS

        args0 = list(LATENCY_ENDPOINTS["latent_edit"])
        session, i = uuid.uuid4().hex, 0
        while time.time() < stop:
            args0[3] = (i % 20) / 10 - 1            # drag the first direction back and forth
            t0 = time.perf_counter()
            post(url, "latent_edit", args0, session=session)
            times.append((time.perf_counter() - t0) * 1000)
            i += 1
            time.sleep(0.1)

    ts = [threading.Thread(target=student, args=(k,)) for k in range(students)] + [threading.Thread(target=slider)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    by = {}
    for name, status, s, msg in answers:
        d = by.setdefault(name, {"ok": 0, "error": 0, "lost": 0, "seconds": [], "messages": set()})
        d[status] += 1
        d["seconds"].append(s)
        if msg:
            d["messages"].add(msg)
    for d in by.values():
        d["max_s"] = max(d.pop("seconds"))
        d["messages"] = sorted(d["messages"])[:2]
    return {"slider_p95_ms": percentile(times, 95), "slider_p50_ms": percentile(times, 50),
            "slider_requests": len(times), "heavy_jobs": by, "mean_s": float(np.mean([a[2] for a in answers] or [0]))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--max-pixels", type=int, default=50_000_000)
    p.add_argument("--students", type=int, default=5)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--skip", default="", help="comma-separated parts to skip: memory,trainer,fairness")
    args = p.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(ROOT / "runs" / "hostile_app.log", "w") if (ROOT / "runs").is_dir() else subprocess.DEVNULL
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port),
                               "--max-pixels", str(args.max_pixels)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    out = {"bench": "hostile", "max_pixels": args.max_pixels}
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{url}/config", timeout=2)
                break
            except Exception:  # noqa: BLE001 -- not up yet
                time.sleep(0.5)
        rss = RSS(server.pid)
        time.sleep(2)
        out["idle_rss_mb"] = round(rss.now())
        if "memory" not in skip:
            out["memory"] = memory(url, rss, args.max_pixels)
        if "fairness" not in skip:
            out["fairness"] = fairness(url, args.students, args.seconds)
        out["rss_mb_at_end"] = round(rss.now())
        rss.stop()
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    if "trainer" not in skip:
        out["trainer"] = trainer_latency()
    out.update(machine())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
