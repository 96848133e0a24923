"""The masked-digit reader's recipe (``python -m ganmodels.train masked_reader``): p(digit | known pixels),
the inpainting search's class guidance (``ganmodels.models.masked_reader``)."""
from __future__ import annotations

from pathlib import Path

import torch

from ganmodels import data
from ganmodels.models import masked_reader as MR
from ganmodels.training.loop import Run, config_from_args

DEFAULT_STEPS = 4000


def add_args(p):
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--feat_dim", "--feat-dim", type=int, default=None)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--mask", choices=["any", *[k for k in MR.PRESETS if k != "random"]], default=None,
                   help="any (default): the general reader, trained on every kind of mask; a preset name: a "
                        "specialist trained on that mask only (the search uses it when the mask is exactly that preset)")
    p.add_argument("--augment", choices=["affine", "none"], default=None,
                   help="affine (default): random rotations, shifts and zooms; none: the digits as MNIST centres them")


def make_run(args) -> Run:
    cfg = config_from_args(MR.ReaderConfig, args)
    dev = torch.device(args.device)
    net = MR.Reader(cfg).to(dev)
    X, y, desc = data.mnist_training(args.mnist_dir, seed=args.seed)
    x, yt = data.to_tensor(X).to(dev), torch.from_numpy(y).to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=5e-4)
    steps = args.steps or DEFAULT_STEPS
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)

    def export(out: Path):
        net.eval()
        name = MR.file_for(cfg.mask)
        return {name: MR.save(net, Path(out) / name)}

    mix = (", ".join(f"{k} {v:.0%}" for k, v in MR.MASK_MIX.items()) if cfg.mask == "any"
           else f"only the {cfg.mask} preset")
    return Run(modules={"R": net}, optimizers={"G": opt}, objective=MR.ReaderObjective(net, seed=args.seed),
               data=data.batches(x, args.batch or 128, yt, seed=args.seed, rank=args.rank, world=args.world),
               export=export, data_desc=f"{desc} ({'random affine augmentation' if cfg.augment == 'affine' else 'no augmentation'}; "
                                                        f"random masks: {mix})",
               schedulers=[sched])
