"""The face DCGAN recipe on aligned CelebA (``python -m ganmodels.train faces --data-dir DIR``).

What a 8,000-image set needs to train well on a CPU, on top of Radford et al.'s DCGAN:

* horizontal flips of the real faces (free data: faces are roughly symmetric);
* DiffAugment (Zhao et al. 2020) on everything D sees — translation, colour, cutout;
* the non-saturating loss with a small lazy R1 penalty on D (Mescheder et al. 2018;
  lazy as in StyleGAN2: every ``--r1-every`` D steps, weighted by that interval);
* the exponential moving average of G's weights is the shipped G;
* bfloat16 autocast for the forward passes where the CPU runs it natively.

The learning rate is constant by default (``--decay-from 1``) so that a run can be
extended with ``--resume --steps N`` across sessions.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ganmodels import augment
from ganmodels import weights as W
from ganmodels import data
from ganmodels.errors import InputError
from ganmodels.losses import LOSSES, GANObjective, d_loss, d_prob, g_loss, r1_penalty
from ganmodels.inference import face_attributes as FA
from ganmodels.models import face_classifier as FC
from ganmodels.models import faces
from ganmodels.training.ema import EMA
from ganmodels.recipes.common import add_gan_args, gan_run
from ganmodels.training.loop import Run, config_from_args

DEFAULT_STEPS = 10000
DATA_DESC = (f"aligned CelebA faces 000001–008000 (89×109, framed to 64×64: crop {faces.FRAME_BOX}, "
             f"Lanczos), horizontal flips; {faces.LICENCE}")


def face_batches(images: torch.Tensor, batch_size: int, *, seed: int = 0, flip: bool = True,
                 rank: int = 0, world: int = 1, channels_last: bool = False):
    """Endless shuffled batches of uint8 (N, 64, 64, 3) faces → float (B, 3, 64, 64) in [-1, 1],
    each face mirrored left–right with probability ½ when ``flip``."""
    x = images.permute(0, 3, 1, 2)   # a view: (N, 3, 64, 64) uint8
    g = torch.Generator().manual_seed(seed + 7 + 1000 * rank)
    for b in data.batches(x, batch_size, seed=seed, rank=rank, world=world):
        b = b.float().div_(127.5).sub_(1.0)
        if flip:
            m = torch.rand(b.shape[0], generator=g) < 0.5
            b[m] = b[m].flip(3)
        yield b.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


class FacesObjective(GANObjective):
    """The adversarial objective with lazy R1, bf16 autocast for the forward passes, and G's EMA."""

    def __init__(self, G, D, ema: EMA, *, r1_every: int = 16, bf16: bool = False, **kw):
        super().__init__(G, D, **kw)
        self.ema, self.r1_every, self.bf16, self.d_steps = ema, max(1, r1_every), bf16, 0

    def _autocast(self):
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)

    def d_loss(self, x):
        # (1) Update D: maximise log D(x) + log(1 − D(G(z)))
        z = self.sample_z(x.shape[0], x.device)
        with self._autocast():
            with torch.no_grad():
                fake = self.G(z)
            r = self.D(x).float()
            f = self.D(fake).float()
        loss = d_loss(self.loss, r, f, self.real_label)
        logs = {}
        if self.r1_gamma > 0 and self.d_steps % self.r1_every == 0:
            # lazy R1 in float32: ½γ·E‖∇ₓD(x)‖², every r1_every steps, weighted by r1_every
            r1, _ = r1_penalty(self.D, x)
            loss = loss + 0.5 * self.r1_gamma * self.r1_every * r1
            logs["r1"] = r1.item()
        self.d_steps += 1
        logs.update(d_loss=loss.item(), d_real=d_prob(r).mean().item(),
                    d_fake=d_prob(f).mean().item())
        return loss, logs

    def g_loss(self, x):
        # (2) Update G: minimise −log D(G(z)) (non-saturating)
        z = self.sample_z(x.shape[0], x.device)
        with self._autocast():
            f = self.D(self.G(z)).float()
        loss = g_loss(self.loss, f)
        return loss, {"g_loss": loss.item()}

    def after_step(self):
        self.ema.update(self.G.module if hasattr(self.G, "module") else self.G)


