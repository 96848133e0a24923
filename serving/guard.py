"""A gate in front of Gradio for a server that many students share (an ASGI middleware).

What a student can send with raw HTTP, and Gradio alone would let through:

* **Requests from other websites.** A page on another site can make a student's browser POST to the
  lab server (an upload, a queued job).  Browsers say where such a request comes from (``Origin``):
  a POST whose origin is not this server's own address is refused (403).  Scripts and the command
  line send no ``Origin`` and are not affected.
* **Uploads that fill the disk.** Gradio limits each file (``--max-file-size``) but not their sum, and
  keeps them.  Here every client address may upload ``client_mb`` within ``window_s`` seconds and the
  whole server ``server_mb`` (429 beyond, with the reason); ``app.py`` has Gradio delete uploads older
  than the same window.
* **Unknown endpoints** (``/gradio_api/run/nope``, ``fn_index`` 9999 or −1, a component that does not
  exist): a 404 with a short message, instead of a server error and a traceback in the log.
* **Server paths in requests.** A file value whose path is not an upload (``/etc/passwd``,
  ``../app.py``) is refused before Gradio sees it, so no answer names a folder of the server.
* **One heavy job per session.** A session (a browser tab) may have one heavy job (inpainting,
  CycleGAN, super-resolution: ``concurrency_id="heavy"``) waiting or running at a time; a second gets a
  message instead of a place in the queue, so one student cannot fill the queue ahead of the class.
  A job counts until its result is sent (seen in the session's event stream) or ``heavy_timeout_s``.
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

API = "/gradio_api"
HEAVY_ID = "heavy"


def parse_size(text: str | int) -> int:
    """``"20mb"``, ``"1gb"``, ``"500kb"`` or a number of bytes → bytes (as Gradio reads --max-file-size)."""
    if isinstance(text, int):
        return text
    t = str(text).strip().lower()
    for unit, f in (("gb", 1024 ** 3), ("mb", 1024 ** 2), ("kb", 1024), ("b", 1)):
        if t.endswith(unit):
            return int(float(t[:-len(unit)]) * f)
    return int(float(t))


def _response(status: int, message: str):
    body = json.dumps({"error": message, "detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return status, headers, body


async def _refuse(receive, send, status: int, message: str, max_drain: int = 50_000_000) -> None:
    """Answer before the app sees the request, after reading what the client is still sending (a
    client that is cut off mid-upload sees a broken connection instead of the message)."""
    drained = 0
    while drained <= max_drain:
        message_in = await receive()
        if message_in["type"] == "http.disconnect":
            break
        drained += len(message_in.get("body", b""))
        if not message_in.get("more_body"):
            break
    await _send_response(send, status, message)


async def _send_response(send, status: int, message: str) -> None:
    status, headers, body = _response(status, message)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def same_origin(origin: str, host: str | None, forwarded_host: str | None = None) -> bool:
    """Whether a browser's ``Origin`` names the host the request was sent to."""
    if not origin or origin == "null":
        return False
    netloc = urlsplit(origin).netloc.lower()
    return netloc in {h.strip().lower() for h in (host, forwarded_host) if h}


class UploadBudget:
    """Bytes uploaded in the last ``window_s`` seconds, per client and in all."""

    def __init__(self, client_mb: float, server_mb: float, window_s: float):
        self.client_bytes, self.server_bytes, self.window_s = client_mb * 1e6, server_mb * 1e6, window_s
        self._events: deque[tuple[float, str, int]] = deque()
        self._lock = threading.Lock()

    def take(self, client: str, n: int) -> str | None:
        """Record ``n`` bytes for ``client``; the reason it is refused, or None."""
        now = time.time()
        with self._lock:
            while self._events and self._events[0][0] < now - self.window_s:
                self._events.popleft()
            total = sum(e[2] for e in self._events)
            mine = sum(e[2] for e in self._events if e[1] == client)
            minutes = round(self.window_s / 60)
            if mine + n > self.client_bytes:
                return (f"You have uploaded {mine / 1e6:.0f} MB in the last {minutes} minutes; the limit per "
                        f"student is {self.client_bytes / 1e6:.0f} MB. Wait a little, or use smaller files.")
            if total + n > self.server_bytes:
                return (f"The server has received {total / 1e6:.0f} MB of uploads in the last {minutes} minutes "
                        "(its limit): try again in a few minutes.")
            self._events.append((now, client, n))
        return None


