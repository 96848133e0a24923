"""Theory & metrics tab: the pure functions of ganmodels/theory.py against known values, the tab served
through the HTTP API, and the measured figures read from the manifest (a test manifest's numbers appear)."""
from __future__ import annotations

import json
import math
import urllib.request

import numpy as np
import pytest

from ganmodels import theory as T
from tests.conftest import api_call, make_tiny_weights, serve_tab

LOG4 = math.log(4)
X = np.linspace(-15, 15, 6001)


# ---------------------------------------------------------------- the optimal discriminator


def test_optimal_d_formula_at_points():
    got = T.optimal_d([0.3, 1.0, 0.0, 2.0, 0.0], [0.1, 1.0, 2.0, 0.0, 0.0])
    np.testing.assert_allclose(got, [0.75, 0.5, 0.0, 1.0, 0.5])
    # the log form (used for plotting) is the same function: σ(log p_data − log p_g)
    np.testing.assert_allclose(T.optimal_d_log(np.log([0.3, 1.0]), np.log([0.1, 3.0])), [0.75, 0.25])


def test_value_at_optimum_is_minus_log4_only_when_pg_equals_pdata():
    ld = T.gaussian_logpdf(X, 0.0, 1.0)
    assert T.value_at_optimum(X, ld, ld) == pytest.approx(-LOG4, abs=1e-9)
    assert T.jsd(X, ld, ld) == pytest.approx(0.0, abs=1e-9)
    for mu, s in ((0.5, 1.0), (0.0, 2.0), (3.0, 0.5)):
        lg = T.gaussian_logpdf(X, mu, s)
        v, j = T.value_at_optimum(X, ld, lg), T.jsd(X, ld, lg)
        assert v > -LOG4 + 1e-3, (mu, s, v)
        assert v == pytest.approx(-LOG4 + 2 * j, abs=1e-6)        # Goodfellow et al.'s Theorem 1
    far = T.gaussian_logpdf(X, 10.0, 0.5)                          # (almost) disjoint supports
    assert T.jsd(X, ld, far) == pytest.approx(math.log(2), abs=1e-3)
    assert T.value_at_optimum(X, ld, far) == pytest.approx(0.0, abs=2e-3)


def test_mixture_density_integrates_to_one():
    p = np.exp(T.mixture_logpdf(X, (-2.0, 2.0), (0.5, 0.5)))
    assert np.trapezoid(p, X) == pytest.approx(1.0, abs=1e-6)
    assert p[np.argmin(abs(X - 2))] > 10 * p[np.argmin(abs(X))]     # two modes, little mass between


# ---------------------------------------------------------------- the Dirac-GAN


def radius(tr):
    return np.hypot(tr[:, 0], tr[:, 1])


@pytest.mark.parametrize("loss", ["gan", "wgan"])
def test_dirac_gan_unregularised_does_not_converge(loss):
    sim = radius(T.dirac_gan(1.0, 1.0, loss=loss, lr=0.1, steps=2000))
    assert np.all(np.diff(sim) >= -1e-12)              # simultaneous steps: never closer to (0, 0)
    assert sim[-1] > 1.05 * sim[0]                     # … and strictly further away in the end
    alt = radius(T.dirac_gan(1.0, 1.0, loss=loss, lr=0.1, steps=2000, alternating=True))
    assert alt.min() > 0.9 * alt[0]                    # alternating steps circle, they never close in


