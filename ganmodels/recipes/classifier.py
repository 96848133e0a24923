"""The MNIST classifier's recipe (``python -m ganmodels.train classifier``): it judges every digit model."""
from __future__ import annotations

from pathlib import Path

import torch

from ganmodels import data
from ganmodels import weights as W
from ganmodels.models import classifier as C
from ganmodels.training.loop import Run, config_from_args

DEFAULT_STEPS = 3000


def add_args(p):
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--lr", type=float, default=1e-3)


def make_run(args) -> Run:
    cfg = config_from_args(C.ClassifierConfig, args)
    dev = torch.device(args.device)
    net = C.Classifier(cfg).to(dev)
    X, y, desc = data.mnist_training(args.mnist_dir, seed=args.seed)
    x, yt = data.to_tensor(X).to(dev), torch.from_numpy(y).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps = args.steps or DEFAULT_STEPS
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)

    def export(out: Path):
        net.eval()
        p = Path(out) / C.FILE
        return {C.FILE: W.save_network(net, p, family=C.FAMILY, network="C", config=cfg)}

    return Run(modules={"C": net}, optimizers={"G": opt}, objective=C.ClassifierObjective(net),
               data=data.batches(x, args.batch or 128, yt, seed=args.seed, rank=args.rank, world=args.world),
               export=export, data_desc=desc + " (random affine augmentation)",
               schedulers=[sched])
