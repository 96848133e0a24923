"""What the face recipe's additions cost and what they give (issue #30: "each kept only if it measurably helps").

    python bench/faces_train.py --speed                      # seconds per training step of each option
    python bench/faces_train.py --checkpoint runs/faces/checkpoint.safetensors --data-dir ../shared/data
                                                             # EMA of G vs G itself, same checkpoint

* ``--speed``: one training step at batch 64 (ngf = ndf = 48, random faces: speed only) on one thread
  (``--threads``), the median of ``--steps`` steps after two warm-up steps, for: the plain DCGAN step,
  + DiffAugment, + lazy R1, + G's EMA, bf16 autocast, and the contiguous (not channels-last) layout.
  Measured in this process while the machine may be doing other work: the load is reported beside it.
* ``--checkpoint``: face-classifier FID (the project's face classifier's features, not Inception's) of
  1,000 samples of G and of its EMA to 1,000 faces numbered 007001–008000 (the classifier's validation
  faces — *not* the held-out 008001–009000, which only ``python -m ganmodels.evaluate faces`` reads).

The last stdout line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from types import SimpleNamespace

from bench.common import machine


def step_seconds(opts: dict, steps: int, batch: int = 64) -> float:
    import torch

    from ganmodels import augment
    from ganmodels.models import faces
    from ganmodels.recipes.faces import FacesObjective
    from ganmodels.training.ema import EMA
    from ganmodels.training.loop import train_loop

    torch.manual_seed(0)
    cfg = faces.FacesConfig(ngf=48, ndf=48)
    G, D = faces.Generator(cfg), faces.Discriminator(cfg)
    cl = opts.get("channels_last", True)
    fmt = torch.channels_last if cl else torch.contiguous_format
    if cl:
        G, D = G.to(memory_format=fmt), D.to(memory_format=fmt)
    ema = EMA(G, 0.999, warmup=True)
    obj = FacesObjective(G, augment.seen_by_objective(D, opts.get("diffaug", "")), ema, loss="ns",
                         z_dim=cfg.z_dim, r1_gamma=opts.get("r1", 0.0), r1_every=16, bf16=opts.get("bf16", False))
    if not opts.get("ema", False):
        obj.after_step = lambda: None
    x = (torch.rand(batch, 3, 64, 64) * 2 - 1).contiguous(memory_format=fmt)

    def data():
        while True:
            yield x

    betas = (0.5, 0.999)
    opt = {"G": torch.optim.Adam(G.parameters(), 2e-4, betas=betas),
           "D": torch.optim.Adam(D.parameters(), 2e-4, betas=betas)}
    it = data()
    times = []
    for s in range(steps + 2):
        t0 = time.perf_counter()
        train_loop(obj, it, opt, steps=s + 1, start_step=s)
        times.append(time.perf_counter() - t0)
    # R1 runs every 16th D step: spread its cost over 16 steps, as training sees it
    med = statistics.median(times[2:])
    if opts.get("r1", 0) > 0:
        r1_steps = [t for i, t in enumerate(times) if i % 16 == 0 and i >= 2]
        if r1_steps:
            med += (statistics.mean(r1_steps) - med) / 16
    return round(med, 3)


VARIANTS = {
    "plain (fp32, channels-last)": {},
    "+ DiffAugment (translation,color,cutout)": {"diffaug": "translation,color,cutout"},
    "+ DiffAugment + lazy R1 (every 16)": {"diffaug": "translation,color,cutout", "r1": 0.2},
    "+ DiffAugment + R1 + EMA (the recipe)": {"diffaug": "translation,color,cutout", "r1": 0.2, "ema": True},
    "the recipe, bf16 autocast": {"diffaug": "translation,color,cutout", "r1": 0.2, "ema": True, "bf16": True},
    "the recipe, contiguous layout": {"diffaug": "translation,color,cutout", "r1": 0.2, "ema": True,
                                      "channels_last": False},
}


def ema_vs_raw(checkpoint: str, data_dir: str, n: int = 1000) -> dict:
    import torch

    from ganmodels import weights as W
    from ganmodels.metrics import frechet_distance
    from ganmodels.models import face_classifier as FC
    from ganmodels.models import faces

    meta = W.read_metadata(checkpoint)
    info = json.loads(meta.get("info", "{}"))
    argv = info.get("argv", [])

    def flag(name, default):
        return int(argv[argv.index(name) + 1]) if name in argv else default

    cfg = faces.FacesConfig(z_dim=flag("--z_dim", 128), ngf=flag("--ngf", 48), ndf=flag("--ndf", 48),
                            mapping=flag("--mapping", 0))
    G, G_ema = faces.Generator(cfg), faces.Generator(cfg)
    W.load_checkpoint(checkpoint, modules={"G": G, "G_ema": G_ema}, optimizers={})
    clf = FC.load()
    real, _, _ = faces.load_faces(data_dir, "classifier_val")
    _, f_real = FC.predict(clf, real[:n])
    z = torch.Generator().manual_seed(0)
    z = torch.randn(n, cfg.z_dim, generator=z)
    out = {"step": int(meta.get("step", 0)), "n": n, "reference": "faces 007001–008000 (not the held-out split)"}
    for name, net in (("G", G), ("G_ema", G_ema)):
        net.eval()
        with torch.no_grad():
            x = torch.cat([net(z[i:i + 250]) for i in range(0, n, 250)])
        _, f = FC.predict(clf, x)
        out[f"classifier_fid_{name}"] = round(frechet_distance(f, f_real), 3)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--speed", action="store_true")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--checkpoint", default=None)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    res: dict = {"machine": machine(), "threads": args.threads}
    if args.speed:
        res["seconds_per_step_batch64"] = {}
        for name, opts in VARIANTS.items():
            res["seconds_per_step_batch64"][name] = step_seconds(opts, args.steps)
            print(f"{name:>45}: {res['seconds_per_step_batch64'][name]} s/step", flush=True)
    if args.checkpoint:
        if not args.data_dir:
            raise SystemExit("--checkpoint needs --data-dir (the folder holding celeba/)")
        res["ema_vs_raw"] = ema_vs_raw(args.checkpoint, args.data_dir)
    if not (args.speed or args.checkpoint):
        raise SystemExit("give --speed and/or --checkpoint")
    res["machine_after"] = machine()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
