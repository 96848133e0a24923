"""What the GAN recipes share: their common options, G and D built from the flags, the sample sheet
and export of G's moving average, and the Run they build (Adam for G and D, LR decay)."""
from __future__ import annotations

import torch

from ganmodels import data
from ganmodels.training.loop import Run, config_from_args, decay_schedulers


def add_gan_args(p, *, losses, real_label: bool = True, lr_g_help: str | None = None,
                 lr_d_help: str | None = None) -> None:
    """The options every GAN recipe shares: loss, Adam learning rates and β₁, EMA of G, LR decay."""
    p.add_argument("--loss", choices=list(losses), default="ns")
    p.add_argument("--lr-g", type=float, default=2e-4, help=lr_g_help)
    p.add_argument("--lr-d", type=float, default=2e-4, help=lr_d_help)
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--ema", type=float, default=0.999, help="decay of the moving average of G (the shipped G)")
    p.add_argument("--decay-from", type=float, default=1.0,
                   help="learning rates decay linearly to 0 from this share of --steps (1: constant)")
    if real_label:
        p.add_argument("--real-label", type=float, default=1.0, help="one-sided label smoothing (e.g. 0.9)")


def gan_run(args, *, G, D, ema, objective, data, export, data_desc, sample, default_steps: int,
            g_params=None, d_params=None) -> "Run":
    """A GAN recipe's Run: Adam for G and D (lr-g/lr-d, β₁), the LR decay, G, D and G's EMA checkpointed."""
    betas = (args.beta1, 0.999)
    opt_g = torch.optim.Adam(list(G.parameters()) if g_params is None else g_params, lr=args.lr_g, betas=betas)
    opt_d = torch.optim.Adam(list(D.parameters()) if d_params is None else d_params, lr=args.lr_d, betas=betas)
    return Run(modules={"G": G, "D": D, "G_ema": ema.shadow}, optimizers={"G": opt_g, "D": opt_d},
               objective=objective, data=data, export=export, data_desc=data_desc, sample=sample,
               schedulers=decay_schedulers((opt_g, opt_d), args.steps or default_steps, args.decay_from))


def gan_networks(args, config_cls, generator, discriminator):
    """(cfg, device, G, D): the family's config from the flags (its defaults where a flag is not
    given), and G then D built from it (in that order: the seed draws G's weights first) on --device."""
    cfg = config_from_args(config_cls, args)
    dev = torch.device(args.device)
    return cfg, dev, generator(cfg).to(dev), discriminator(cfg).to(dev)


def ema_sheet(ema, fixed: tuple, nrow: int):
    """A Run's ``sample``: G's moving average on the same fixed inputs every time, as one uint8 grid."""

    @torch.no_grad()
    def sample():
        return data.image_grid(data.to_uint8(ema.shadow(*fixed)), nrow=nrow)

    return sample


def ema_export(save, ema, D, cfg):
    """A Run's ``export``: the family's ``save`` of G's moving average (the shipped G) and D."""
    return lambda out: save(ema.shadow, D, cfg, out)
