"""``python -m ganmodels.train toy_state``: a trained 2-D live run, saved as the Live-training tab saves one.

    python -m ganmodels.train toy_state --preset nonsat --steps 2000 --export weights

(see :mod:`ganmodels.training.toy_state`).
"""
from __future__ import annotations

import argparse
import sys

from ganmodels.training import live as T
from ganmodels.training import toy_state as TS


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ganmodels.train toy_state", description=TS.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="nonsat", choices=[k for k, v in T.PRESETS.items()
                                                          if v.config.get("dataset") in ("ring", "grid") and v.start is None])
    p.add_argument("--steps", type=int, default=T.PRESET_STEPS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--export", default="weights", help="folder: the state and its manifest entry go here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.steps < 1:
        raise SystemExit("error: --steps must be at least 1")
    name = TS.export(args.preset, args.steps, args.export, args.seed)
    print(f"exported {name} to {args.export} ({args.steps} steps of preset {args.preset})", file=sys.stderr)
    return 0
