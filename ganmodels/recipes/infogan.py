"""The InfoGAN recipe on MNIST digits (``python -m ganmodels.train infogan``); the labels are not used."""
from __future__ import annotations

import torch

from ganmodels import augment
from ganmodels import data
from ganmodels.models import infogan as IG
from ganmodels.recipes.common import add_gan_args, ema_export, ema_sheet, gan_networks, gan_run
from ganmodels.training.ema import EMA
from ganmodels.training.loop import Run

DEFAULT_STEPS = 6000


def add_args(p):
    add_gan_args(p, losses=["minimax", "ns", "lsgan", "hinge"], real_label=False, lr_d_help="D (and Q, unless --q-in-g)",
                 lr_g_help="G (paper: 1e-3), and Q with --q-in-g")
    for f in ("fc_g", "ngf", "ndf", "fc_d", "fc_q"):
        p.add_argument(f"--{f}", type=int, default=None)
    p.add_argument("--learn-sigma", "--learn_sigma", action="store_true", default=None)
    p.add_argument("--lam-cat", type=float, default=2.0, help="λ for the categorical MI term (paper: 1)")
    p.add_argument("--lam-cont", type=float, default=1.0, help="λ for the continuous MI term (σ = 1: ½(c − μ)²)")
    p.add_argument("--q-in-g", action="store_true",
                   help="train the Q head in G's step with G's optimizer (lr-g), not in D's step")
    augment.add_cli_arg(p)


def make_run(args) -> Run:
    cfg, dev, G, D = gan_networks(args, IG.InfoGANConfig, IG.Generator, IG.Discriminator)
    ema = EMA(G, args.ema, warmup=True)
    X, _, desc = data.mnist_training(args.mnist_dir, seed=args.seed)
    x = data.to_tensor(X).to(dev)
    obj = IG.InfoGANObjective(G, augment.seen_by_objective(D, args.diffaug), loss=args.loss, lam_cat=args.lam_cat,
                              lam_cont=args.lam_cont, ema=ema, q_in_g=args.q_in_g)
    q_params = list(D.q_head.parameters()) if args.q_in_g else []
    q_ids = {id(t) for t in q_params}
    # fixed sheet: rows = categorical code, columns = c1 from −1 to 1, one z per row
    gz = torch.Generator().manual_seed(1234)
    z_fixed = torch.randn(cfg.n_cat, cfg.z_dim, generator=gz).repeat_interleave(10, 0).to(dev)
    c_fixed = torch.arange(cfg.n_cat).repeat_interleave(10).to(dev)
    cc_fixed = torch.zeros(10 * cfg.n_cat, cfg.n_cont)
    cc_fixed[:, 0] = torch.linspace(-1, 1, 10).repeat(cfg.n_cat)
    cc_fixed = cc_fixed.to(dev)
    return gan_run(args, G=G, D=D, ema=ema, objective=obj,
                   data=data.batches(x, args.batch or 64, seed=args.seed, rank=args.rank, world=args.world),
                   export=ema_export(IG.save, ema, D, cfg), data_desc=desc + " (labels unused)",
                   sample=ema_sheet(ema, (z_fixed, c_fixed, cc_fixed), nrow=10), default_steps=DEFAULT_STEPS,
                   g_params=list(G.parameters()) + q_params,
                   d_params=[t for t in D.parameters() if id(t) not in q_ids])
