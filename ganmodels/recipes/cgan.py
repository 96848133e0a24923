"""The conditional GAN recipe on labelled MNIST digits (``python -m ganmodels.train cgan``)."""
from __future__ import annotations

import torch

from ganmodels import data
from ganmodels.losses import GANObjective
from ganmodels.models import cgan as CG
from ganmodels.recipes.common import add_gan_args, ema_export, ema_sheet, gan_networks, gan_run
from ganmodels.training.ema import EMA
from ganmodels.training.loop import Run

DEFAULT_STEPS = 6000


def add_args(p):
    add_gan_args(p, losses=["minimax", "ns", "lsgan", "hinge"])
    for f in ("ngf", "ndf", "fc_d"):
        p.add_argument(f"--{f}", type=int, default=None)


def make_run(args) -> Run:
    cfg, dev, G, D = gan_networks(args, CG.CGANConfig, CG.Generator, CG.Discriminator)
    ema = EMA(G, args.ema, warmup=True)
    X, y, desc = data.mnist_training(args.mnist_dir, seed=args.seed)
    x, yt = data.to_tensor(X).to(dev), torch.from_numpy(y).to(dev)
    # (1) D: maximise log D(x | y) + log(1 − D(G(z | y) | y));  (2) G: minimise −log D(G(z | y) | y)
    obj = GANObjective(G, D, loss=args.loss, z_dim=cfg.z_dim, real_label=args.real_label, conditional=True,
                       ema=ema)
    z_fixed = torch.randn(100, cfg.z_dim, generator=torch.Generator().manual_seed(1234)).to(dev)
    y_fixed = torch.arange(10).repeat_interleave(10).to(dev)   # row = digit
    return gan_run(args, G=G, D=D, ema=ema, objective=obj,
                   data=data.batches(x, args.batch or 64, yt, seed=args.seed, rank=args.rank, world=args.world),
                   export=ema_export(CG.save, ema, D, cfg), data_desc=desc + ", with labels",
                   sample=ema_sheet(ema, (z_fixed, y_fixed), nrow=10), default_steps=DEFAULT_STEPS)
