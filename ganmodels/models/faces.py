"""DCGAN for 64×64 aligned faces (Radford et al. 2016, the architecture of its CelebA/LSUN figures).

    G: z (128) → 4×4×8ngf → 8×8×4ngf → 16×16×2ngf → 32×32×ngf → 64×64×3, tanh
       (fractionally-strided 4×4 convolutions, batchnorm + ReLU except at the output)
    D: 64×64×3 → 32×32×ndf → 16×16×2ndf → 8×8×4ndf → 4×4×8ndf → logit
       (strided 4×4 convolutions, LeakyReLU 0.2, batchnorm except on the input layer)

The data: aligned CelebA (Liu et al. 2015) — **non-commercial research and teaching only**.
Every face is framed the same way (:func:`frame_face`): the box ``FRAME_BOX`` of the
89×109 half-size aligned image, resized to 64×64 with Lanczos — face-centred, as in the
DCGAN paper's figures.  Splits are by image number (``SPLITS``): the GAN trains on
000001–008000; 008001–009000 are held out for evaluation and never read by training.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from ganmodels import weights as W
from ganmodels.data import to_uint8
from ganmodels.errors import DataError
from ganmodels.models.dcgan import LoadedGAN, init_weights

FAMILY = "faces"
FILES = {"G": "faces_G.safetensors", "D": "faces_D.safetensors"}
SIZE = 64
FRAME_BOX = (7, 20, 82, 95)   # left, upper, right, lower in the 89×109 aligned image: a 75×75 square

# image numbers (inclusive) of each split of the 9,000 faces
SPLITS = {
    "train": (1, 8000),              # the GAN's training faces
    "heldout": (8001, 9000),         # evaluation only
    "classifier_train": (1, 7000),   # the attribute classifier's training faces
    "classifier_val": (7001, 8000),  # … and its validation faces
}
CELEBA_IMAGES = Path("celeba") / "img_align_celeba_half"
CELEBA_ATTRS = Path("celeba") / "list_attr_celeba.txt"
# the 40 binary attributes of the official list_attr_celeba.txt, in its order
ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby",
    "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male",
    "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose",
    "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair",
    "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)
LICENCE = "CelebA (Liu et al. 2015): non-commercial research and teaching only"


def frame_face(img: Image.Image) -> Image.Image:
    """An aligned CelebA face (89×109) → the 64×64 RGB face-centred frame."""
    return img.convert("RGB").crop(FRAME_BOX).resize((SIZE, SIZE), Image.LANCZOS)


# ---------------------------------------------------------------- the data


def read_attributes(data_dir: str | Path) -> tuple[list[str], list[str], np.ndarray]:
    """The official attribute file: (40 names, file names, uint8 (N, 40) with 1 = has it)."""
    path = Path(data_dir) / CELEBA_ATTRS
    if not path.is_file():
        raise DataError(f"no CelebA attribute file at {path}: --data-dir must be the folder holding "
                        f"{CELEBA_ATTRS} and {CELEBA_IMAGES}/NNNNNN.jpg")
    lines = path.read_text().splitlines()
    try:
        names = lines[1].split()
        files, rows = [], []
        for line in lines[2:]:
            parts = line.split()
            if not parts:
                continue
            if len(parts) != len(names) + 1:
                raise ValueError(f"row {parts[0]} has {len(parts) - 1} values, expected {len(names)}")
            files.append(parts[0])
            rows.append([int(v) > 0 for v in parts[1:]])
    except (IndexError, ValueError) as e:
        raise DataError(f"{path}: not in the official list_attr_celeba.txt format ({e})") from e
    return names, files, np.asarray(rows, dtype=np.uint8).reshape(len(files), len(names))


def celeba_split(data_dir: str | Path, split: str) -> tuple[list[str], list[str], np.ndarray]:
    """The rows of ``split`` (by image number, see ``SPLITS``): (names, files, attrs).
    Only the attribute file is read: images outside the split are never opened."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}: one of {', '.join(SPLITS)}")
    lo, hi = SPLITS[split]
    names, files, attrs = read_attributes(data_dir)
    keep = [i for i, f in enumerate(files) if lo <= int(Path(f).stem) <= hi]
    if not keep:
        raise DataError(f"no faces numbered {lo}–{hi} in {Path(data_dir) / CELEBA_ATTRS}")
    return names, [files[i] for i in keep], attrs[keep]