def add_args(p):
    add_gan_args(p, losses=LOSSES)
    p.add_argument("--z-dim", "--z_dim", type=int, default=None)
    p.add_argument("--ngf", type=int, default=None)
    p.add_argument("--ndf", type=int, default=None)
    p.add_argument("--mapping", type=int, default=None, help="fully connected z → z layers before G's "
                   "projection (0: none)")
    p.add_argument("--r1", type=float, default=0.2, help="R1 weight γ on D's gradient at real faces (0: off)")
    p.add_argument("--r1-every", type=int, default=16, help="lazy R1: every this many D steps")
    p.add_argument("--bf16", type=int, choices=(0, 1), default=0,
                   help="bfloat16 autocast for the forward passes on the CPU (1: on; pays only where the "
                        "CPU has native bf16 — AMX or AVX512-BF16 — and slows emulated ones down)")
    p.add_argument("--channels-last", type=int, choices=(0, 1), default=1,
                   help="channels-last memory layout for training on the CPU (oneDNN's faster layout; 1: on)")
    p.add_argument("--flip", type=int, choices=(0, 1), default=1, help="random horizontal flips (1: on)")
    p.add_argument("--diffaug", default="translation,color,cutout",
                   help="DiffAugment policy for D ('' = none)")
    p.add_argument("--classifier", default=str(W.DEFAULT_DIR / FC.FILE),
                   help="the face-attribute classifier that reads the exported G's samples to build "
                        f"{FA.FILE} (the tab's attribute vectors); '' = do not export them")


def make_run(args) -> Run:
    if not args.data_dir:
        raise InputError("faces needs --data-dir: the folder holding celeba/img_align_celeba_half/ "
                         "and celeba/list_attr_celeba.txt")
    cfg = config_from_args(faces.FacesConfig, args)
    classifier = None
    if args.classifier:
        if not Path(args.classifier).is_file():
            raise InputError(f"no face classifier at {args.classifier} (--classifier): train it first with "
                             "'python -m ganmodels.train face_classifier --data-dir DIR --export weights', "
                             "or pass --classifier '' to export G and D without the attribute vectors")
        classifier, _, _ = W.load_network(args.classifier, FC.FaceClassifier, FC.FaceClassifierConfig,
                                          family=FC.FAMILY, network="C")
    dev = torch.device(args.device)
    G, D = faces.Generator(cfg).to(dev), faces.Discriminator(cfg).to(dev)
    cl = bool(args.channels_last) and dev.type == "cpu"
    if cl:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    ema = EMA(G, args.ema, warmup=True)
    out = Path(args.out or "runs/faces")
    X, _, _ = faces.load_faces(args.data_dir, "train", cache_dir=out)   # only 000001–008000
    x = torch.from_numpy(X)
    batch = args.batch or 64
    obj = FacesObjective(G, augment.seen_by_objective(D, args.diffaug), ema, loss=args.loss,
                         z_dim=cfg.z_dim, real_label=args.real_label, r1_gamma=args.r1,
                         r1_every=args.r1_every, bf16=bool(args.bf16) and dev.type == "cpu")
    z_fixed = torch.randn(64, cfg.z_dim, generator=torch.Generator().manual_seed(1234)).to(dev)

    @torch.no_grad()
    def sample():
        return data.image_grid(data.to_uint8(ema.shadow(z_fixed)), nrow=8)

    def export(path: Path):
        hashes = faces.save(ema.shadow, D, cfg, path)
        if classifier is not None:   # the attribute vectors of this G, read by the classifier
            G_eval = ema.shadow.eval()
            attrs = FA.compute(lambda z: G_eval(z.to(dev)).float().cpu(),
                               lambda x: torch.sigmoid(classifier(x)), cfg.z_dim)
            hashes[FA.FILE] = FA.save(attrs, Path(path) / FA.FILE,
                                      extra={"classifier": Path(args.classifier).name,
                                             "classifier_sha256": W.sha256(args.classifier)})
        return hashes

    return gan_run(args, G=G, D=D, ema=ema, objective=obj,
                   data=face_batches(x, batch, seed=args.seed, flip=bool(args.flip), rank=args.rank,
                                     world=args.world, channels_last=cl),
                   export=export, data_desc=DATA_DESC, sample=sample, default_steps=DEFAULT_STEPS)
