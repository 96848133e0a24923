"""serving.perf: CPU settings for serving a class (threads per request, bfloat16 where measured faster)."""
import numpy as np
import torch

from ganmodels.models import classifier as C
from serving import perf


def test_torch_threads_leave_a_share_of_the_cores_to_each_request():
    assert perf.torch_threads(1, cores=8) == 4
    assert perf.torch_threads(3, cores=8) == 2
    assert perf.torch_threads(4, cores=2) == 1            # never 0


def _timed(slow_under_autocast: bool):
    """A stand-in network: slower (by sleeping) either under bfloat16 autocast or in float32."""
    import time

    def run():
        on = torch.is_autocast_enabled("cpu")
        time.sleep(0.02 if on == slow_under_autocast else 0.002)
        return torch.zeros(8)
    return run


def test_bf16_pays_only_when_measured_faster_and_equal(monkeypatch):
    monkeypatch.delenv(perf.BF16_ENV, raising=False)
    assert perf.bf16_pays(_timed(slow_under_autocast=False)) is True
    assert perf.bf16_pays(_timed(slow_under_autocast=True)) is False
    # faster but different outputs: refused
    assert perf.bf16_pays(lambda: torch.full((8,), float(torch.is_autocast_enabled("cpu")))) is False
    # a layer without a bfloat16 kernel (here: raises) is refused, not an error
    def broken():
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("no bf16 kernel")
        return torch.zeros(2)
    assert perf.bf16_pays(broken) is False
    monkeypatch.setenv(perf.BF16_ENV, "0")
    assert perf.bf16_pays(_timed(slow_under_autocast=False)) is False


def test_classifier_predict_under_bf16_autocast_returns_float64():
    net = C.Classifier(C.ClassifierConfig(width=4, feat_dim=8)).eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    ref, _ = C.predict(net, x)
    with perf.cpu_bf16(True):
        probs, feats = C.predict(net, x)
    assert probs.dtype == np.float64 and feats.dtype == np.float64
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-2)
    assert np.abs(probs - ref).max() < 0.05


def test_bf16_pays_refuses_a_different_shape(monkeypatch):
    monkeypatch.delenv(perf.BF16_ENV, raising=False)
    assert perf.bf16_pays(lambda: torch.zeros(3 if torch.is_autocast_enabled("cpu") else 4)) is False