class HeavyJobs:
    """Sessions with a heavy job waiting or running: session → (event id, since)."""

    def __init__(self, timeout_s: float):
        self.timeout_s = timeout_s
        self._jobs: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def claim(self, session: str) -> bool:
        now = time.time()
        with self._lock:
            held = self._jobs.get(session)
            if held is not None and now - held[1] < self.timeout_s:
                return False
            self._jobs[session] = (None, now)
            return True

    def started(self, session: str, event_id: str | None) -> None:
        with self._lock:
            if session in self._jobs:
                self._jobs[session] = (event_id, self._jobs[session][1])

    def release(self, session: str, event_id: str | None = None) -> None:
        with self._lock:
            held = self._jobs.get(session)
            if held is not None and (event_id is None or held[0] in (None, event_id)):
                del self._jobs[session]

    def event_ids(self, session: str) -> set[str]:
        with self._lock:
            held = self._jobs.get(session)
            return {held[0]} if held and held[0] else set()

    def session_of(self, event_id: str) -> str | None:
        with self._lock:
            for session, (eid, _) in self._jobs.items():
                if eid == event_id:
                    return session
        return None


def _file_paths(value, out: list[str]) -> list[str]:
    """Every ``path`` of a file value (Gradio's FileData dicts) inside a request's data."""
    if isinstance(value, dict):
        p, meta = value.get("path"), value.get("meta")
        if isinstance(p, str) and ((isinstance(meta, dict) and meta.get("_type") == "gradio.FileData")
                                   or "orig_name" in value):
            out.append(p)
        for v in value.values():
            _file_paths(v, out)
    elif isinstance(value, list):
        for v in value:
            _file_paths(v, out)
    return out


