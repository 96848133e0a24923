"""Helpers shared by the benchmarks: offline defaults, the HTTP API, percentiles, a free port, memory and load.

Importing it (``from bench.common import ...``, with the project root on sys.path) sets the offline defaults.
"""
from __future__ import annotations

import json
import os
import resource
import socket
import urllib.request

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def post(url: str, api_name: str, data: list, timeout: float = 60, session: str | None = None) -> dict:
    """POST /gradio_api/run/<api_name> (the direct route, no queue) → the decoded JSON answer."""
    body = {"data": data, **({"session_hash": session} if session else {})}
    req = urllib.request.Request(f"{url}/gradio_api/run/{api_name}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def percentile(xs, q, ndigits: int | None = 1):
    """Nearest-rank percentile q (0–100) of xs; None for no values."""
    if not xs:
        return None
    xs = sorted(xs)
    v = xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]
    return round(v, ndigits) if ndigits is not None else v


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(demo) -> str:
    """Start a built Blocks app on a free local port in this process; returns its URL."""
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    return f"http://127.0.0.1:{port}"


def load_test_digits(path, n: int):
    """The first ``n`` digits of an npz with uint8 'images' (N,28,28) and 'labels' → (uint8 images, int64 labels)."""
    from pathlib import Path

    import numpy as np

    if not Path(path).is_file():
        raise SystemExit(f"test digits not found: {path} (pass --data PATH)")
    with np.load(path, allow_pickle=False) as f:
        return f["images"][:n].astype(np.uint8), f["labels"][:n].astype(np.int64)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine(load_at_start: float | None = None) -> dict:
    """The load next to a result (other work on the machine slows it): 1-min load average, cores."""
    now = round(os.getloadavg()[0], 2)
    load = now if load_at_start is None else [round(load_at_start, 2), now]
    return {"load_avg_1min": load, "cpu_count": os.cpu_count()}
