"""Round-trip latency of the app's cheap (slider) endpoints through its raw HTTP API.

    python bench/latency.py [--n 40] [--weights weights] [--device cpu]

Starts the app itself (shipped weights), warms it up, then times
``POST /gradio_api/run/<api_name>`` for every endpoint a tab lists in its
``LATENCY_ENDPOINTS`` (and ``FACE_LATENCY_ENDPOINTS`` when the face models are loaded: the Latent
space tab's face slider), as one browser tab sends them (one session hash), to the app served by
``app.serve`` as ``python app.py`` serves it (its threads, queue, lazy per-session state).
(gradio_client is not used: it adds ~110 ms of its own.)
The last stdout line is one JSON object: {api_name: {"p50_ms", "p95_ms", "n"}, ...}.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from bench.common import free_port, percentile, post  # (sets the offline defaults)


SESSION = "latency-bench"   # one browser tab: a browser sends its session hash with every event


def timed_post(url: str, api_name: str, data: list) -> float:
    """One round trip through the HTTP API in ms (an HTTP error raises)."""
    t0 = time.perf_counter()
    post(url, api_name, data, timeout=30, session=SESSION)
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
    try:
        for _, mod in app_module._tab_modules():
            if any(n not in ctx.models for n in getattr(mod, "REQUIRES", ())):
                continue
            # FACE_LATENCY_ENDPOINTS: the face sliders, served only when the face models are loaded
            endpoints = {**getattr(mod, "LATENCY_ENDPOINTS", {}), **getattr(mod, "FACE_LATENCY_ENDPOINTS", {})}
            for api_name, data in endpoints.items():
                if api_name not in served:
                    print(f"{api_name:>24}: not served (its models are not loaded)", file=sys.stderr)
                    continue
                for _ in range(5):  # warm-up
                    timed_post(url, api_name, data)
                times = [timed_post(url, api_name, data) for _ in range(args.n)]
                results[api_name] = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95),
                                     "n": len(times)}
                print(f"{api_name:>24}: {results[api_name]}", file=sys.stderr)
    finally:
        app_module.close(demo, ctx)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
