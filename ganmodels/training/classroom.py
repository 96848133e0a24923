"""Live training for a whole class: one private 2-D run per browser session, on one shared thread.

``Scheduler`` trains every private run (``live.Trainer(..., scheduler=...)``) from ONE thread
(``workers`` threads where the server has cores to spare),
round-robin, ``slice_s`` seconds of training per run and turn: thirty started runs each get a
thirtieth of that thread, a run with bigger networks gets the same time (fewer steps), none
starves, and the rest of the machine's cores stay with the web server and the other tabs.
Runs that share their networks' shapes and training settings (``live.Trainer.batch_key``: a class
that started from the same preset) are trained together in one batched computation
(``ganmodels.training.batched``), a slice of ``slice_s`` per run (at most ``GROUP_SLICE_MAX_S``),
which gives each of them several times the steps that separate slices would.
Between slices it calls ``between_slices()`` (the app gives way to interactive requests there).

``PrivateRuns`` keeps the runs by session: at most ``cap`` of them (the next one is refused with a
message), and a run that nobody polled or drove for ``idle_s`` seconds — its browser tab was
closed — is closed and forgotten, so that its memory is freed.  The same scheduler thread does
this housekeeping once a second.  Nothing here imports gradio.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from ganmodels.errors import InputError
from ganmodels.training import batched
from ganmodels.training import live as T

SLICE_S = 0.01            # training time per run and turn
GROUP_SLICE_MAX_S = 0.1   # a batched slice of several runs: SLICE_S per run, at most this long
REAP_EVERY_S = 1.0        # how often idle runs are looked for
THREAD_NAME = "gan-class-scheduler"


class Scheduler:
    """``workers`` threads (one by default) for all scheduled trainers: round-robin slices, the run
    served longest ago first, never one run in two threads at once (see the module docstring)."""

    def __init__(self, *, slice_s: float = SLICE_S, workers: int = 1, batch: bool = True,
                 on_thread_start: Callable[[], object] | None = None,
                 between_slices: Callable[[], object] | None = None,
                 housekeeping: Callable[[], object] | None = None):
        self.slice_s = slice_s
        self.batch = batch                       # train runs that share networks and settings as one computation
        self.batched_slices = 0
        self.on_thread_start, self.between_slices, self.housekeeping = on_thread_start, between_slices, housekeeping
        self._cv = threading.Condition()
        self._trainers: list = []
        self._running: set[int] = set()          # id() of the trainers inside a slice now
        self._served: dict[int, float] = {}      # id() → when its last slice began
        self._closed = False
        self.slices = 0
        self.threads = [threading.Thread(target=self._main, args=(i,), name=f"{THREAD_NAME}-{i}", daemon=True)
                        for i in range(max(1, int(workers)))]
        for t in self.threads:
            t.start()

    def add(self, trainer) -> None:
        with self._cv:
            if trainer not in self._trainers:
                self._trainers.append(trainer)
            self._cv.notify_all()

    def wake(self, trainer=None) -> None:
        """A trainer has work (Start, Step): make sure it is in the rotation and a thread awake."""
        if trainer is not None:
            self.add(trainer)
        else:
            with self._cv:
                self._cv.notify_all()

    def remove(self, trainer) -> None:
        with self._cv:
            if trainer in self._trainers:
                self._trainers.remove(trainer)
            self._served.pop(id(trainer), None)

    @property
    def trainers(self) -> list:
        with self._cv:
            return list(self._trainers)

    def _pick(self) -> list:
        """(under the lock) The trainer with work that was served longest ago, and (``batch``) the
        other ready runs it can be trained with in one batched computation; [] when none has work."""
        ready = [t for t in self._trainers if id(t) not in self._running and t.wants_work()]
        if not ready:
            return []
        ready.sort(key=lambda t: self._served.get(id(t), 0.0))
        group = [ready[0]]
        key = ready[0].batch_key() if self.batch else None
        if key is not None:
            group += [t for t in ready[1:] if t.batch_key() == key][:batched.GROUP_MAX - 1]
        now = time.monotonic()
        for t in group:
            self._running.add(id(t))
            self._served[id(t)] = now
        return group

    def _main(self, index: int) -> None:
        import torch

        torch.set_num_threads(1)
        if self.on_thread_start is not None:
            self.on_thread_start()
        next_house = 0.0
        while True:
            if index == 0 and self.housekeeping is not None and time.monotonic() >= next_house:
                next_house = time.monotonic() + REAP_EVERY_S
                try:
                    self.housekeeping()
                except Exception:  # noqa: BLE001 -- housekeeping must never stop everybody's training
                    pass
            with self._cv:
                if self._closed:
                    return
                group = self._pick()
                if not group:
                    self._cv.wait(REAP_EVERY_S)
                    continue
            try:
                if len(group) > 1:          # several runs that can share one batched computation
                    if batched.train_group(group, min(GROUP_SLICE_MAX_S, self.slice_s * len(group)),
                                           between=self.between_slices, yield_every_s=self.slice_s):
                        self.slices += 1
                        self.batched_slices += 1
                elif group[0].run_slice(self.slice_s):
                    self.slices += 1
            except Exception:  # noqa: BLE001 -- one broken run must not stop everybody's
                pass
            finally:
                with self._cv:
                    for t in group:
                        self._running.discard(id(t))
            if self.between_slices is not None:
                self.between_slices()

    def close(self, timeout: float = 5.0) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        for t in self.threads:
            if t is not threading.current_thread():
                t.join(timeout)


class CapReached(InputError):
    """The server already runs as many private runs as it may."""


class PrivateRuns:
    """Private 2-D runs by session id: created on demand up to ``cap``, closed after ``idle_s``
    seconds without a poll or an action (see the module docstring)."""

    def __init__(self, make_trainer: Callable[[T.RunConfig, "Scheduler"], T.Trainer], *, cap: int = 40,
                 idle_s: float = 600.0, scheduler: Scheduler | None = None, **scheduler_kw):
        self.make_trainer = make_trainer
        self.cap, self.idle_s = int(cap), float(idle_s)
        self._lock = threading.Lock()
        self._runs: dict[str, tuple[T.Trainer, float]] = {}    # session → (trainer, last seen, monotonic)
        self.closed_idle = 0
        self.scheduler = scheduler or Scheduler(housekeeping=self.reap, **scheduler_kw)

    def __len__(self) -> int:
        """Runs held (those being built included: each counts against the cap)."""
        with self._lock:
            return len(self._runs)

    def get(self, session: str | None) -> T.Trainer | None:
        """The session's run (and it counts as seen now), or None."""
        if not session:
            return None
        with self._lock:
            entry = self._runs.get(session)
            if entry is None:
                return None
            self._runs[session] = (entry[0], time.monotonic())
            return entry[0]

    def create(self, session: str, cfg: T.RunConfig) -> T.Trainer:
        """A new run for ``session`` (its old one, if any, is closed). CapReached when the server
        already runs ``cap`` private runs; InputError for a bad config."""
        if not session:
            raise InputError("a private run belongs to a browser session: open the page in a browser")
        with self._lock:
            old = self._runs.pop(session, None)
            if len(self._runs) >= self.cap:
                if old is not None:
                    self._runs[session] = old
                raise CapReached(
                    f"The server already trains {self.cap} private runs, as many as it may (its --max-private-runs): "
                    "watch the lecturer's run for now, and try again in a few minutes — runs of closed tabs end "
                    f"after {self.idle_s / 60:.0f} min.")
            # reserve the slot while the networks are built (outside the lock)
            self._runs[session] = (None, time.monotonic())
        try:
            tr = self.make_trainer(cfg, self.scheduler)
        except BaseException:
            with self._lock:
                if self._runs.get(session, (1,))[0] is None:
                    del self._runs[session]
                    if old is not None:
                        self._runs[session] = old
            raise
        with self._lock:
            self._runs[session] = (tr, time.monotonic())
        if old is not None and old[0] is not None:
            old[0].close()
        return tr

    def release(self, session: str | None) -> bool:
        """Close ``session``'s run now (its page was closed). Returns whether it had one."""
        if not session:
            return False
        with self._lock:
            entry = self._runs.pop(session, None)
        if entry is None or entry[0] is None:
            return False
        entry[0].close()
        return True

    def reap(self, now: float | None = None) -> int:
        """Close the runs not seen for ``idle_s`` seconds; returns how many."""
        now = time.monotonic() if now is None else now
        with self._lock:
            old = [(s, tr) for s, (tr, seen) in self._runs.items() if tr is not None and now - seen > self.idle_s]
            for s, _ in old:
                del self._runs[s]
        for _, tr in old:
            tr.close()
        self.closed_idle += len(old)
        return len(old)

    def sessions(self) -> list[str]:
        """The sessions that have a run (not those whose run is being built)."""
        with self._lock:
            return [s for s, (tr, _) in self._runs.items() if tr is not None]

    def close(self) -> None:
        self.scheduler.close()
        with self._lock:
            runs = [tr for tr, _ in self._runs.values() if tr is not None]
            self._runs.clear()
        for tr in runs:
            tr.close()
