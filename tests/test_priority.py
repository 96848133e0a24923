"""serving.priority: background work gives way to interactive requests, and is never starved."""
import contextlib
import contextvars
import sys
import threading
import time

import pytest

from serving import priority


def test_no_wait_when_nobody_is_active(monkeypatch):
    monkeypatch.setattr(priority, "_last_request", -1e9)
    assert priority.in_flight() == 0 and not priority.active()
    t0 = time.perf_counter()
    for _ in range(1000):
        assert priority.yield_to_interactive() == 0.0
    assert time.perf_counter() - t0 < 0.5


@contextlib.contextmanager
def request_in_flight():
    """An interactive request running in another thread until the block ends (yields its release event)."""
    release = threading.Event()

    def request():
        with priority.interactive():
            release.wait(5)

    th = threading.Thread(target=request)
    th.start()
    try:
        for _ in range(1000):                    # wait until the request is in flight
            if priority.in_flight():
                break
            time.sleep(0.002)
        yield release
    finally:
        release.set()
        th.join()


def test_waits_while_a_request_runs_then_resumes():
    with request_in_flight() as release:
        assert priority.in_flight() == 1 and priority.active()
        threading.Timer(0.05, release.set).start()
        waited = priority.yield_to_interactive(max_wait=2.0)
        assert 0.03 <= waited < 1.0              # slept until the request finished, not the full max_wait
    assert priority.in_flight() == 0


def test_never_starved_by_a_long_request():
    with request_in_flight():
        assert priority.in_flight() == 1
        t0 = time.perf_counter()
        priority.yield_to_interactive(max_wait=0.05)
        assert time.perf_counter() - t0 < 0.5    # bounded by max_wait (plus scheduling slack)


def test_duty_cycle_while_people_are_active(monkeypatch):
    monkeypatch.setattr(priority, "_last_request", time.perf_counter())   # a request just finished
    priority.yield_to_interactive()                                      # start a work slice
    busy_until = time.perf_counter() + 0.01
    while time.perf_counter() < busy_until:                               # 10 ms of "work"
        pass
    slept = priority.yield_to_interactive(max_wait=1.0, duty=0.5)
    assert 0.005 <= slept < 0.5                                           # ≈ as long as the work (duty ½)


def test_request_errors_still_leave_the_count_balanced():
    try:
        with priority.interactive():
            raise ValueError("boom")
    except ValueError:
        pass
    assert priority.in_flight() == 0


# ------------------------------------------------------------------ OS priority of background threads

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


@linux_only
def test_lower_thread_priority_touches_only_the_calling_thread():
    before = priority.thread_priority()
    if before >= 19:
        pytest.skip("this test process already runs at the lowest priority")
    target = min(before + 5, 19)
    seen = {}

    def worker():
        seen["ok"] = priority.lower_thread_priority(target)
        seen["nice"] = priority.thread_priority()

    th = threading.Thread(target=worker)
    th.start()
    th.join()
    assert seen["ok"] and seen["nice"] == target
    assert priority.thread_priority() == before          # this thread kept its priority


@linux_only
def test_run_in_background_runs_at_lower_priority_and_returns_the_result():
    mine = priority.thread_priority()
    nice, name = priority.run_in_background(lambda: (priority.thread_priority(), threading.current_thread().name))
    assert nice >= max(mine, priority.BACKGROUND_NICE) and name.startswith("background")
    assert priority.thread_priority() == mine


def test_run_in_background_raises_the_callers_exception_and_keeps_context_variables():
    var = contextvars.ContextVar("request", default=None)
    var.set("student 7")
    assert priority.run_in_background(var.get) == "student 7"   # e.g. gradio's event id for progress bars

    def boom():
        raise ValueError("bad image")
    with pytest.raises(ValueError, match="bad image"):
        priority.run_in_background(boom)


def test_iterate_in_background_yields_every_item_then_raises_the_generators_error():
    def gen(n, fail):
        for i in range(n):
            yield i * i
        if fail:
            raise RuntimeError("NaN in step 3")
    assert list(priority.iterate_in_background(gen, 5, False)) == [0, 1, 4, 9, 16]
    got = []
    with pytest.raises(RuntimeError, match="NaN in step 3"):
        for v in priority.iterate_in_background(gen, 3, True):
            got.append(v)
    assert got == [0, 1, 4]


def test_closing_the_consumer_stops_the_producer():
    made, closed = [], threading.Event()

    def endless():
        try:
            i = 0
            while True:
                made.append(i)
                yield i
                i += 1
        finally:
            closed.set()

    it = priority.iterate_in_background(endless)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()                                            # the client went away
    assert closed.wait(5), "the background generator was not closed"
    assert len(made) <= 5                                 # it ran at most a couple of items ahead
