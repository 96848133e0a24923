"""ganmodels.priority: background work gives way to interactive requests, and is never starved."""
import contextlib
import threading
import time

from ganmodels import priority


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
