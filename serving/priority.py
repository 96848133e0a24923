"""Cooperative priority between interactive requests and background work in one process.

A class of students shares one app: slider moves must answer at once while a live
training run, an inpainting optimisation or a tiled translation is under way.  On a
CPU the work of all of them competes for the same cores and for Python's interpreter
lock, and the operating system knows nothing of what is urgent.  So the app says it:

* an interactive handler (a slider, a poll) runs inside ``with interactive():``;
* long background work calls ``yield_to_interactive()`` between its steps (a training
  step, an optimisation step): while interactive requests are in flight it sleeps
  (releasing the interpreter lock and the core) for at most ``max_wait`` seconds; and while
  people are active (an interactive request within the last ``RECENT_S`` seconds) it keeps
  to a duty cycle — it works at most ``duty`` of the time — so that the requests' parts
  that run outside the handler (the web server's own work) find the interpreter free.
  Background work is slowed down in a busy class, never starved.

Cooperation alone cannot pause a single long PyTorch call (a CycleGAN forward pass, an SR
upscale), and each request also costs the web server's own Python work. So, in addition, the
operating system is told: background work runs in threads with a *lower scheduling priority*
(``lower_thread_priority``; Linux keeps one nice value per thread) — the live trainer's thread,
and the heavy jobs, which the tabs hand to ``run_in_background`` / ``iterate_in_background``.
When the cores are busy, the scheduler then runs the interactive threads first; when they are
idle, background work uses them fully.

Nothing here depends on the web framework; without interactive requests it costs one
integer comparison per step.
"""
from __future__ import annotations

import contextvars
import os
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

RECENT_S = 1.0          # "people are active": an interactive request started this recently

_lock = threading.Lock()
_in_flight = 0
_last_request = -1e9    # time.perf_counter() of the last interactive request's start
_local = threading.local()   # per background thread: when its current work slice started


@contextmanager
def interactive():
    """Mark the enclosed work as interactive (background work gives way while it runs)."""
    global _in_flight, _last_request
    with _lock:
        _in_flight += 1
        _last_request = time.perf_counter()
    try:
        yield
    finally:
        with _lock:
            _in_flight -= 1


def in_flight() -> int:
    """How many interactive requests are running now."""
    return _in_flight


def active() -> bool:
    """Whether people are using the app right now (an interactive request in the last RECENT_S s)."""
    return _in_flight > 0 or time.perf_counter() - _last_request < RECENT_S


def yield_to_interactive(max_wait: float = 0.05, duty: float = 0.3, poll: float = 0.002) -> float:
    """Give way to interactive requests; call between steps of background work. Returns the time slept.

    While requests are in flight: sleep until they finish, at most ``max_wait`` s. Otherwise, while
    people are active: sleep so that this thread works at most ``duty`` of the time (the work since
    the last call × (1/duty − 1), at most ``max_wait``). When nobody is using the app: no sleep.
    """
    now = time.perf_counter()
    start = getattr(_local, "slice_start", None)
    _local.slice_start = now
    if not active():
        return 0.0
    if _in_flight > 0:
        while _in_flight > 0 and time.perf_counter() - now < max_wait:
            time.sleep(poll)
    elif start is not None and 0.0 < duty < 1.0:
        time.sleep(min(max_wait, (now - start) * (1.0 / duty - 1.0)))
    _local.slice_start = time.perf_counter()
    return _local.slice_start - now


# ------------------------------------------------------------------ OS priority of background threads

BACKGROUND_NICE = 10    # nice value of background threads (0 = normal, 19 = lowest): ~1/10 of a normal
                        # thread's share of a core when both want it, all of it when the core is free


def lower_thread_priority(nice: int = BACKGROUND_NICE) -> bool:
    """Give the *calling thread* (only) a lower OS scheduling priority. Returns whether it could.

    Linux keeps a nice value per thread, so this does not touch the other threads of the process.
    A priority, once lowered, cannot be raised again without privileges: call it only in threads
    that do background work for their whole life (the pool below, the live trainer's thread).
    Elsewhere (macOS, Windows) it does nothing.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        return True
    except (OSError, AttributeError, ValueError):
        return False


def thread_priority() -> int | None:
    """The calling thread's nice value (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _background_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="background",
                                       initializer=lower_thread_priority)
        return _pool


def run_in_background(fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` in a low-priority thread and wait for its result.

    Exceptions propagate to the caller. The caller's context variables travel with the call
    (web frameworks keep the current request and its progress bar in them).
    """
    ctx = contextvars.copy_context()
    return _background_pool().submit(ctx.run, fn, *args, **kwargs).result()


_END = object()


def iterate_in_background(gen_fn, *args, **kwargs):
    """Iterate the generator ``gen_fn(*args, **kwargs)`` in a low-priority thread; yield its items.

    The producer runs at most one item ahead of the consumer. Its exception is raised here;
    closing this generator (a client that went away) stops the producer at its next item.
    """
    ctx = contextvars.copy_context()
    box: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in gen_fn(*args, **kwargs):
                if not put((item, None)):
                    return                       # the consumer is gone: the generator is closed here
        except BaseException as e:  # noqa: BLE001 -- handed to the consumer, raised there
            put((_END, e))
            return
        put((_END, None))

    future = _background_pool().submit(ctx.run, produce)
    try:
        while True:
            try:
                item, err = box.get(timeout=0.5)
            except queue.Empty:
                if future.done() and box.empty():
                    future.result()              # raises what killed the producer, if anything
                    return
                continue
            if item is _END:
                if err is not None:
                    raise err
                return
            yield item
    finally:
        stop.set()
