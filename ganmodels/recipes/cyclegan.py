"""CycleGAN's training recipes (``python -m ganmodels.train cyclegan``), and its Monet judge's
(``python -m ganmodels.train cyclegan --judge``): arguments → a Run.

Training reads the training split of ``<data>/photo`` and ``<data>/monet`` (the held-out
split, :func:`ganmodels.models.cyclegan.split_folder`, is only for the evaluation).
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn
from safetensors import SafetensorError
from safetensors.torch import load_file

from ganmodels import weights as W
from ganmodels.data import to_tensor
from ganmodels.errors import InputError
from ganmodels.imageio import image_to_tensor, read_rgb, tensor_to_image
from ganmodels.models import monet_judge
from ganmodels.models.cyclegan import (FAMILY, FILES, HELDOUT_PERCENT, UPSAMPLE, CycleGANConfig,
                                       CycleGANObjective, ResnetGenerator, data_root, make_discriminator,
                                       save, smallest_crop, split_folder, widen_generator)
from ganmodels.training.ema import EMA
from ganmodels.training.loop import Run, config_from_args, linear_decay

DEFAULT_STEPS = 6000
JUDGE_STEPS = 400         # the judge's default (--judge): a small CNN on ~1,400 images


def default_steps(args) -> int:
    return JUDGE_STEPS if args.judge else DEFAULT_STEPS


def add_args(p) -> None:
    p.add_argument("--data", default=None, help="folder with photo/ and monet/ (default: --data-dir)")
    p.add_argument("--ngf", type=int, default=None)
    p.add_argument("--n-blocks", "--n_blocks", dest="n_blocks", type=int, default=None)
    p.add_argument("--ndf", type=int, default=None)
    p.add_argument("--n-layers-d", "--n_layers_d", dest="n_layers_d", type=int, default=None)
    p.add_argument("--upsample", choices=UPSAMPLE, default=None,
                   help="G's upsampling: transposed convs (the paper) or resize + conv (no checkerboard)")
    p.add_argument("--d-scales", dest="d_scales", type=int, default=None,
                   help="discriminators at this many scales (pix2pixHD): the PatchGAN on the crop, then on "
                        "it average-pooled 2×, 4×, … (default 1: the paper's single PatchGAN)")
    p.add_argument("--colour-skip", dest="colour_skip", action="store_true", default=None,
                   help="give G and F the input's per-channel mean and std at their output (instance norm "
                        "hides them); with --init-from it is added zero-initialised, keeping the function")
    p.add_argument("--crop", type=int, default=96, help="training crop size (random crops + flips)")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--lambda-cyc", type=float, default=10.0)
    p.add_argument("--lambda-x", type=float, default=None,
                   help="weight of the photo cycle ‖F(G(x)) − x‖₁ and, times --lambda-id, of ‖F(x) − x‖₁ "
                        "(default --lambda-cyc; the CycleGAN repo's lambda_A)")
    p.add_argument("--lambda-y", type=float, default=None,
                   help="weight of the Monet cycle ‖G(F(y)) − y‖₁ and, times --lambda-id, of ‖G(y) − y‖₁ "
                        "(default --lambda-cyc; the repo's lambda_B)")
    p.add_argument("--lambda-id", type=float, default=0.5, help="identity weight as a fraction of λ")
    p.add_argument("--pool", type=int, default=50)
    p.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="export (and sample) exponential moving averages of G and F with this decay "
                        "(Yazıcı et al. 2019; 0.999 ≈ the last 1,000 steps; default 0: the raw nets, as the paper)")
    p.add_argument("--decay-from", type=float, default=0.5, help="LR decays linearly from this share of steps")
    p.add_argument("--init-from", default=None, metavar="DIR",
                   help="start G and F from the weights exported in DIR (fresh discriminators); the network "
                        "sizes come from those files (a larger --ngf widens them, keeping their function), "
                        "and the manifest records both runs' steps and commands")
    p.add_argument("--skip-lr", type=float, default=1.0, metavar="MULT",
                   help="learning-rate multiplier for the colour skip's parameters (they start at zero "
                        "and move at most ~lr per Adam step, so at the base rate they learn slowly)")
    p.add_argument("--hold-g", type=int, default=0, metavar="N",
                   help="hold G and F still (learning rate 0) for the first N steps, so that fresh "
                        "discriminators catch up before their gradients reach generators from --init-from")
    p.add_argument("--judge", action="store_true",
                   help="train the Monet-vs-photo judge (for the metrics) instead of CycleGAN")
    p.add_argument("--init-d-from", default=None, metavar="CKPT",
                   help="start D_Y and D_X from a CycleGAN run's checkpoint (a run folder or its "
                        "checkpoint.safetensors) instead of fresh ones; use with --init-from")


# ------------------------------------------------------------------ data


def crops(images: np.ndarray, crop: int, batch: int, seed: int = 0) -> Iterator[torch.Tensor]:
    """Endless random crops with random horizontal flips: float (B, 3, crop, crop) in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n, h, w = images.shape[:3]
    while True:
        idx = rng.integers(0, n, batch)
        out = np.empty((batch, crop, crop, 3), np.uint8)
        for b, i in enumerate(idx):
            t, l = rng.integers(0, h - crop + 1), rng.integers(0, w - crop + 1)
            c = images[i, t:t + crop, l:l + crop]
            out[b] = c[:, ::-1] if rng.random() < 0.5 else c
        yield torch.from_numpy(out).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def paired_stream(xs: Iterator, ys: Iterator, device) -> Iterator:
    """(photos, Monets) batches on ``device``, one from each stream."""
    while True:
        yield next(xs).to(device), next(ys).to(device)


