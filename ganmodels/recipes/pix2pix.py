"""The pix2pix recipe: drawings → faces (``python -m ganmodels.train pix2pix --objective l1|cgan``).

    python -m ganmodels.train pix2pix --objective l1   --data-dir DATA --out runs/p2p_l1   --export DIR
    python -m ganmodels.train pix2pix --objective cgan --data-dir DATA --out runs/p2p_cgan --export DIR

The pairs: the framed CelebA faces 000001–008000 (``faces.load_faces``) and their drawings
(``edges.extract``, computed once and kept in the run folder).  Each batch: the same random
left–right flip of drawing and face, then the hand-drawing augmentation of the drawing only
(``edges.augment``).  With the same ``--seed`` both objectives get the same initial U-Net and the
same batches; "l1" trains G alone (no D), "cgan" adds the conditional PatchGAN, as Isola et al.:
Adam (lr 2e-4, β₁ 0.5), λ = 100, learning rates constant for the first half, then linearly to 0.

A warm restart from shipped weights (no checkpoint needed): ``--init-from weights --steps N --decay-from 0``
starts G (and D, when its size matches) from the files and runs N more steps with the rate back at 2e-4,
falling linearly to 0; ``--ema 0.999`` exports the moving average of G instead of the raw G.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch

from ganmodels import data
from ganmodels import edges as E
from ganmodels import weights as W
from ganmodels.errors import InputError
from ganmodels.models import faces
from ganmodels.models import pix2pix as P
from ganmodels.training.ema import EMA
from ganmodels.training.loop import Run, config_from_args, decay_schedulers

DEFAULT_STEPS = 4000


def data_desc(drawing: str = E.DESCRIPTION) -> str:
    return (f"aligned CelebA faces 000001–008000 (89×109, framed to 64×64: crop {faces.FRAME_BOX}, Lanczos), "
            f"each paired with its drawing: {drawing}; random left–right flips of both, and of the "
            "drawing only: segments dropped (U(0, 25 %) per drawing), ±1 px jitter, wider strokes; "
            f"{faces.LICENCE}")


def add_args(p) -> None:
    p.add_argument("--objective", choices=P.OBJECTIVES, default="cgan",
                   help="l1: λ·‖y − G(x)‖₁ alone; cgan: the conditional GAN + λ·L1 (Isola et al.)")
    p.add_argument("--lam", type=float, default=P.LAMBDA, help="λ, the weight of the L1 term (paper: 100)")
    p.add_argument("--ngf", type=int, default=None, help="U-Net width (channels of its first layer)")
    p.add_argument("--max-mult", "--max_mult", dest="max_mult", type=int, default=None,
                   help="the U-Net's widest blocks have max_mult·ngf channels (paper: 8; 4 keeps the file small)")
    p.add_argument("--ndf", type=int, default=None, help="PatchGAN width")
    p.add_argument("--n-layers-d", "--n_layers_d", dest="n_layers_d", type=int, default=None,
                   help="PatchGAN depth: receptive field 16 (1, default), 34 (2) or 70 (3) px")
    p.add_argument("--dropout", type=float, default=None, help="dropout in G's three innermost decoder blocks")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--decay-from", type=float, default=0.5,
                   help="learning rates decay linearly to 0 from this share of --steps (1: constant)")
    p.add_argument("--augment", type=int, choices=(0, 1), default=1,
                   help="hand-drawing augmentation of the drawings (1: on)")
    p.add_argument("--flip", type=int, choices=(0, 1), default=1, help="random left–right flips (1: on)")
    p.add_argument("--canny-sigma", "--canny_sigma", dest="canny_sigma", type=float, default=None,
                   help=f"the drawings: Canny's smoothing σ in px (default {E.CANNY_SIGMA:g}); kept in the weights")
    p.add_argument("--canny-low", "--canny_low", dest="canny_low", type=float, default=None,
                   help=f"the drawings: Canny's low hysteresis threshold as a quantile of the gradient (default "
                        f"{E.CANNY_QUANTILES[0]:g}; lower: more ink)")
    p.add_argument("--canny-high", "--canny_high", dest="canny_high", type=float, default=None,
                   help=f"the drawings: the high threshold's quantile (default {E.CANNY_QUANTILES[1]:g})")
    p.add_argument("--init-from", "--init_from", dest="init_from", default=None, metavar="DIR",
                   help="start from the weights exported in DIR (a warm restart without the run's checkpoint): "
                        "G from pix2pix_G (cgan) or pix2pix_l1_G (l1), and D from pix2pix_D when its --ndf and "
                        "--n-layers-d match (else a fresh D); the U-Net's size and the drawings come from the "
                        "file, the optimizers start afresh, and the manifest records both runs' steps and commands")
    p.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                   help="export (and sample) the exponential moving average of G with this decay (Yazıcı et al. "
                        "2019; 0.999 ≈ the last 1,000 steps; default 0: the raw G, as the paper)")
    p.add_argument("--ema-bn", "--ema_bn", dest="ema_bn", type=int, choices=(0, 1), default=0,
                   help="with --ema: before export, recompute the average's BatchNorm statistics over the training "
                        "drawings (the average otherwise carries the live G's, which belong to other weights)")


def training_pairs(data_dir, cache_dir: Path, *, sigma: float = E.CANNY_SIGMA,
                   quantiles: tuple[float, float] = E.CANNY_QUANTILES) -> tuple[np.ndarray, np.ndarray]:
    """(faces uint8 (N, 64, 64, 3), drawings uint8 (N, 64, 64)) of the training split; the drawings are
    kept in ``cache_dir`` (recomputed when the faces or the extractor's settings changed)."""
    X, _, _ = faces.load_faces(data_dir, "train", cache_dir=cache_dir)    # only 000001–008000
    cache = Path(cache_dir) / "pix2pix_edges_train_64.npz"
    desc = E.describe(sigma, quantiles)
    if cache.is_file():
        with np.load(cache) as z:
            if str(z["description"]) == desc and z["edges"].shape == X.shape[:3]:
                return X, z["edges"]
    edges = E.extract(X, sigma=sigma, quantiles=quantiles)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, edges=edges, description=np.asarray(desc))
    tmp.replace(cache)
    return X, edges


