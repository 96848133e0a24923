"""What the ``python -m ganmodels`` verbs share: the weights options, and the file-or-folder walk
of ``translate`` and ``upscale``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganmodels import weights as W
from ganmodels.data import list_images


def common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", default=str(W.DEFAULT_DIR), help="folder with the weight files")
    p.add_argument("--hub-repo", default=None, help="opt-in: load weights from this Hugging Face repo")
    p.add_argument("--device", default="cpu")


# ---------------------------------------------------------------- verbs that take a file or a folder


def file_or_folder_args(p: argparse.ArgumentParser) -> None:
    """IN and OUT (a file, or a folder whose images keep their names) and the size limit of one input."""
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--max-pixels", type=int, default=None)


def max_pixels(value: int | None, default: int, min_side: int) -> int:
    """``--max-pixels`` or the model's default; below one smallest image (min_side²) is refused."""
    max_px = value or default
    if max_px < min_side * min_side:
        raise SystemExit(f"--max-pixels must be at least {min_side * min_side}")
    return max_px


def image_pairs(src: Path, dst: Path, *, missing: str, empty: str, out_is_file: str) -> list[tuple[Path, Path]]:
    """(input, output) paths: a folder's images (``list_images``) go under the folder OUT with their
    relative names; a file goes to OUT, or into it when OUT is a folder. The messages are the verb's."""
    if not src.exists():
        raise SystemExit(missing)
    if src.is_dir():
        files = list_images(src)
        if not files:
            raise SystemExit(empty)
        if dst.exists() and not dst.is_dir():
            raise SystemExit(out_is_file)
        return [(f, dst / f.relative_to(src)) for f in files]
    return [(src, dst / src.name if dst.is_dir() else dst)]


def skip_or_exit(pairs: list, src: Path, error: Exception) -> None:
    """A refused input: the error ends a run of one file; in a folder the file is skipped with a note."""
    if len(pairs) == 1:
        raise SystemExit(f"error: {error}")
    print(f"skipped {src}: {error}", file=sys.stderr)
