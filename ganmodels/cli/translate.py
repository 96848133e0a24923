"""``python -m ganmodels translate``: CycleGAN photo ↔ Monet on a file or a folder."""
from __future__ import annotations

from ganmodels.cli.common import common_args


def add_parser(sub) -> None:
    t = sub.add_parser("translate", help="CycleGAN photo ↔ Monet")
    t.add_argument("--direction", choices=["photo2monet", "monet2photo"], required=True)
    t.add_argument("input")
    t.add_argument("output")
    t.add_argument("--max-pixels", type=int, default=None)
    common_args(t)
    t.set_defaults(run=run)


def run(args) -> int:
    from ganmodels.models import cyclegan
    return cyclegan.translate_cli(args)