class Guard:
    """The ASGI middleware (``app.py`` hands it to Gradio's FastAPI app through ``app_kwargs``)."""

    def __init__(self, app, *, blocks, client_mb: float = 200, server_mb: float = 2000, window_s: float = 3600,
                 heavy_timeout_s: float = 180, max_body: int = 20_000_000):
        self.app, self.blocks = app, blocks
        self.uploads = UploadBudget(client_mb, server_mb, window_s)
        self.heavy = HeavyJobs(heavy_timeout_s)
        self.max_body = max_body
        self._names: dict | None = None

    # -- what the app offers

    def _fns(self) -> dict:
        return self.blocks.fns

    def _by_name(self) -> dict:
        """api_name → event, built once: the app's events are fixed once it serves (slider moves
        come through here, so no scan per request)."""
        if self._names is None:
            names = {}
            for f in self._fns().values():
                if f.api_name:
                    names.setdefault(f.api_name, f)
            self._names = names
        return self._names

    def _api_names(self):
        return self._by_name().keys()

    def _is_heavy(self, fn) -> bool:
        return fn is not None and getattr(fn, "concurrency_id", None) == HEAVY_ID

    def _fn_by_name(self, name: str):
        return self._by_name().get(name)

    @staticmethod
    def _allowed_file(path: str) -> bool:
        from gradio.utils import get_upload_folder

        p = Path(path)
        if not p.is_absolute():
            return False
        p, root = Path(os.path.realpath(p)), Path(os.path.realpath(get_upload_folder()))
        return root in p.parents     # Gradio keeps uploads and its cached examples/outputs there

    # -- ASGI

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = (scope.get("client") or ("?", 0))[0]
        if method == "POST" and "origin" in headers and not same_origin(
                headers["origin"], headers.get("host"), headers.get("x-forwarded-host")):
            return await _refuse(receive, send, 403, "Requests from other websites are not accepted.")
        route = path[len(API):].rstrip("/") if path.startswith(API + "/") else None
        if route is None:
            return await self.app(scope, receive, send)
        if method == "POST" and route == "/upload":
            return await self._upload(scope, receive, send, headers, client)
        if route.startswith(("/run/", "/call/")):
            return await self._named(scope, receive, send, route, method, client)
        if method == "POST" and route == "/queue/join":
            return await self._join(scope, receive, send, client)
        if method == "GET" and route == "/queue/data":
            # a session's one event stream, opened before or after its heavy job: always watched
            session = (parse_qs(scope.get("query_string", b"").decode()).get("session_hash") or [""])[0]
            return await self.app(scope, receive, self._watch_stream(send, session) if session else send)
        if method == "POST" and route == "/component_server":
            return await self._component(scope, receive, send, headers)
        return await self.app(scope, receive, send)

    async def _upload(self, scope, receive, send, headers, client):
        """POST /upload: counted against the upload budgets before Gradio stores anything."""
        n = _content_length(headers)
        if n <= 0:
            return await _send_response(send, 411, "An upload must say its size (Content-Length).")
        reason = self.uploads.take(client, n)
        if reason:
            return await _refuse(receive, send, 429, reason)
        return await self.app(scope, receive, send)

    async def _named(self, scope, receive, send, route, method, client):
        """/run/<name> and /call/<name>[/<event id>]: a known name, no server path, one heavy job."""
        prefix = "/run/" if route.startswith("/run/") else "/call/"
        parts = route[len(prefix):].split("/")
        if method == "POST" and prefix == "/run/":
            return await self._run(scope, receive, send, parts[0])
        if parts[0] not in self._api_names():
            return await _send_response(send, 404, f"There is no endpoint named {parts[0][:40]!r}.")
        if method != "POST":
            session = self.heavy.session_of(parts[1]) if prefix == "/call/" and len(parts) > 1 else None
            if session:       # the result stream of a heavy job sent through /call/<name>
                return await self.app(scope, receive, self._watch_stream(send, session, parts[1]))
            return await self.app(scope, receive, send)
        body = await self._read_body(receive)
        if body is None:
            return await _send_response(send, 413, "This request is too large.")
        problem = self._check_data(body)
        if problem:
            return await _send_response(send, 400, problem)
        session = self._session(body) or f"client:{client}"
        if prefix == "/call/" and self._is_heavy(self._fn_by_name(parts[0])):
            return await self._heavy(scope, receive, send, body, session)
        return await self.app(scope, _replay(body, receive), send)

    async def _run(self, scope, receive, send, name: str):
        """POST /run/<name>: the direct route of events outside the queue (sliders).  Gradio takes the
        body's ``fn_index`` before the name — the browser posts its private events (no api_name) to
        ``/run/predict`` with one — so a given fn_index must be a known event, and without one the name
        must be known."""
        body = await self._read_body(receive)
        if body is None:
            return await _send_response(send, 413, "This request is too large.")
        try:
            msg = json.loads(body or b"{}")
            fn_index = msg.get("fn_index") if isinstance(msg, dict) else None
        except (ValueError, RecursionError):
            fn_index = None            # _check_data answers a body that is not JSON
        if fn_index is not None:
            if not isinstance(fn_index, int) or isinstance(fn_index, bool) or fn_index not in self._fns():
                return await _send_response(send, 404, "There is no such event.")
        elif name not in self._api_names():
            return await _send_response(send, 404, f"There is no endpoint named {name[:40]!r}.")
        problem = self._check_data(body)
        if problem:
            return await _send_response(send, 400, problem)
        return await self.app(scope, _replay(body, receive), send)

    async def _join(self, scope, receive, send, client):
        """POST /queue/join (the browser's route): a known fn_index, no server path, one heavy job."""
        body = await self._read_body(receive)
        if body is None:
            return await _send_response(send, 413, "This request is too large.")
        try:
            msg = json.loads(body or b"{}")
            fn_index = msg.get("fn_index")
        except (ValueError, AttributeError, RecursionError):
            return await _send_response(send, 400, "A queue request must be a JSON object.")
        fns = self._fns()
        if not isinstance(fn_index, int) or isinstance(fn_index, bool) or fn_index not in fns:
            return await _send_response(send, 404, "There is no such event.")
        problem = self._check_data(body)
        if problem:
            return await _send_response(send, 400, problem)
        if self._is_heavy(fns[fn_index]):
            return await self._heavy(scope, receive, send, body, str(msg.get("session_hash") or f"client:{client}"))
        return await self.app(scope, _replay(body, receive), send)

    async def _heavy(self, scope, receive, send, body, session):
        if not self.heavy.claim(session):
            return await _send_response(send, 429, self._busy_message())
        return await self.app(scope, _replay(body, receive), self._watch_join(send, session))

    async def _component(self, scope, receive, send, headers):
        """POST /component_server (an image editor's canvas pieces): bounded size, a known component."""
        if _content_length(headers) > self.max_body:
            return await _send_response(send, 413, "This request is too large.")
        body = await self._read_body(receive)
        if body is None:
            return await _send_response(send, 413, "This request is too large.")
        if headers.get("content-type", "").startswith("application/json"):
            try:
                cid = json.loads(body).get("component_id")
            except (ValueError, AttributeError, RecursionError):
                return await _send_response(send, 400, "A component request must be a JSON object.")
            if not isinstance(cid, int) or isinstance(cid, bool) or cid not in self.blocks.blocks:
                return await _send_response(send, 404, "There is no such component.")
        return await self.app(scope, _replay(body, receive), send)

    @staticmethod
    def _busy_message() -> str:
        return ("You already have a heavy job (inpainting, CycleGAN or super-resolution) waiting or running. "
                "Wait for its result, then start the next one.")

    @staticmethod
    def _session(body: bytes) -> str | None:
        try:
            session = json.loads(body).get("session_hash")
        except (ValueError, AttributeError, RecursionError):
            return None
        return session if isinstance(session, str) and session else None

    def _check_data(self, body: bytes) -> str | None:
        """A file value that is not an upload is refused, without naming it."""
        try:
            data = json.loads(body or b"{}").get("data")
            paths = _file_paths(data, [])
        except (ValueError, AttributeError):
            return None          # not JSON: Gradio answers it
        except RecursionError:
            return "This request is nested too deeply."
        for p in paths:
            if not self._allowed_file(p):
                return ("Files must be uploaded through the app first: a path on the server is not accepted.")
        return None

    async def _read_body(self, receive) -> bytes | None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    def _watch_join(self, send, session: str):
        """Record the event id of a heavy job's join (or release the claim if the join failed)."""
        state = {"status": 200, "body": b""}

        async def wrapped(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    event_id = None
                    try:
                        event_id = json.loads(state["body"]).get("event_id")
                    except (ValueError, AttributeError):
                        pass
                    if state["status"] != 200 or not event_id:
                        self.heavy.release(session)
                    else:
                        self.heavy.started(session, event_id)
            await send(message)
        return wrapped

    def _watch_stream(self, send, session: str, event_id: str | None = None):
        """Release a session's heavy job when its result passes in an event stream: the session's
        queue stream (``process_completed`` with the job's event id) or the job's own ``/call`` stream."""
        async def wrapped(message):
            if message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                if event_id is not None and (b"event: complete" in chunk or b"event: error" in chunk):
                    self.heavy.release(session, event_id)
                elif b"process_completed" in chunk:
                    for eid in self.heavy.event_ids(session):
                        if eid.encode() in chunk:
                            self.heavy.release(session, eid)
            await send(message)
        return wrapped


def _content_length(headers: dict) -> int:
    try:
        return int(headers.get("content-length", "0") or 0)
    except ValueError:
        return -1


def _replay(body: bytes, receive):
    """A ``receive`` that hands the app a body this middleware has already read, then waits for the
    client as the original does (so that the app still notices a real disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return replay