def resize_all(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 (N, H, W, 3) → uint8 (N, size, size, 3), area-antialiased (once, before training)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    out = [Fn.interpolate(x[i:i + 64], size=(size, size), mode="bilinear", align_corners=False, antialias=True)
           for i in range(0, len(x), 64)]
    return torch.cat(out).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def judge_batches(photos: np.ndarray, monets: np.ndarray, size: int, batch: int, seed: int = 0):
    """Balanced batches (half photos, half Monets) of whole images resized to size² once;
    augmentation: random shifts (reflect-pad size/16, crop) and horizontal flips."""
    g = torch.Generator().manual_seed(seed)
    half, pad = batch // 2, max(1, size // 16)
    P, M = to_tensor(resize_all(photos, size)), to_tensor(resize_all(monets, size))

    def take(arr, n):
        x = Fn.pad(arr[torch.randint(0, len(arr), (n,), generator=g)], (pad,) * 4, mode="reflect")
        t, l = torch.randint(0, 2 * pad + 1, (2,), generator=g).tolist()
        x = x[..., t:t + size, l:l + size]
        flip = torch.rand(n, generator=g) < 0.5
        return torch.where(flip[:, None, None, None], x.flip(-1), x)

    while True:
        yield torch.cat([take(P, half), take(M, half)]), torch.cat([torch.zeros(half), torch.ones(half)])


# ------------------------------------------------------------------ the CycleGAN run


def _data_dir(args) -> Path:
    """``--data``, else ``--data-dir``: the folder holding photo/ and monet/."""
    return data_root(getattr(args, "data", None) or getattr(args, "data_dir", None))


def make_run(args) -> Run:
    if args.judge:
        return _make_judge_run(args)
    d = _data_dir(args)
    dev = torch.device(args.device)
    cfg = config_from_args(CycleGANConfig, args)
    if cfg.d_scales < 1:
        raise InputError(f"--d-scales must be at least 1, not {cfg.d_scales}")
    if args.crop < smallest_crop(cfg):
        raise InputError(f"--crop {args.crop} is too small for {cfg.d_scales} discriminator scale(s): the "
                         f"coarsest PatchGAN would see fewer pixels than it needs; use --crop "
                         f"{smallest_crop(cfg)} or more, or fewer --d-scales")
    ema_decay = getattr(args, "ema", 0.0) or 0.0
    if not 0.0 <= ema_decay < 1.0:
        raise InputError(f"--ema is a decay in [0, 1) (0: off, 0.999: a ~1,000-step average), not {ema_decay}")
    (px, _), (py, _) = split_folder(d / "photo"), split_folder(d / "monet")
    X, Y = read_rgb(px), read_rgb(py)
    print(f"cyclegan: {len(X)} training photos, {len(Y)} training Monets "
          f"(held out: {HELDOUT_PERCENT}% of each by file-name hash)", file=sys.stderr)
    lineage = None
    if args.init_from:
        G, F, cfg, lineage = init_generators(args.init_from, cfg, args, dev)
    else:
        G, F = ResnetGenerator(cfg).to(dev), ResnetGenerator(cfg).to(dev)
    D_Y, D_X = make_discriminator(cfg).to(dev), make_discriminator(cfg).to(dev)
    if getattr(args, "init_d_from", None):
        init_discriminators(args.init_d_from, {"D_Y": D_Y, "D_X": D_X})
    emas = None
    if ema_decay > 0:
        emas = {"G": EMA(G, ema_decay), "F": EMA(F, ema_decay)}
    obj = CycleGANObjective(G, F, D_Y, D_X, lambda_cyc=args.lambda_cyc, lambda_id=args.lambda_id,
                            lambda_x=getattr(args, "lambda_x", None), lambda_y=getattr(args, "lambda_y", None),
                            pool_size=args.pool, seed=args.seed, emas=emas)
    # what the run exports (and its sample sheets show): the moving averages when --ema is on
    out_G, out_F = (emas["G"].shadow, emas["F"].shadow) if emas else (G, F)
    betas = (args.beta1, 0.999)
    skip_lr = getattr(args, "skip_lr", 1.0)
    if skip_lr != 1.0 and not cfg.colour_skip:
        raise InputError("--skip-lr sets the colour skip's learning rate: it needs --colour-skip "
                         "(or --init-from generators that have one)")
    opt_g = torch.optim.Adam(generator_param_groups((G, F), args.lr, skip_lr), lr=args.lr, betas=betas)
    opt_d = torch.optim.Adam(list(D_Y.parameters()) + list(D_X.parameters()), lr=args.lr, betas=betas)
    steps = args.steps or DEFAULT_STEPS
    scheds = cyclegan_schedulers(opt_g, opt_d, steps, args.decay_from, getattr(args, "hold_g", 0) or 0)
    batch = args.batch or 1
    data = paired_stream(crops(X, args.crop, batch, args.seed), crops(Y, args.crop, batch, args.seed + 1), dev)
    # fixed sample sheet: 4 training photos and 4 training Monets, centre crops of 128² (or less)
    def centre(A):
        c = min(128, A.shape[1], A.shape[2]) // 4 * 4
        t, l = (A.shape[1] - c) // 2, (A.shape[2] - c) // 2
        return image_to_tensor(np.concatenate([A[i, t:t + c, l:l + c] for i in range(min(4, len(A)))], 1))
    sx, sy = centre(X), centre(Y)

    @torch.no_grad()
    def sample():
        out_G.eval(), out_F.eval()
        rows = []
        for a, fwd, back in ((sx, out_G, out_F), (sy, out_F, out_G)):
            b = fwd(a.to(dev))
            rows += [a, b.cpu(), back(b).cpu()]
        if not emas:
            G.train(), F.train()
        return tensor_to_image(torch.cat(rows, 2))

    def export(out: Path):  # the app needs only G and F; D_Y, D_X stay in the run's checkpoint
        return save({"G": out_G, "F": out_F}, cfg, out)

    desc = (f"{d} photo/ ({len(X)} files) and monet/ ({len(Y)} files): the Kaggle "
            f"'I'm Something of a Painter Myself' sets minus a {HELDOUT_PERCENT}% held-out split "
            f"(sha256 of the file name); random {args.crop}² crops + flips, batch {batch}")
    modules = {"G": G, "F": F, "D_Y": D_Y, "D_X": D_X}
    if emas:
        modules.update(G_ema=emas["G"].shadow, F_ema=emas["F"].shadow)
    return Run(modules=modules, optimizers={"G": opt_g, "D": opt_d},
               objective=obj, data=data, export=export, data_desc=desc, sample=sample, schedulers=scheds,
               lineage=lineage)


def generator_param_groups(nets, lr: float, skip_mult: float = 1.0) -> list[dict]:
    """Adam parameter groups for G and F: everything at ``lr``, the colour skips at ``skip_mult``·lr."""
    skip = [p for n in nets for name, p in n.named_parameters() if ".skip." in f".{name}"]
    ids = {id(p) for p in skip}
    rest = [p for n in nets for p in n.parameters() if id(p) not in ids]
    return [{"params": rest, "lr": lr}] + ([{"params": skip, "lr": lr * skip_mult}] if skip else [])


def cyclegan_schedulers(opt_g, opt_d, total_steps: int, decay_from: float, hold_g: int = 0) -> list:
    """The paper's schedule (constant, then linear decay to 0) for both optimizers; G and F's
    learning rate is 0 for the first ``hold_g`` steps (Adam's moments still warm up)."""
    f = linear_decay(total_steps, decay_from) if decay_from < 1 else (lambda step: 1.0)
    if hold_g <= 0 and decay_from >= 1:
        return []
    g = (lambda step: 0.0 if step < hold_g else f(step)) if hold_g > 0 else f
    return [torch.optim.lr_scheduler.LambdaLR(opt_g, g), torch.optim.lr_scheduler.LambdaLR(opt_d, f)]


def init_generators(folder, cfg: CycleGANConfig, args, device):
    """G and F (trainable) from the files exported in ``folder``, their config, and their lineage
    (steps, command) from that folder's manifest. A size given on the command line must agree."""
    folder = Path(folder)
    man = W.read_manifest(folder)
    nets = {}
    for key in ("G", "F"):
        path = folder / FILES[key]
        if not path.is_file():
            raise W.WeightsError(f"--init-from {folder}: {FILES[key]} not found")
        try:
            nets[key], file_cfg, _ = W.load_network(path, ResnetGenerator, CycleGANConfig, family=FAMILY,
                                                    network=key, device=device,
                                                    manifest=man if man.get("files") else None)
        except W.WeightsError as e:
            raise W.WeightsError(f"--init-from {folder}: {e}") from None
    ngf = getattr(args, "ngf", None)
    if ngf is not None and ngf > file_cfg.ngf:     # a wider net that starts as the same function
        print(f"--init-from {folder}: widening G and F from ngf {file_cfg.ngf} to {ngf} "
              f"(Net2WiderNet, function-preserving)", file=sys.stderr)
        nets = {key: widen_generator(net, ngf, seed=getattr(args, "seed", 0) + i).to(device)
                for i, (key, net) in enumerate(nets.items())}
        file_cfg = nets["G"].cfg
    if getattr(args, "colour_skip", None) and not file_cfg.colour_skip:
        print(f"--init-from {folder}: adding the colour skip to G and F (zero-initialised: the same "
              f"function to start with)", file=sys.stderr)
        file_cfg = dataclasses.replace(file_cfg, colour_skip=True)
        for key, net in list(nets.items()):
            new = ResnetGenerator(file_cfg).to(device)
            missing, unexpected = new.load_state_dict(net.state_dict(), strict=False)
            assert not unexpected and all(k.startswith("skip.") for k in missing), (missing, unexpected)
            nets[key] = new
    for f in ("ngf", "n_blocks"):
        given = getattr(args, f, None)
        if given is not None and given != getattr(file_cfg, f):
            raise InputError(f"--init-from {folder}: its generators have {f} {getattr(file_cfg, f)}, "
                             f"not {given}" + (" (a larger --ngf widens them)" if f == "ngf" else ""))
    cfg = dataclasses.replace(cfg, ngf=file_cfg.ngf, n_blocks=file_cfg.n_blocks, channels=file_cfg.channels,
                              upsample=file_cfg.upsample, colour_skip=file_cfg.colour_skip)
    entry = man.get("files", {}).get(FILES["G"], {})
    lineage = (int(entry.get("steps", 0)), entry.get("command") or f"(weights from {folder})")
    for net in nets.values():
        net.requires_grad_(True).train()
    return nets["G"], nets["F"], cfg, lineage


def init_discriminators(ckpt, nets: dict[str, nn.Module]) -> None:
    """Load D_Y and D_X in place from a CycleGAN run's checkpoint (its ``module.D_Y.*`` and
    ``module.D_X.*`` tensors), so that a continuation does not start against fresh discriminators."""
    path = Path(ckpt)
    if path.is_dir():
        path = path / "checkpoint.safetensors"
    if not path.is_file():
        raise W.WeightsError(f"--init-d-from {ckpt}: no checkpoint at {path}")
    try:
        sd = load_file(str(path))
    except (SafetensorError, OSError) as e:
        raise W.WeightsError(f"--init-d-from {path}: not a readable safetensors checkpoint ({e})") from None
    for key, net in nets.items():
        pre = f"module.{key}."
        part = {k[len(pre):]: v for k, v in sd.items() if k.startswith(pre)}
        if not part:
            raise W.WeightsError(f"--init-d-from {path}: the checkpoint holds no {key} (not a CycleGAN run?)")
        try:
            net.load_state_dict(part)
        except RuntimeError as e:
            raise InputError(f"--init-d-from {path}: its {key} does not fit this run's discriminator "
                             f"(--ndf / --n-layers-d): {str(e).splitlines()[0]}") from None


# ------------------------------------------------------------------ the judge's run


def _make_judge_run(args) -> Run:
    d = _data_dir(args)
    cfg = monet_judge.JudgeConfig()
    dev = torch.device(args.device)
    (px, _), (py, _) = split_folder(d / "photo"), split_folder(d / "monet")
    X, Y = read_rgb(px), read_rgb(py)
    net = monet_judge.MonetJudge(cfg).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    steps = args.steps or JUDGE_STEPS
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    stream = judge_batches(X, Y, cfg.size, args.batch or 32, args.seed)

    def data():
        for x, t in stream:
            yield x.to(dev), t.to(dev)

    def export(out: Path):
        net.eval()
        return monet_judge.save(net, out)

    desc = (f"training split only of {d} photo/ ({len(X)}) and monet/ ({len(Y)}); whole images "
            f"at {cfg.size}², balanced batches, random shifts + flips")
    return Run(modules={"judge": net}, optimizers={"G": opt}, objective=monet_judge.JudgeObjective(net), data=data(),
               export=export, data_desc=desc, schedulers=[sched])
