"""The exponential moving average of a generator's weights (Karras et al. 2018): the network a run ships.

    θ_avg ← decay · θ_avg + (1 − decay) · θ        after every training step

The average is smoother than the raw G, whose weights jump around the game's equilibrium;
its samples are visibly cleaner.  Buffers (batchnorm's running statistics) are copied, not averaged.
"""
from __future__ import annotations

import copy

import torch
import torch.nn as nn


class EMA:
    """A moving average of ``net``'s weights, kept in ``shadow`` (an eval-mode copy of ``net``).

    With ``warmup`` the decay of update t (counted from 0 since this object was made) is
    min(decay, (1 + t) / (10 + t)): a short run is not dominated by the untrained initial weights,
    as a plain 0.999 average would be for its first few thousand steps.
    """

    def __init__(self, net: nn.Module, decay: float = 0.999, *, warmup: bool = False):
        self.decay, self.warmup, self.t = decay, warmup, 0
        self.shadow = copy.deepcopy(net).eval().requires_grad_(False)

    def current_decay(self) -> float:
        """The decay the next :meth:`update` uses."""
        return min(self.decay, (1 + self.t) / (10 + self.t)) if self.warmup else self.decay

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        decay = self.current_decay()
        self.t += 1
        for s, p in zip(self.shadow.parameters(), net.parameters()):
            s.lerp_(p.detach(), 1.0 - decay)
        for s, b in zip(self.shadow.buffers(), net.buffers()):
            s.copy_(b)
