"""The DCGAN recipe on MNIST digits (``python -m ganmodels.train dcgan``)."""
from __future__ import annotations

import torch

from ganmodels import data
from ganmodels.models import dcgan
from ganmodels import augment
from ganmodels.losses import LOSSES, GANObjective
from ganmodels.training.ema import EMA
from ganmodels.training.loop import Run
from ganmodels.recipes.common import add_gan_args, ema_export, ema_sheet, gan_networks, gan_run

DEFAULT_STEPS = 6000


def add_args(p):
    add_gan_args(p, losses=LOSSES)
    p.add_argument("--z-dim", "--z_dim", type=int, default=None)
    p.add_argument("--ngf", type=int, default=None)
    p.add_argument("--ndf", type=int, default=None)
    p.add_argument("--fc-g", "--fc_g", type=int, default=None, help="hidden fully connected layer in G (0: none)")
    p.add_argument("--fc-g-layers", "--fc_g_layers", type=int, default=None, help="how many hidden layers of width fc_g")
    p.add_argument("--fc-d", "--fc_d", type=int, default=None, help="D ends in a fully connected layer of this width "
                   "(InfoGAN's MNIST D; 0: the all-convolutional D)")
    p.add_argument("--d-dropout", "--d_dropout", type=float, default=None, help="dropout in D while training (0: none)")
    p.add_argument("--dataset", choices=["mnist", "fashion"], default="mnist")
    p.add_argument("--r1", type=float, default=0.0, help="R1 penalty weight γ on D's gradient at real data (0: off)")
    p.add_argument("--topk", type=float, default=1.0,
                   help="top-k training (Sinha et al. 2020): G learns from the best share of each fake batch, "
                        "from all of it down to this share (×0.99 per epoch); 1: off")
    augment.add_cli_arg(p)


def make_run(args) -> Run:
    cfg, dev, G, D = gan_networks(args, dcgan.DCGANConfig, dcgan.Generator, dcgan.Discriminator)
    ema = EMA(G, args.ema)
    if args.dataset == "fashion":
        X, _ = data.fashion_mnist("train")
        desc = "Fashion-MNIST train (Debian dataset-fashion-mnist, 60,000 images)"
    else:
        X, _, desc = data.mnist_training(args.mnist_dir, seed=args.seed)
    x = data.to_tensor(X).to(dev)
    batch = args.batch or 64
    obj = GANObjective(G, augment.seen_by_objective(D, args.diffaug), loss=args.loss, z_dim=cfg.z_dim,
                       real_label=args.real_label, topk_nu=args.topk, r1_gamma=args.r1,
                       steps_per_epoch=max(1, len(X) // (batch * args.world)), ema=ema)
    z_fixed = torch.randn(64, cfg.z_dim, generator=torch.Generator().manual_seed(1234)).to(dev)
    return gan_run(args, G=G, D=D, ema=ema, objective=obj,
                   data=data.batches(x, batch, seed=args.seed, rank=args.rank, world=args.world),
                   export=ema_export(dcgan.save, ema, D, cfg), data_desc=desc,
                   sample=ema_sheet(ema, (z_fixed,), nrow=8), default_steps=DEFAULT_STEPS)
