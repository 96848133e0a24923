"""SRResNet's and SRGAN's training recipe (``python -m ganmodels.train srresnet|srgan``).

Training data: random HR crops from image folders (``--data``, repeatable; by default
``<--data-dir>/photo`` and, where installed, a folder of nature wallpapers); LR = the
same degradation as the evaluation (``ganmodels.models.srgan.make_lr``).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from ganmodels import weights as W
from ganmodels.data import list_images
from ganmodels.errors import DataError, InputError
from ganmodels.inference.srgan import super_resolve
from ganmodels.models.srgan import (FAMILY, FILES, UPSAMPLE, Discriminator, Generator, SRConfig, SRDConfig,
                                    SRGANObjective, SRResNetObjective, VGGLoss, bicubic_upscale, downscale,
                                    make_lr, save_D, save_G, sr_metrics)
from ganmodels.training.loop import Run, config_from_args, decay_schedulers

DEFAULT_STEPS = 20000
WALLPAPERS = Path("/usr/share/backgrounds/mate/nature")   # the system's nature wallpapers, where installed
WALLPAPER_SHRINK = 2   # large wallpapers are shrunk ×2 first (less JPEG noise per pixel, more content per crop)


def _on_off(p, name: str, text: str | None = None) -> None:
    """``--name`` / ``--no-name``: True / False, None when neither is given (the config's default)."""
    dest = name.replace("-", "_")
    p.add_argument(f"--{name}", dest=dest, action="store_true", default=None, help=text)
    p.add_argument(f"--no-{name}", dest=dest, action="store_false", default=None)


def add_args(p) -> None:
    p.add_argument("--data", action="append", default=None,
                   help=f"training image folder (repeatable); default <--data-dir>/photo and, if "
                        f"installed, {WALLPAPERS}")
    p.add_argument("--holdout", type=int, default=32, help="last N images of the first folder: validation only")
    p.add_argument("--crop", type=int, default=96, help="HR crop size (multiple of 16)")
    p.add_argument("--channels", type=int, default=None)
    p.add_argument("--blocks", type=int, default=None)
    _on_off(p, "batchnorm", "batch norm in G's residual blocks (the paper's; default off, as EDSR)")
    _on_off(p, "bicubic-skip", "add bicubic(I_LR) to G's output (default on)")
    p.add_argument("--upsample", choices=UPSAMPLE, default=None,
                   help="G's 2× steps: shuffle (sub-pixel conv, the paper; default) or resize "
                        "(nearest 2× + conv, far less prone to checkerboard artefacts)")
    p.add_argument("--ndf", type=int, default=None, help="SRGAN discriminator width")
    p.add_argument("--lr", type=float, default=2e-4, help="G learning rate (Adam)")
    p.add_argument("--lr-d", type=float, default=1e-4, help="D learning rate (Adam)")
    p.add_argument("--pixel-loss", choices=["mse", "l1"], default="mse")
    p.add_argument("--adv-weight", type=float, default=1e-3, help="SRGAN: weight of −log D(G(I_LR))")
    p.add_argument("--init", default=None, help="start G from this SRResNet weight file (e.g. "
                                                "weights/srresnet_G.safetensors): SRGAN's start as in the "
                                                "paper, or an SRResNet run continued; the manifest then adds "
                                                "up both runs' steps and joins their commands")
    p.add_argument("--decay-from", type=float, default=1.0,
                   help="learning rates decay linearly to 0 from this share of --steps (1: constant)")
    p.add_argument("--vgg-weights", default=None, help="opt-in VGG19 feature loss: torchvision vgg19 "
                                                       "weights (.pth or .safetensors) that you have locally")
    p.add_argument("--vgg-weight", type=float, default=1.0)


# ------------------------------------------------------------------ data


def training_folders(args) -> list[Path]:
    """``--data`` folders, else ``<--data-dir>/photo`` and the wallpapers (DataError with neither)."""
    if args.data:
        return [Path(d) for d in args.data]
    if getattr(args, "data_dir", None) is None:
        raise DataError("SRResNet/SRGAN need training photos: pass --data-dir FOLDER (holding photo/) "
                        "or --data DIR")
    return [Path(args.data_dir) / "photo", WALLPAPERS]


def load_training_images(folders, holdout: int = 32, min_side: int = 96) -> tuple[list[torch.Tensor], list[torch.Tensor], str]:
    """uint8 (3,H,W) tensors from image folders; the last ``holdout`` of the first folder → validation."""
    from PIL import Image

    train, val, desc = [], [], []
    for k, folder in enumerate(folders):
        folder = Path(folder)
        if not folder.is_dir():
            if k == 0:
                raise DataError(f"training folder not found: {folder} (pass --data DIR)")
            continue
        paths = list_images(folder)
        imgs = []
        for p in paths:
            try:
                with Image.open(p) as im:
                    im = im.convert("RGB")
                    if max(im.size) > 1000:
                        im = im.resize((im.size[0] // WALLPAPER_SHRINK, im.size[1] // WALLPAPER_SHRINK),
                                       Image.BICUBIC, reducing_gap=None)
                    a = np.asarray(im)
            except OSError:
                continue
            if min(a.shape[:2]) >= min_side:
                imgs.append(torch.from_numpy(a.copy()).permute(2, 0, 1))
        if k == 0 and holdout:
            imgs, v = imgs[:-holdout], imgs[-holdout:]
            val += v
        train += imgs
        desc.append(f"{folder} ({len(imgs)} images)")
    if not train:
        raise DataError("no training images found")
    return train, val, "random HR crops from " + "; ".join(desc) + \
        f"; images > 1000 px shrunk ×{WALLPAPER_SHRINK}; LR = antialiased bicubic ÷4, rounded to 8 bits"


def crop_batches(images: list[torch.Tensor], batch: int, crop: int, seed: int = 0, rank: int = 0,
                 world: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless (LR, HR) batches: random crop×crop HR patches (images drawn ∝ their area),
    random flips and 90° rotations; LR by bicubic ÷4."""
    g = torch.Generator().manual_seed(seed + 1000 * rank)
    imgs = images[rank::world]
    area = torch.tensor([float(i.shape[1] * i.shape[2]) for i in imgs])
    while True:
        idx = torch.multinomial(area, batch, replacement=True, generator=g)
        crops = []
        for i in idx.tolist():
            im = imgs[i]
            y = int(torch.randint(0, im.shape[1] - crop + 1, (1,), generator=g))
            x = int(torch.randint(0, im.shape[2] - crop + 1, (1,), generator=g))
            c = im[:, y:y + crop, x:x + crop]
            r = torch.randint(0, 8, (1,), generator=g).item()
            if r & 1:
                c = c.flip(2)
            c = torch.rot90(c, r >> 1, (1, 2))
            crops.append(c)
        hr = torch.stack(crops).float() / 127.5 - 1.0     # (B, 3, crop, crop)
        yield make_lr(hr), hr                              # (B, 3, crop/4, crop/4), (B, 3, crop, crop)


# ------------------------------------------------------------------ the run


def make_run(args) -> Run:
    dev = torch.device(args.device)
    if args.crop % 16:
        raise InputError("--crop must be a multiple of 16")
    lineage = None
    if args.init:
        G, cfg, lineage = init_generator(args.init, dev)
    else:
        if args.model == "srgan":
            print("warning: SRGAN without --init starts from scratch (the paper starts from SRResNet)",
                  file=sys.stderr)
        cfg = config_from_args(SRConfig, args)
        G = Generator(cfg).to(dev)
    folders = training_folders(args)
    train_imgs, val_imgs, desc = load_training_images(folders, args.holdout, args.crop)
    data = ((lr.to(dev), hr.to(dev)) for lr, hr in
            crop_batches(train_imgs, args.batch or 16, args.crop, args.seed, args.rank, args.world))
    vgg = VGGLoss(args.vgg_weights).to(dev) if args.vgg_weights else None
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.9, 0.999))
    loss_desc = f"pixel {args.pixel_loss.upper()}" + (" + VGG19 φ5,4 features" if vgg is not None else "")
    if args.model == "srgan":
        dcfg = config_from_args(SRDConfig, args)
        D = Discriminator(dcfg).to(dev)
        obj = SRGANObjective(G, D, adv_weight=args.adv_weight, pixel=args.pixel_loss, vgg=vgg,
                             vgg_weight=args.vgg_weight)
        opt_d = torch.optim.Adam(D.parameters(), lr=args.lr_d, betas=(0.9, 0.999))
        modules, opts = {"G": G, "D": D}, {"G": opt_g, "D": opt_d}
        loss_desc += f" + {args.adv_weight:g}·(−log D(G(I_LR)))"
    else:
        obj = SRResNetObjective(G, pixel=args.pixel_loss, vgg=vgg, vgg_weight=args.vgg_weight)
        modules, opts = {"G": G}, {"G": opt_g}
    val = [v[:, :192, :192] for v in val_imgs if v.shape[1] >= 192 and v.shape[2] >= 192][:16]

    @torch.no_grad()
    def sample():
        """Validation (held-out photos): Y-PSNR gain over bicubic and sharpness, printed; a sheet saved."""
        G.eval()
        gains, sharp, rows = [], [], []
        for i, v in enumerate(val):
            hr = v.permute(1, 2, 0).numpy()
            lr = downscale(hr)
            sr = super_resolve(G, lr, device=dev)
            bic = bicubic_upscale(lr)
            m, mb = sr_metrics(sr, hr), sr_metrics(bic, hr)
            gains.append(m["psnr"] - mb["psnr"])
            sharp.append(m["sharpness"])
            if i < 4:
                rows.append(np.concatenate([bic, sr, hr], axis=1))
        G.train()
        print(f"\n[val] {len(val)} held-out crops: PSNR gain over bicubic {np.mean(gains):+.3f} dB, "
              f"sharpness {np.mean(sharp):.3f}", file=sys.stderr, flush=True)
        return np.concatenate(rows, axis=0) if rows else np.zeros((8, 8, 3), np.uint8)

    def export(out: Path):
        G.eval()
        if args.model == "srgan":
            h = save_G(G, "srgan", out)
            h.update(save_D(D, out))
        else:
            h = save_G(G, "srresnet", out)
        G.train()
        return h

    G.train()
    return Run(modules=modules, optimizers=opts, objective=obj, data=data, export=export,
               data_desc=desc + f"; loss: {loss_desc}; batch {args.batch or 16} of {args.crop} px crops",
               sample=sample, lineage=lineage, fresh=(FILES["D"],),
               schedulers=decay_schedulers(tuple(opts.values()), args.steps or DEFAULT_STEPS, args.decay_from))


def init_generator(path, device):
    """G (trainable) from an SRResNet weight file, its config, and its lineage (steps, command) from the
    manifest beside it (none when the file has no manifest entry)."""
    path = Path(path)
    try:
        man = W.read_manifest(path.parent)
        G, cfg, _ = W.load_network(path, Generator, SRConfig, family=FAMILY, network="srresnet_G",
                                   device=device, manifest=man if path.name in man["files"] else None)
    except (W.WeightsError, OSError) as e:
        raise W.WeightsError(f"--init {path}: {e}") from None
    G.requires_grad_(True).train()
    entry = man.get("files", {}).get(path.name)
    lineage = (int(entry.get("steps", 0)), entry["command"]) if entry and entry.get("command") else None
    return G, cfg, lineage