def pair_batches(X: np.ndarray, edges: np.ndarray, batch_size: int, *, seed: int = 0, flip: bool = True,
                 augment: bool = True, rank: int = 0, world: int = 1):
    """Endless shuffled batches (x, y): drawings float (B, 1, 64, 64) and faces (B, 3, 64, 64) in [-1, 1]."""
    both = torch.cat([torch.from_numpy(edges)[:, None], torch.from_numpy(X).permute(0, 3, 1, 2)], 1)  # (N, 4, 64, 64)
    g = torch.Generator().manual_seed(seed + 11 + 1000 * rank)
    for b in data.batches(both, batch_size, seed=seed, rank=rank, world=world):
        b = b.float().div_(127.5).sub_(1.0)
        if flip:
            m = torch.rand(b.shape[0], generator=g) < 0.5
            b[m] = b[m].flip(3)
        x, y = b[:, :1], b[:, 1:]
        if augment:
            x = E.augment(x, generator=g)
        yield x.contiguous(), y.contiguous()


def make_run(args) -> Run:
    if not args.data_dir:
        raise InputError("pix2pix needs --data-dir: the folder holding celeba/img_align_celeba_half/ "
                         "and celeba/list_attr_celeba.txt")
    if args.lam < 0:
        raise InputError(f"--lam must be ≥ 0, got {args.lam}")
    cfg = config_from_args(P.Pix2PixConfig, args)
    P.check_drawing_settings(cfg.canny_sigma, cfg.canny_low, cfg.canny_high)
    dev = torch.device(args.device)
    lineage, fresh = None, ()
    if args.init_from:
        G, D, cfg, lineage, d_loaded = init_networks(args.init_from, cfg, args, dev)
        if D is not None and not d_loaded:
            fresh = (P.FILES["D"],)
    else:
        G = P.UNetGenerator(cfg).to(dev)           # built first: both objectives start from the same G
        D = P.PatchDiscriminator(cfg).to(dev) if args.objective == "cgan" else None
    if not 0.0 <= args.ema < 1.0:
        raise InputError(f"--ema must be in [0, 1), got {args.ema}")
    if args.ema_bn and not args.ema:
        raise InputError("--ema-bn 1 recomputes the moving average's statistics: it needs --ema DECAY (e.g. 0.999)")
    ema = EMA(G, args.ema) if args.ema > 0 else None
    out = Path(args.out or "runs/pix2pix")
    drawing = P.drawing_settings(cfg)
    X, edges = training_pairs(args.data_dir, out, **drawing)
    batch = args.batch or 16
    obj = P.Pix2PixObjective(G, D, objective=args.objective, lam=args.lam)
    if ema is not None:
        obj.after_step = lambda: ema.update(G)
    betas = (args.beta1, 0.999)
    opts = {"G": torch.optim.Adam(G.parameters(), lr=args.lr, betas=betas)}
    modules = {"G": G}
    if ema is not None:
        modules["G_ema"] = ema.shadow             # checkpointed, so --resume continues the average
    if D is not None:
        opts["D"] = torch.optim.Adam(D.parameters(), lr=args.lr, betas=betas)
        modules["D"] = D
    fixed = E.to_input(edges[:8]).to(dev)
    real = X[:8]

    @torch.no_grad()
    def sample():
        """Rows: the drawings, G's faces (eval mode), the real faces."""
        net = ema.shadow if ema is not None else G
        was_training = net.training
        net.eval()
        fake = data.to_uint8(net(fixed))
        net.train(was_training)
        drawings = np.repeat(edges[:8, :, :, None], 3, axis=3)
        return data.image_grid(np.concatenate([drawings, fake, real]), nrow=8)

    def export(path: Path):
        if ema is not None and args.ema_bn:
            recompute_bn(ema.shadow, edges, batch, dev)
        return P.save(ema.shadow if ema is not None else G, D, cfg, path, objective=args.objective)

    return Run(modules=modules, optimizers=opts, objective=obj,
               data=pair_batches(X, edges, batch, seed=args.seed, flip=bool(args.flip), augment=bool(args.augment),
                                 rank=args.rank, world=args.world),
               export=export, lineage=lineage, fresh=fresh, data_desc=data_desc(E.describe(**drawing)), sample=sample,
               schedulers=decay_schedulers(list(opts.values()), args.steps or DEFAULT_STEPS, args.decay_from))


