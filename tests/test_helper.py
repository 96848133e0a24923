"""The drawing helper process (demo.helper) and the Theory tab's kept, blitted figures (demo.theory)."""
from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from demo import theory as TH
from demo.helper import Helper
from ganmodels.errors import InputError


def _pid() -> int:
    return os.getpid()


def _fail(msg: str):
    raise InputError(msg)


def _started(h: Helper, timeout: float = 60.0) -> Helper:
    h.start()
    t0 = time.time()
    while not h.ready and not h.broken and time.time() - t0 < timeout:
        time.sleep(0.05)
    assert h.ready, "the helper process did not start"
    return h


def test_helper_runs_in_its_own_process_and_passes_errors_back():
    h = _started(Helper())
    try:
        assert h.run(_pid) != os.getpid()
        with pytest.raises(InputError, match="bad value"):
            h.run(_fail, "bad value")
        assert h.remote_calls == 1 and not h.broken
    finally:
        h.close()


def test_helper_not_started_or_dead_draws_here():
    h = Helper()
    assert h.run(_pid) == os.getpid()           # not started: in this process
    _started(h)
    helper_pid = h.run(_pid)
    assert helper_pid != os.getpid()
    os.kill(helper_pid, signal.SIGKILL)           # the helper dies (killed, out of memory...)
    time.sleep(0.5)
    assert h.run(_pid) == os.getpid()            # this call and the next ones: here
    assert h.broken and h.run(_pid) == os.getpid()


def test_theory_views_drawn_in_the_helper_match_this_process():
    _started(TH.DRAWER)
    args = (list(TH.P_DATA)[1], 1.3, 0.7)
    remote = TH.drawn(TH.optimal_d_view)(*args)
    local = TH.optimal_d_view(*args)
    assert np.array_equal(remote[0], local[0]) and remote[1] == local[1]
    with pytest.raises(InputError):
        TH.drawn(TH.fid_view)(5.0, 1.0)


@pytest.mark.parametrize("view, first, other", [
    (TH.optimal_d_view, (list(TH.P_DATA)[1], 2.0, 1.0), (list(TH.P_DATA)[0], -1.0, 0.3)),
    (TH.dirac_view, ("simultaneous", 0.1, 1.0, 300), ("alternating", 0.3, 4.0, 1000)),
    (TH.gradients_view, (0.2,), (0.9,)),
    (TH.inception_view, (4, 0.7), (10, 0.2)),
    (TH.fid_view, (2.0, 0.5), (0.0, 1.0)),
])
def test_kept_figures_redraw_what_the_settings_say(view, first, other):
    """Blitting keeps the background per axis range: coming back to a setting gives the same picture,
    and another setting a different one of the same size."""
    a = view(*first)[0]
    b = view(*other)[0]
    c = view(*first)[0]
    assert a.shape == b.shape and a.dtype == np.uint8
    assert not np.array_equal(a, b)
    assert np.array_equal(a, c)


def test_the_theory_helper_does_without_torch():
    """The helper imports demo.theory for its figures; torch (0.4 GB here) must not come with it."""
    import subprocess
    import sys

    code = "import sys, demo.theory; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_pools_left_open_are_shut_down_at_exit(monkeypatch):
    """A helper's pool that nobody closed is shut down by the exit hook (before the interpreter's teardown,
    where collecting it printed "Exception ignored in ... weakref_cb")."""
    import weakref

    from demo import helper as H

    monkeypatch.setattr(H, "_POOLS", weakref.WeakSet())    # this test's pools only: other tests keep theirs
    h = _started(Helper())
    pool = h._pool
    assert set(H._POOLS) == {pool}
    assert h.run(_pid) != os.getpid()
    H._shutdown_pools()
    with pytest.raises(RuntimeError):        # "cannot schedule new futures after shutdown"
        pool.submit(_pid)
    assert h.run(_pid) == os.getpid()        # and the helper then draws in this process
