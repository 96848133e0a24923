"""Round-trip latency of the app's cheap (slider) endpoints through its raw HTTP API.

    python bench/latency.py [--n 40] [--weights weights] [--device cpu]

Starts the app itself (shipped weights), warms it up, then times every endpoint a tab lists in its
``LATENCY_ENDPOINTS`` (and ``FACE_LATENCY_ENDPOINTS`` when the face models are loaded: the Latent
space tab's face slider; ``UPLOAD_LATENCY_ENDPOINTS``, whose request carries a file uploaded once
before timing: the pix2pix sketch, both generators and D), as one browser tab sends them (one session
hash), to the app served by ``app.serve`` as ``python app.py`` serves it (its threads, queue, lazy
per-session state).  An endpoint served outside the queue is timed as ``POST /gradio_api/run/<api_name>``
(the browser's route for those); a queued one (the pix2pix sketch) through the queue, as
``POST /gradio_api/call/<api_name>`` and its event stream, to the complete event.
(gradio_client is not used: it adds ~110 ms of its own.)
The last stdout line is one JSON object: {api_name: {"p50_ms", "p95_ms", "n", "route": "run"|"queue"}, ...}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from bench.common import call_queue, free_port, percentile, post, upload  # (sets the offline defaults)


SESSION = "latency-bench"   # one browser tab: a browser sends its session hash with every event


def timed_post(url: str, api_name: str, data: list) -> float:
    """One round trip through the HTTP API in ms (an HTTP error raises)."""
    t0 = time.perf_counter()
    post(url, api_name, data, timeout=30, session=SESSION)
    return (time.perf_counter() - t0) * 1000


def timed_queue(url: str, api_name: str, data: list) -> float:
    """One request through the queue to its result in ms (an error or a lost request raises)."""
    t0 = time.perf_counter()
    kind, msg = call_queue(url, api_name, data, timeout=30, session=SESSION)
    if kind != "ok":
        raise RuntimeError(f"{api_name}: {kind}: {msg}")
    return (time.perf_counter() - t0) * 1000


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=40, help="timed calls per endpoint")
    p.add_argument("--weights", default=None)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)

    import app as app_module

    t0 = time.time()
    serve_argv = ["--port", str(free_port()), "--device", args.device]
    if args.weights:
        serve_argv += ["--weights", args.weights]
    demo, ctx = app_module.serve(app_module.parse_args(serve_argv), block=False)   # as `python app.py` serves
    url = f"http://127.0.0.1:{serve_argv[1]}"
    print(f"app up in {time.time() - t0:.1f} s", file=sys.stderr)
    results = {}
    served = {getattr(fn, "api_name", None) for fn in demo.fns.values()}
    queued = {getattr(fn, "api_name", None) for fn in demo.fns.values() if getattr(fn, "queue", True) is not False}
    try:
        for _, mod in app_module._tab_modules():
            if any(n not in ctx.models for n in getattr(mod, "REQUIRES", ())):
                continue
            # FACE_LATENCY_ENDPOINTS: the face sliders, served only when the face models are loaded
            endpoints = {**getattr(mod, "LATENCY_ENDPOINTS", {}), **getattr(mod, "FACE_LATENCY_ENDPOINTS", {})}
            for api_name, make in getattr(mod, "UPLOAD_LATENCY_ENDPOINTS", {}).items():
                if api_name in served:
                    endpoints[api_name] = make(lambda name, data: upload(url, name, data))
            for api_name, data in endpoints.items():
                if api_name not in served:
                    print(f"{api_name:>24}: not served (its models are not loaded)", file=sys.stderr)
                    continue
                timed = timed_queue if api_name in queued else timed_post
                for _ in range(5):  # warm-up
                    timed(url, api_name, data)
                times = [timed(url, api_name, data) for _ in range(args.n)]
                results[api_name] = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
                                     "n": len(times), "route": "queue" if api_name in queued else "run"}
                print(f"{api_name:>24}: {results[api_name]}", file=sys.stderr)
    finally:
        app_module.close(demo, ctx)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