def load_faces(data_dir: str | Path, split: str, cache_dir: str | Path | None = None
               ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The framed faces of ``split``: (uint8 (N, 64, 64, 3) RGB, uint8 (N, 40) attributes, 40 names).

    With ``cache_dir`` the framed array is kept there as ``celeba_<split>_64.npz`` (reused
    when its file list matches the attribute file's)."""
    names, files, attrs = celeba_split(data_dir, split)
    cache = Path(cache_dir) / f"celeba_{split}_{SIZE}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            if list(z["files"]) == files:
                return z["images"], attrs, names
    folder = Path(data_dir) / CELEBA_IMAGES
    out = np.empty((len(files), SIZE, SIZE, 3), dtype=np.uint8)
    for i, f in enumerate(files):
        try:
            with Image.open(folder / f) as im:
                out[i] = np.asarray(frame_face(im))
        except OSError as e:
            raise DataError(f"cannot read face {folder / f}: {e}") from e
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, images=out, files=np.asarray(files))
        tmp.replace(cache)
    return out, attrs, names


# ---------------------------------------------------------------- the networks


@dataclass
class FacesConfig:
    z_dim: int = 128
    ngf: int = 48          # generator width (channels of the last hidden layer)
    ndf: int = 48          # discriminator width (channels of the first layer)
    mapping: int = 0       # G: fully connected layers z → z before the projection (a small mapping
                           # MLP, as StyleGAN's); 0 = the paper's single project-and-reshape


class Generator(nn.Module):
    def __init__(self, cfg: FacesConfig):
        super().__init__()
        self.cfg = cfg
        g, z = cfg.ngf, cfg.z_dim
        mlp = []
        for _ in range(cfg.mapping):
            mlp += [nn.Linear(z, z), nn.LeakyReLU(0.2, True)]
        self.mapping = nn.Sequential(*mlp)
        self.net = nn.Sequential(
            # project and reshape: (B, z, 1, 1) → (B, 8ngf, 4, 4)
            nn.ConvTranspose2d(z, g * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(g * 8), nn.ReLU(True),
            nn.ConvTranspose2d(g * 8, g * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(g * 4), nn.ReLU(True),
            # (B, 4ngf, 8, 8)
            nn.ConvTranspose2d(g * 4, g * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(g * 2), nn.ReLU(True),
            # (B, 2ngf, 16, 16)
            nn.ConvTranspose2d(g * 2, g, 4, 2, 1, bias=False), nn.BatchNorm2d(g), nn.ReLU(True),
            # (B, ngf, 32, 32)
            nn.ConvTranspose2d(g, 3, 4, 2, 1), nn.Tanh(),
            # (B, 3, 64, 64) in [-1, 1]
        )
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = self.mapping(z.view(z.shape[0], -1))
        return self.net(z.view(z.shape[0], -1, 1, 1))


class Discriminator(nn.Module):
    """Outputs a logit per image: D(x) = σ(logit) is the probability that x is a real face."""

    def __init__(self, cfg: FacesConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.ndf
        self.features = nn.Sequential(
            # (B, 3, 64, 64)
            nn.Conv2d(3, d, 4, 2, 1), nn.LeakyReLU(0.2, True),
            # (B, ndf, 32, 32)
            nn.Conv2d(d, d * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(d * 2), nn.LeakyReLU(0.2, True),
            # (B, 2ndf, 16, 16)
            nn.Conv2d(d * 2, d * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(d * 4), nn.LeakyReLU(0.2, True),
            # (B, 4ndf, 8, 8)
            nn.Conv2d(d * 4, d * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(d * 8), nn.LeakyReLU(0.2, True),
            # (B, 8ndf, 4, 4)
        )
        self.head = nn.Conv2d(d * 8, 1, 4, 1, 0)   # (B, 1, 1, 1)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).view(-1)   # (B,)


# ---------------------------------------------------------------- the loaded model, load/save


class FacesGAN(LoadedGAN):
    """The loaded face model: G (eval mode) and, when present, D."""

    @torch.no_grad()
    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, z_dim) → images (N, 3, 64, 64) in [-1, 1], on the CPU."""
        return self.G(z.to(self.device).float()).float().cpu()


def load(weights_dir=W.DEFAULT_DIR, device="cpu", *, store: W.WeightStore | None = None,
         with_D: bool = True) -> FacesGAN:
    G, D, cfg = W.load_g_and_d(store or W.WeightStore(weights_dir), family=FAMILY, files=FILES,
                               generator=Generator, discriminator=Discriminator, config_cls=FacesConfig,
                               device=device, with_D=with_D)
    return FacesGAN(G, D, cfg, device)


def save(G: nn.Module, D: nn.Module, cfg: FacesConfig, out_dir: str | Path) -> dict[str, str]:
    return W.save_g_and_d(G, D, cfg, out_dir, family=FAMILY, files=FILES)


@torch.no_grad()
def sample_uint8(model: FacesGAN, n: int = 64, seed: int = 0, truncation: float = 1.0) -> np.ndarray:
    """n samples G(truncation · z), z ~ N(0, I) drawn with ``seed`` → uint8 (n, 64, 64, 3) RGB."""
    z = model.z_from_seed(seed, n) * float(truncation)
    if n == 0:
        return np.zeros((0, SIZE, SIZE, 3), np.uint8)
    return np.concatenate([to_uint8(model.generate(z[i:i + 256])) for i in range(0, n, 256)])
