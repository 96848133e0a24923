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

Nothing here depends on the web framework; without interactive requests it costs one
integer comparison per step.
"""
from __future__ import annotations

import threading
import time
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
