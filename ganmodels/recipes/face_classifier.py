"""The face-attribute classifier's recipe (``python -m ganmodels.train face_classifier --data-dir DIR``).

Trains on framed faces 000001–007000 and, at export, measures each attribute's accuracy on
007001–008000; that validation accuracy goes into the weight file's header.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganmodels import data
from ganmodels.errors import InputError
from ganmodels.models import face_classifier as FC
from ganmodels.models import faces
from ganmodels.training.loop import Run, config_from_args

DEFAULT_STEPS = 2500
DATA_DESC = (f"aligned CelebA faces 000001–007000 with their 40 attributes (framed to 64×64: crop "
             f"{faces.FRAME_BOX}, Lanczos; flips and small shifts), validated on 007001–008000; "
             f"{faces.LICENCE}")


def add_args(p):
    p.add_argument("--width", type=int, default=None)
    p.add_argument("--feat-dim", "--feat_dim", type=int, default=None)
    p.add_argument("--lr", type=float, default=1e-3)


def make_run(args) -> Run:
    if not args.data_dir:
        raise InputError("face_classifier needs --data-dir: the folder holding "
                         "celeba/img_align_celeba_half/ and celeba/list_attr_celeba.txt")
    cfg = config_from_args(FC.FaceClassifierConfig, args)
    dev = torch.device(args.device)
    net = FC.FaceClassifier(cfg).to(dev)
    out = Path(args.out or "runs/face_classifier")
    X, A, _ = faces.load_faces(args.data_dir, "classifier_train", cache_dir=out)
    Xv, Av, _ = faces.load_faces(args.data_dir, "classifier_val", cache_dir=out)
    x, y = FC.to_input(X).to(dev), torch.from_numpy(A).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps = args.steps or DEFAULT_STEPS
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)

    def export(path: Path):
        acc = FC.attribute_accuracy(net, Xv, Av)
        net.eval()
        extra = {"val_split": "007001-008000", "val_accuracy_mean": float(np.mean(acc)),
                 "val_accuracy": {n: round(float(a), 4) for n, a in zip(faces.ATTRIBUTES, acc)}}
        return {FC.FILE: FC.save(net, Path(path) / FC.FILE, extra=extra)}

    return Run(modules={"C": net}, optimizers={"G": opt}, objective=FC.FaceClassifierObjective(net),
               data=data.batches(x, args.batch or 128, y, seed=args.seed, rank=args.rank, world=args.world),
               export=export, data_desc=DATA_DESC, schedulers=[sched])
