"""What every ``python -m ganmodels`` verb shares: the weights options, and errors → messages."""
from __future__ import annotations

import argparse

from ganmodels import weights as W


def common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default=str(W.DEFAULT_DIR), help="folder with the weight files")
    p.add_argument("--hub-repo", default=None, help="opt-in: load weights from this Hugging Face repo")
    p.add_argument("--device", default="cpu")