@torch.no_grad()
def recompute_bn(G: torch.nn.Module, drawings: np.ndarray, batch: int, device) -> None:
    """Replace G's BatchNorm running statistics by their average over ``drawings`` (unaugmented, in order,
    ``batch`` at a time, G in training mode as when the statistics are gathered in training: dropout on)
    — for a moving average of G, whose weights never produced the statistics it copied (SWA's update_bn)."""
    bns = [m for m in G.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None                     # a cumulative average over the batches
    was_training = G.training
    G.train()
    for i in range(0, len(drawings) - batch + 1, batch):
        G(E.to_input(drawings[i:i + batch]).to(device))
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    G.train(was_training)


# ------------------------------------------------------------------ a warm restart from exported weights

G_FIELDS = ("ngf", "max_mult", "n_down", "dropout", "in_channels", "out_channels",
            "canny_sigma", "canny_low", "canny_high")


def init_networks(folder, cfg: P.Pix2PixConfig, args, device):
    """(G, D, cfg, lineage, D loaded?) for ``--init-from DIR``: G (trainable) from DIR's file for
    ``args.objective``; for cgan, D from DIR's pix2pix_D when its width and depth match the run's,
    else a fresh D.  G's size and drawing settings come from the file (a different one given on the
    command line is an error); the lineage (steps, command) comes from DIR's manifest."""
    folder = Path(folder)
    files = P.FILES_L1 if args.objective == "l1" else P.FILES
    family = P.FAMILY_L1 if args.objective == "l1" else P.FAMILY
    man = W.read_manifest(folder)

    def load(name, build, network):
        try:
            net, file_cfg, _ = W.load_network(folder / name, build, P.Pix2PixConfig, family=family, network=network,
                                              device=device, manifest=man if name in man.get("files", {}) else None)
        except W.WeightsError as e:
            raise W.WeightsError(f"--init-from {folder}: {e}") from None
        return net.requires_grad_(True).train(), file_cfg

    if not (folder / files["G"]).is_file():
        raise W.WeightsError(f"--init-from {folder}: {files['G']} not found")
    G, file_cfg = load(files["G"], P.UNetGenerator, "G")
    for f in G_FIELDS:
        given = getattr(args, f, None)
        if given is not None and given != getattr(file_cfg, f):
            raise InputError(f"--init-from {folder}: its generator has {f} {getattr(file_cfg, f)}, not {given}")
    cfg = dataclasses.replace(cfg, **{f: getattr(file_cfg, f) for f in G_FIELDS})
    D, d_loaded = None, False
    if args.objective == "cgan":
        D_file = d_cfg = None
        if (folder / files["D"]).is_file():
            D_file, d_cfg = load(files["D"], P.PatchDiscriminator, "D")
            # D's size not given on the command line: the file's
            cfg = dataclasses.replace(cfg, **{f: getattr(d_cfg, f) for f in ("ndf", "n_layers_d")
                                             if getattr(args, f, None) is None})
        d_loaded = d_cfg is not None and (d_cfg.ndf, d_cfg.n_layers_d) == (cfg.ndf, cfg.n_layers_d)
        D = D_file if d_loaded else P.PatchDiscriminator(cfg).to(device)
        print(f"--init-from {folder}: G from {files['G']}; "
              + (f"D from {files['D']}" if d_loaded else
                 f"a fresh D (ndf {cfg.ndf}, n_layers_d {cfg.n_layers_d}: "
                 + ("no discriminator file there)" if d_cfg is None else
                    f"the file's is ndf {d_cfg.ndf}, n_layers_d {d_cfg.n_layers_d})")), file=sys.stderr)
    entry = man.get("files", {}).get(files["G"], {})
    lineage = (int(entry.get("steps", 0)), entry.get("command") or f"(weights from {folder})")
    return G, D, cfg, lineage, d_loaded
