"""A helper process for the app's drawings: matplotlib off the server's interpreter lock.

Drawing one matplotlib figure costs 0.1–0.4 s of pure Python on this machine, all of it under the
interpreter lock that every request of every student needs too: with a class dragging the Theory tab's
sliders, the figures (one at a time: matplotlib is not thread-safe) queued for seconds and stalled every
other slider of the app (``bench/classroom.py``).  A :class:`Helper` draws in one small process of its own
(spawned in the background when the tab is built); the request's thread waits for the answer without
holding the lock, so the other requests run meanwhile on the other cores.  Until the helper has started,
or if it cannot (a sandbox without processes), or if it dies, drawing happens in this process as before.

The function and its arguments go to the helper by pickling: module-level functions of plain values.
"""
from __future__ import annotations

import atexit
import os
import threading
import time
import weakref

_POOLS: "weakref.WeakSet" = weakref.WeakSet()   # every helper pool of this process, shut down at exit


def spawn_pool():
    """A one-process pool (spawned, so no forked locks) whose process ends with this app's.

    Pools still open when the interpreter exits are shut down by :func:`_shutdown_pools` first: one
    collected during the interpreter's teardown prints "Exception ignored in ... weakref_cb".
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=exit_with_parent, initargs=(os.getpid(),))
    _POOLS.add(pool)
    return pool


@atexit.register
def _shutdown_pools() -> None:
    for pool in list(_POOLS):
        try:
            pool.shutdown(wait=True, cancel_futures=True)
        except Exception:  # noqa: BLE001 -- a broken pool: nothing left to shut down
            pass


def exit_with_parent(parent_pid: int, every_s: float = 1.0) -> None:
    """Run in a helper process: end it when the app that started it is gone.

    A helper whose app was killed (not shut down) would otherwise wait for work forever.
    """
    def watch():
        while True:
            time.sleep(every_s)
            if os.getppid() != parent_pid:
                os._exit(0)
    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _warm(prepare) -> int:
    """In the helper, at start: import what its drawings need (unpickling ``prepare`` imports its module)
    and run ``prepare()`` (e.g. draw each figure once), so that the first request is quick."""
    if prepare is not None:
        prepare()
    return os.getpid()


class Helper:
    """One drawing process, started on :meth:`start`; :meth:`run` falls back to this process."""

    def __init__(self, prepare=None, timeout_s: float = 60.0):
        """``prepare``: a module-level function the helper runs once when it starts."""
        self.prepare, self.timeout_s = prepare, timeout_s
        self._lock = threading.Lock()
        self._pool = None
        self._ready = threading.Event()
        self.broken = False           # the helper could not start or died: draw here from now on
        self.remote_calls = 0

    def start(self) -> None:
        """Spawn the helper now (returns at once; it imports in the background)."""
        with self._lock:
            if self._pool is not None or self.broken:
                return
            try:
                self._pool = spawn_pool()
                fut = self._pool.submit(_warm, self.prepare)
            except Exception:  # noqa: BLE001 -- no helper process here: draw in this process
                self._fail()
                return
        fut.add_done_callback(lambda f: self._ready.set() if f.exception() is None else self._fail())

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and not self.broken

    def run(self, fn, *args):
        """fn(*args), in the helper when it is up; exceptions raised by fn come back as raised."""
        pool = self._pool if self.ready else None
        if pool is None:
            return fn(*args)
        from concurrent.futures.process import BrokenProcessPool

        try:
            fut = pool.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError):        # died, or shut down: draw here from now on
            self._fail()
            return fn(*args)
        try:
            out = fut.result(timeout=self.timeout_s)
        except BrokenProcessPool:
            self._fail()
            return fn(*args)
        self.remote_calls += 1
        return out

    def _fail(self) -> None:
        self.broken = True
        self.close()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        self._ready.clear()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
