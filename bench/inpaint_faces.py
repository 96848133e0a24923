"""Face inpainting through the app's HTTP API, as a browser calls it (issue #30's latency goals).

    python bench/inpaint_faces.py [--n 5] [--weights weights]

Starts the app (``app.serve``, as ``python app.py``), loads a generated face (``inpaint_faces_load_generated``),
then runs ``inpaint_faces`` with the tab's defaults and the centre 32×32 mask through the queue
(``POST /gradio_api/call/inpaint_faces`` and its event stream), ``--n`` times after one warm-up, and reports:

* ``first_event_s``: the first update (the masked input, sent before any network runs);
* ``first_search_frame_s``: the first update that shows G(z) (after the starting points are scored);
* ``result_s``: the final result (blended completion, baselines, distinct completions, classifier readings).

Median and max over the runs; the machine's load beside them (other work slows it).
The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request

from bench.common import free_port, machine  # (sets the offline defaults)

SESSION = "inpaint-faces-bench"


def stream_times(url: str, api_name: str, data: list, timeout: float = 120, payloads: list | None = None
                 ) -> list[tuple[str, float]]:
    """(event, seconds since the POST) for every event of one queued call (the data of each event
    appended to ``payloads`` when given)."""
    t0 = time.perf_counter()
    body = json.dumps({"data": data, "session_hash": SESSION}).encode()
    req = urllib.request.Request(f"{url}/gradio_api/call/{api_name}", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        event_id = json.loads(r.read())["event_id"]
    out, event = [], None
    with urllib.request.urlopen(f"{url}/gradio_api/call/{api_name}/{event_id}", timeout=timeout) as r:
        for raw in r:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                out.append((event, time.perf_counter() - t0))
                if payloads is not None:
                    payloads.append(line[5:].strip())
                if event == "error":
                    raise RuntimeError(line[5:].strip())
                if event == "complete":
                    break
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--weights", default=None)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)

    import app as app_module
    from demo import inpaint_faces as IF
    from ganmodels.inference import face_inpaint as FI

    load0 = machine()["load_avg_1min"]
    port = free_port()
    serve_argv = ["--port", str(port), "--device", args.device]
    if args.weights:
        serve_argv += ["--weights", args.weights]
    demo, ctx = app_module.serve(app_module.parse_args(serve_argv), block=False)
    url = f"http://127.0.0.1:{port}"
    runs = []
    try:
        if "faces" not in ctx.models:
            raise SystemExit(f"the face model is not loaded: {ctx.errors.get('faces')}")
        got: list = []
        stream_times(url, "inpaint_faces_load_generated", [3], payloads=got)   # a queued event, as the button
        editor = json.loads(got[-1])[0]
        data = [editor, IF.DEFAULT_PRESET, FI.LAM, FI.STEPS, FI.RESTARTS, 0, "poisson"]
        for i in range(args.n + 1):
            ev = stream_times(url, "inpaint_faces", data)
            gen = [t for e, t in ev if e == "generating"]
            res = {"first_event_s": gen[0] if gen else ev[0][1],
                   "first_search_frame_s": gen[1] if len(gen) > 1 else None,
                   "result_s": ev[-1][1], "events": len(ev)}
            print(f"run {i}{' (warm-up)' if i == 0 else ''}: " + json.dumps({k: round(v, 3) if isinstance(v, float)
                                                                              else v for k, v in res.items()}),
                  file=sys.stderr)
            if i:
                runs.append(res)
    finally:
        app_module.close(demo, ctx)

    def summary(key):
        xs = [r[key] for r in runs if r[key] is not None]
        return {"median": round(statistics.median(xs), 3), "max": round(max(xs), 3)} if xs else None

    out = {"settings": {"steps": FI.STEPS, "restarts": FI.RESTARTS, "pool": FI.POOL, "lam": FI.LAM,
                        "mask": "centre 32×32", "blend": "poisson"},
           **{k: summary(k) for k in ("first_event_s", "first_search_frame_s", "result_s")},
           "n": len(runs), "machine": machine(load0)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