@pytest.mark.parametrize("alternating", [False, True])
def test_dirac_gan_with_r1_spirals_in(alternating):
    r = radius(T.dirac_gan(1.0, 1.0, loss="gan", gamma=1.0, lr=0.1, steps=2000, alternating=alternating))
    assert r[-1] < 1e-6 * r[0]
    assert r[len(r) // 2] > r[-1]


def test_dirac_gan_steps_follow_the_gradient_field():
    th, ps, h, g = 0.7, -0.4, 0.05, 0.3
    dth, dps = T.dirac_field(th, ps, loss="gan", gamma=g)
    step = T.dirac_gan(th, ps, loss="gan", gamma=g, lr=h, steps=1)
    np.testing.assert_allclose(step[1], [th + h * dth, ps + h * dps])
    # the GAN's f'(0) = ½: at (θ, 0) D's slope grows by θ/2, G does not move
    np.testing.assert_allclose(T.dirac_field(1.0, 0.0, loss="gan"), (0.0, 0.5))
    np.testing.assert_allclose(T.dirac_field(1.0, 0.0, loss="wgan"), (0.0, 1.0))


def test_dirac_gan_stops_a_diverging_run():
    tr = T.dirac_gan(1.0, 1.0, loss="gan", gamma=5.0, lr=0.5, steps=2000)    # hγ = 2.5 > 2: overshoots
    assert len(tr) < 2001 and np.isfinite(tr).all() and radius(tr)[-1] > T.DIVERGED
    with pytest.raises(ValueError):
        T.dirac_gan(loss="lsgan")


# ---------------------------------------------------------------- the generator's two losses


def test_generator_losses_at_known_points():
    c = T.generator_losses(np.array([0.5, 0.01]))
    np.testing.assert_allclose(c["minimax"], [math.log(0.5), math.log(0.99)])
    np.testing.assert_allclose(c["nonsaturating"], [math.log(2), -math.log(0.01)])
    np.testing.assert_allclose(c["minimax_dd"], [-2.0, -1 / 0.99])
    np.testing.assert_allclose(c["nonsaturating_dd"], [-2.0, -100.0])
    np.testing.assert_allclose(c["minimax_dlogit"], [-0.5, -0.01])       # vanishes as D(G(z)) → 0
    np.testing.assert_allclose(c["nonsaturating_dlogit"], [-0.5, -0.99])  # stays near −1


def test_logit_gradients_are_the_derivatives_through_the_sigmoid():
    a = np.linspace(-6, 6, 25)
    eps = 1e-6
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    for name in ("minimax", "nonsaturating"):
        fd = (T.generator_losses(sig(a + eps))[name] - T.generator_losses(sig(a - eps))[name]) / (2 * eps)
        np.testing.assert_allclose(T.generator_losses(sig(a))[name + "_dlogit"], fd, rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------- IS and FID


def test_inception_score_extremes():
    assert T.inception_score(np.full((50, 10), 0.1)) == pytest.approx(1.0)
    assert T.inception_score(np.eye(10)[np.arange(100) % 10]) == pytest.approx(10.0)   # one-hot, even
    assert T.inception_score(np.eye(10)[np.zeros(100, int)]) == pytest.approx(1.0)     # one class only
    assert T.inception_score(T.toy_predictions(10, covered=3, confidence=1.0, n=300)) == pytest.approx(3.0)
    between = T.inception_score(T.toy_predictions(10, covered=10, confidence=0.9))
    assert 1.0 < between < 10.0
    with pytest.raises(ValueError):
        T.toy_predictions(10, covered=11)


def test_fid_example_estimate_and_exact_value():
    _, _, est, exact = T.fid_gaussian_example(2.0, 0.5)
    assert exact == pytest.approx(4.5)
    assert est == pytest.approx(exact, abs=0.25)
    _, _, same, zero = T.fid_gaussian_example(0.0, 1.0)
    assert zero == 0.0 and 0.0 <= same < 0.02


# ---------------------------------------------------------------- the measured figures (manifest)


def digit_metrics(fid: float, floor: float, cmd: str) -> dict:
    return {"dcgan": {"classifier_fid_to_test": fid, "classifier_fid_floor_train_vs_test": floor, "n_fid": 321,
                      "confident_share": 0.777, "eval_command": cmd}}


def test_measured_markdown_shows_the_manifest_numbers():
    from demo import theory as TH

    man = {"files": {"dcgan_G.safetensors": {"metrics": digit_metrics(31.415, 27.182, "cmd-A")}}}
    md = TH.measured_markdown(man)
    assert "31.415" in md and "27.182" in md and "`cmd-A`" in md and "0.777" in md
    man["files"]["dcgan_G.safetensors"]["metrics"]["dcgan"]["classifier_fid_to_test"] = 99.5
    assert "99.500" in TH.measured_markdown(man) and "31.415" not in TH.measured_markdown(man)
    # no faces entry: said plainly; with one, its numbers and command
    assert "not measured yet" in md.split("**Faces**")[1]
    man["files"]["faces_G.safetensors"] = {"metrics": {"faces": {
        "classifier_fid": {"samples_to_heldout": 12.5, "floor_train_to_heldout": 3.25,
                           "reference_40px_train_to_heldout": 20.75},
        "n_fid": 1000, "eval_command": "cmd-F"}}}
    faces_md = TH.measured_markdown(man).split("**Faces**")[1]
    assert "12.500" in faces_md and "3.250" in faces_md and "20.750" in faces_md and "cmd-F" in faces_md
    assert "not measured yet" not in faces_md
    # an empty manifest: nothing invented
    empty = TH.measured_markdown({})
    assert "31.415" not in empty and empty.count("not measured yet") == 4


def test_r1_is_read_from_the_training_command():
    from demo import theory as TH

    def man(cmd):
        return {"files": {"dcgan_G.safetensors": {"command": cmd}}}

    assert TH.shipped_dcgan_training(man("python -m ganmodels.train dcgan --r1 0.25"))["r1"] == 0.25
    assert "uses R1**, γ = 0.25" in TH.r1_markdown(man("python -m ganmodels.train dcgan --r1 0.25"))
    assert "without R1" in TH.r1_markdown(man("python -m ganmodels.train dcgan --steps 10"))
    assert "no training command" in TH.r1_markdown({})
    assert "does not parse" in TH.r1_markdown(man("python -m ganmodels.train dcgan --r1 lots"))


def test_srgan_quoted_figure_sits_beside_the_measured_table():
    from demo import srgan as SR

    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    outs = {m: np.clip(hr.astype(int) + rng.integers(-9, 10, hr.shape), 0, 255).astype(np.uint8)
            for m in ("bicubic", "srresnet", "srgan")}
    md = SR.metrics_markdown(outs, hr, hr[::4, ::4])
    measured, quoted = md.index("PSNR (dB, Y)"), md.index("Quoted (Ledig et al. 2017, Figure 2)")
    assert measured < quoted
    for v in ("21.59", "0.6423", "23.53", "0.7832", "21.15", "0.6868"):
        assert v in md[quoted:]
    assert "Quoted" not in SR.metrics_markdown(outs, None, hr[::4, ::4])      # real mode: no PSNR, no quote


# ---------------------------------------------------------------- the tab, served


@pytest.fixture(scope="module")
def theory_url(tmp_path_factory):
    from demo import theory as TH
    from demo.context import AppContext
    from ganmodels import weights as W

    out = make_tiny_weights(tmp_path_factory.mktemp("theory_weights"))
    W.update_manifest(out, "dcgan_G.safetensors", command="python -m ganmodels.train dcgan --r1 0.7 --steps 5",
                      metrics=digit_metrics(17.171, 8.642, "python -m ganmodels.evaluate dcgan --test-marker"))
    ctx = AppContext(store=W.WeightStore(out))
    with serve_tab(TH.build, ctx, "Theory & metrics") as (url, _):
        yield url


def component_value(url: str, elem_id: str) -> str:
    with urllib.request.urlopen(f"{url}/config", timeout=30) as r:
        cfg = json.loads(r.read())
    (value,) = [c["props"]["value"] for c in cfg["components"] if c.get("props", {}).get("elem_id") == elem_id]
    return value


def test_tab_shows_the_test_manifest_figures(theory_url):
    md = component_value(theory_url, "theory_measured")
    assert "17.171" in md and "8.642" in md and "--test-marker" in md
    assert "22.527" not in md                       # the shipped manifest's number is not typed in
    assert "γ = 0.7" in component_value(theory_url, "theory_r1")


def test_tab_endpoints(theory_url):
    from demo import theory as TH

    one = next(iter(TH.P_DATA))
    status, out = api_call(theory_url, "theory_optimal_d", [one, 0.0, 1.0])
    assert status == 200 and out["data"][0], out
    assert f"V(D\\*, G) = {-LOG4:.4f} nats" in out["data"][1]
    status, out = api_call(theory_url, "theory_optimal_d", [one, 2.0, 1.0])
    v = float(out["data"][1].split("V(D\\*, G) = ")[1].split(" nats")[0])
    assert v > -LOG4 + 0.1

    status, out = api_call(theory_url, "theory_dirac", ["simultaneous", 0.1, 1.0, 300])
    assert status == 200 and out["data"][0] and "GAN + R1, γ = 1" in out["data"][1], out
    status, out = api_call(theory_url, "theory_dirac", ["simultaneous", 0.5, 5.0, 2000])
    assert "**diverged**" in out["data"][1]

    status, out = api_call(theory_url, "theory_gradients", [0.01])
    assert status == 200 and "**-0.0100**" in out["data"][1] and "**-0.9900**" in out["data"][1], out

    status, out = api_call(theory_url, "theory_inception_score", [10, 1.0])
    assert "IS = 10.000" in out["data"][1], out
    status, out = api_call(theory_url, "theory_inception_score", [1, 1.0])
    assert "IS = 1.000" in out["data"][1], out

    status, out = api_call(theory_url, "theory_fid", [2.0, 0.5])
    assert "**4.5000**" in out["data"][1], out


def test_tab_answers_bad_input_with_a_message(theory_url):
    from demo import theory as TH
    from ganmodels.errors import InputError

    # a message the student sees (a gr.Error: Gradio adds its "title"), not a bare server error
    status, out = api_call(theory_url, "theory_dirac", ["sideways", 0.1, 1.0, 300])
    assert out.get("error") and "title" in out and "simultaneous" in out["error"], out
    status, out = api_call(theory_url, "theory_optimal_d", ["one Gaussian N(0, 1)", "abc", 1.0])
    assert out.get("error") and "title" in out, out
    # the tab's own checks, for values that get past the components
    with pytest.raises(InputError, match="Update must be one of"):
        TH.dirac_view("sideways", 0.1, 1.0, 300)
    with pytest.raises(InputError, match="Steps must be a whole number"):
        TH.dirac_view("simultaneous", 0.1, 1.0, 10.5)
    with pytest.raises(InputError, match="Width σ of p_g"):
        TH.optimal_d_view("one Gaussian N(0, 1)", 0.0, 0.0)


def test_tab_is_in_the_app():
    import app as A
    from demo import theory as TH

    assert ("Theory & metrics", "theory") in A.TABS
    assert TH.REQUIRES == ()            # shown even when no model loads
