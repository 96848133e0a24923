"""Helpers shared by the benchmarks: offline defaults, the HTTP API, percentiles, a free port, memory and load.

Importing it (``from bench.common import ...``, with the project root on sys.path) sets the offline defaults.
"""
from __future__ import annotations

import json
import os
import resource
import socket
import urllib.error
import urllib.request
import uuid

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


def load_test_digits(path, n: int, offset: int = 0):
    """``n`` digits from position ``offset`` of an npz with uint8 'images' (N,28,28) and 'labels'
    → (uint8 images, int64 labels)."""
    from pathlib import Path

    import numpy as np

    if not Path(path).is_file():
        raise SystemExit(f"test digits not found: {path} (pass --data PATH)")
    with np.load(path, allow_pickle=False) as f:
        return (f["images"][offset:offset + n].astype(np.uint8),
                f["labels"][offset:offset + n].astype(np.int64))


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine(load_at_start: float | None = None) -> dict:
    """The load next to a result (other work on the machine slows it): 1-min load average, cores."""
    now = round(os.getloadavg()[0], 2)
    load = now if load_at_start is None else [round(load_at_start, 2), now]
    return {"load_avg_1min": load, "cpu_count": os.cpu_count()}


# ------------------------------------------------------------------ files and the queue, as a browser sends them


def upload(url: str, name: str, data: bytes, timeout: float = 60) -> dict:
    """POST /gradio_api/upload (multipart) → a FileData dict for this file."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{url}/gradio_api/upload", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        path = json.loads(r.read())[0]
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def _body(data: list, session: str | None) -> bytes:
    return json.dumps({"data": data, **({"session_hash": session} if session else {})}).encode()


def call_run(url: str, api_name: str, data: list, timeout: float = 120, session: str | None = None):
    """Direct route. Returns ("ok"|"error"|"busy"|"lost", message)."""
    req = urllib.request.Request(f"{url}/gradio_api/run/{api_name}", data=_body(data, session),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            json.loads(r.read())
            return "ok", ""
    except urllib.error.HTTPError as e:
        try:
            msg = json.loads(e.read()).get("error")
        except ValueError:
            msg = None
        return ("error", msg) if msg else ("lost", f"HTTP {e.code} without a message")
    except Exception as e:  # noqa: BLE001 -- timeout, refused connection: the request got no answer
        return "lost", f"{type(e).__name__}: {e}"


def call_queue(url: str, api_name: str, data: list, timeout: float = 120, session: str | None = None):
    """Through the queue, as a browser: POST /call/<api_name> → event id → read its event stream.

    ``session``: the session hash a browser tab keeps for its whole visit (without one, every
    call would open a new session on the server, which no browser does)."""
    req = urllib.request.Request(f"{url}/gradio_api/call/{api_name}", data=_body(data, session),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            event_id = json.loads(r.read())["event_id"]
        with urllib.request.urlopen(f"{url}/gradio_api/call/{api_name}/{event_id}", timeout=timeout) as r:
            event = None
            for raw in r:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    payload = line[5:].strip()
                    if event == "complete":
                        return "ok", ""
                    if event == "error":
                        try:
                            msg = json.loads(payload)
                        except ValueError:
                            msg = payload
                        if isinstance(msg, dict):
                            msg = msg.get("error") or msg.get("message")
                        if msg and "queue is full" in str(msg).lower():
                            return "busy", str(msg)
                        return ("error", str(msg)) if msg not in (None, "null", "") else \
                            ("lost", "server error without a message")
        return "lost", "event stream ended without a result"
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        if e.code in (429, 503) or "queue is full" in body.lower():
            return "busy", body[:200]
        return "lost", f"HTTP {e.code}: {body[:200]}"
    except Exception as e:  # noqa: BLE001
        return "lost", f"{type(e).__name__}: {e}"
