"""``python -m ganmodels upscale``: 4× super-resolution (SRResNet or SRGAN) on a file or a folder."""
from __future__ import annotations

from ganmodels.cli.common import common_args


def add_parser(sub) -> None:
    u = sub.add_parser("upscale", help="4× super-resolution")
    u.add_argument("--model", choices=["srresnet", "srgan"], required=True)
    u.add_argument("input")
    u.add_argument("output")
    u.add_argument("--max-pixels", type=int, default=None)
    common_args(u)
    u.set_defaults(run=run)


def run(args) -> int:
    from ganmodels.models import srgan
    return srgan.upscale_cli(args)
