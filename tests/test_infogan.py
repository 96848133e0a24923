"""InfoGAN + conditional GAN: networks, the MI term, matching, measurements, CLI and the tab's HTTP API.

Tiny seeded models only; nothing from ../shared.  The test on shipped weights is marked slow.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganmodels import weights as W
from ganmodels.errors import InputError
from ganmodels.evaluation import cgan as CGE
from ganmodels.evaluation import infogan as IGE
from ganmodels.models import cgan as CG
from ganmodels.models import infogan as IG
from ganmodels.recipes import infogan as IGR
from ganmodels.training.ema import EMA
from tests.conftest import CGAN_TINY as TINY_C
from tests.conftest import INFOGAN_TINY as TINY
from tests.conftest import make_tiny_infogan_weights, serve_tab


@pytest.fixture(scope="module")
def ctx(infogan_weights):
    """What app.py hands the tab: the tiny models and their weight store."""
    from demo.context import AppContext
    from ganmodels import MODELS

    store = W.WeightStore(infogan_weights)
    return AppContext(models={"infogan": MODELS["infogan"](store=store), "cgan": MODELS["cgan"](store=store),
                              "classifier": MODELS["classifier"](store=store)}, store=store)


@pytest.fixture(scope="module")
def models(ctx):
    return ctx.models


# ---------------------------------------------------------------- networks


def test_shapes():
    cfg = IG.InfoGANConfig(**TINY)
    G, D = IG.Generator(cfg), IG.Discriminator(cfg)
    z = torch.randn(5, cfg.z_dim)
    c_cat, c_cont = IG.sample_codes(5, cfg)
    assert c_cat.shape == (5,) and c_cont.shape == (5, 2)
    assert c_cont.min() >= -1 and c_cont.max() <= 1
    x = G(z, c_cat, c_cont)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    d, cat_logits, mu, logsig = D(x)
    assert d.shape == (5,) and cat_logits.shape == (5, 10) and mu.shape == (5, 2) and logsig.shape == (5, 2)
    assert torch.all(logsig == 0)            # σ fixed to 1 by default

    ccfg = CG.CGANConfig(**TINY_C)
    Gc, Dc = CG.Generator(ccfg), CG.Discriminator(ccfg)
    y = torch.tensor([0, 3, 9, 1, 2])
    xc = Gc(torch.randn(5, ccfg.z_dim), y)
    assert xc.shape == (5, 1, 28, 28)
    assert Dc(xc, y).shape == (5,)
    # the label matters to D (projection + label planes)
    assert not torch.allclose(Dc(xc, y), Dc(xc, (y + 1) % 10))


def test_codes_change_the_image():
    torch.manual_seed(0)
    G = IG.Generator(IG.InfoGANConfig(**TINY)).eval()
    z = torch.randn(1, 62).repeat(2, 1)
    a = G(z, torch.tensor([0, 1]), torch.zeros(2, 2))
    assert not torch.allclose(a[0], a[1])
    b = G(z, torch.tensor([0, 0]), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
    assert not torch.allclose(b[0], b[1])


# ---------------------------------------------------------------- the MI term


def test_gaussian_nll_matches_torch():
    x, mu, ls = torch.randn(7, 2), torch.randn(7, 2), torch.randn(7, 2) * 0.3
    ref = -torch.distributions.Normal(mu, ls.exp()).log_prob(x)
    assert torch.allclose(IG.gaussian_nll(x, mu, ls), ref, atol=1e-5)


def test_mi_loss_known_inputs():
    c_cat = torch.tensor([0, 1, 2, 3])
    c_cont = torch.tensor([[0.5, -0.5]] * 4)
    zero = torch.zeros(4, 2)
    # uniform Q over 10 classes: cross-entropy = log 10, L_I = H(c) − CE = 0
    loss, ce, nll, acc = IG.mi_loss(torch.zeros(4, 10), c_cont, zero, c_cat, c_cont)
    assert ce.item() == pytest.approx(math.log(10), abs=1e-6)
    assert nll.item() == pytest.approx(2 * 0.5 * math.log(2 * math.pi), abs=1e-6)   # μ = c: only the constant
    assert IG.mi_lower_bound(ce.item(), IG.InfoGANConfig()) == pytest.approx(0.0, abs=1e-6)
    # confident and right: CE → 0, accuracy 1, L_I → log 10 (the most it can be)
    sure = torch.full((4, 10), -20.0)
    sure[torch.arange(4), c_cat] = 20.0
    _, ce2, _, acc2 = IG.mi_loss(sure, c_cont, zero, c_cat, c_cont)
    assert ce2.item() < 1e-6 and acc2.item() == 1.0
    # continuous: μ off by 1 on each code adds ½ per code; λ weights the two terms
    loss3, ce3, nll3, _ = IG.mi_loss(sure, c_cont + 1, zero, c_cat, c_cont, lam_cat=2.0, lam_cont=0.5)
    assert nll3.item() == pytest.approx(math.log(2 * math.pi) + 1.0, abs=1e-5)
    assert loss3.item() == pytest.approx(2.0 * ce3.item() + 0.5 * nll3.item(), abs=1e-6)


def test_short_training_q_accuracy_rises():
    """G and Q cooperate on L_I: after a short run Q recovers G's categorical code far above chance."""
    from ganmodels.training.loop import train_loop

    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # tiny nets: one thread is fastest on a busy machine
    try:
        torch.manual_seed(0)
        cfg = IG.InfoGANConfig(fc_g=32, ngf=8, ndf=8, fc_d=32, fc_q=32)
        G, D = IG.Generator(cfg), IG.Discriminator(cfg)
        obj = IG.InfoGANObjective(G, D, lam_cat=5.0, lam_cont=1.0)
        opts = {"G": torch.optim.Adam(G.parameters(), 2e-3, betas=(0.5, 0.999)),
                "D": torch.optim.Adam(D.parameters(), 2e-3, betas=(0.5, 0.999))}
        gen = torch.Generator().manual_seed(0)
        real = (torch.rand(256, 1, 28, 28, generator=gen) > 0.8).float() * 2 - 1   # sparse "ink"

        def data():
            while True:
                yield real[torch.randint(0, 256, (32,), generator=gen)]

        accs = []
        train_loop(obj, data(), opts, steps=130, on_step=lambda s, logs: accs.append(logs["q_acc_g"]))
    finally:
        torch.set_num_threads(threads)
    assert all(math.isfinite(a) for a in accs)
    first, last = np.mean(accs[:10]), np.mean(accs[-10:])
    assert first < 0.3                # chance is 0.1
    assert last > 0.8


def test_ema_warmup_follows_a_short_run():
    def run(warmup):
        net = torch.nn.Linear(2, 2, bias=False)
        torch.nn.init.zeros_(net.weight)
        ema = EMA(net, 0.999, warmup=warmup)
        with torch.no_grad():
            net.weight.fill_(1.0)
        for _ in range(200):
            ema.update(net)
        return ema

    # a plain 0.999 average is still at 1 − 0.999²⁰⁰ ≈ 0.18; the warm-up reaches > 0.9
    plain, warm = run(False), run(True)
    assert plain.shadow.weight.min().item() == pytest.approx(1 - 0.999 ** 200, rel=1e-4)
    assert warm.shadow.weight.min().item() > 0.9
    assert warm.current_decay() == pytest.approx(201 / 210) and warm.decay == 0.999 and warm.t == 200


# ---------------------------------------------------------------- matching and measurements


def test_match_codes_recovers_a_permutation():
    rng = np.random.default_rng(0)
    perm = rng.permutation(10)
    codes = np.repeat(np.arange(10), 100)
    preds = perm[codes].copy()
    flip = rng.choice(len(codes), 150, replace=False)
    preds[flip] = (preds[flip] + 1 + rng.integers(0, 9, 150)) % 10    # 150 wrong
    m = IG.match_codes(codes, preds)
    assert m["mapping"] == perm.tolist()
    assert m["accuracy"] == pytest.approx(850 / 1000)
    assert np.array(m["confusion"]).sum() == 1000


def test_match_codes_is_one_to_one_where_greedy_is_not():
    # codes 0 and 1 both mostly draw digit 7; greedy argmax would map both to 7
    conf = np.zeros((3, 3), int)
    conf[0] = [0, 10, 60]      # code 0: 60× "2", 10× "1"
    conf[1] = [0, 40, 55]      # code 1: 55× "2", 40× "1"
    conf[2] = [50, 0, 0]
    codes = np.concatenate([np.full(conf[k].sum(), k) for k in range(3)])
    preds = np.concatenate([np.repeat(np.arange(3), conf[k]) for k in range(3)])
    m = IG.match_codes(codes, preds, 3, 3)
    assert m["mapping"] == [2, 1, 0]
    assert m["accuracy"] == pytest.approx((60 + 40 + 50) / conf.sum())


def stroke(shear, width):
    """A vertical bar of ``width`` pixels, sheared: x moves by ``shear`` pixels per row upwards."""
    im = np.zeros((28, 28), np.uint8)
    for r in range(4, 24):
        x = int(round(14 + shear * (14 - r)))           # rows go down; up = +y
        im[r, x - width // 2: x - width // 2 + width] = 255
    return im


class DrawnStrokes:
    """Stands in for a loaded InfoGAN: c1 sets the slant (shear 0.3·c1), c2 the width
    (5 pixels at c2 = −1 down to 1 pixel at c2 = 1); z and the category change nothing."""

    cfg = IG.InfoGANConfig()

    def z_from_seed(self, seed, n):
        return torch.zeros(n, self.cfg.z_dim)

    def generate_uint8(self, z, c_cat, c_cont):
        c = np.asarray(c_cont, dtype=np.float64)
        return np.stack([stroke(0.3 * a, int(round(3 - 2 * b))) for a, b in c])


def test_slant_and_ink_on_drawn_strokes():
    s = IGE.slant_deg(np.stack([stroke(-0.3, 2), stroke(0.0, 2), stroke(0.3, 2)]))
    assert s[0] < -10 and abs(s[1]) < 3 and s[2] > 10 and s[2] == pytest.approx(-s[0], abs=1.5)
    assert s[2] == pytest.approx(math.degrees(math.atan(0.3)), abs=3)
    ink = IGE.ink_area(np.stack([stroke(0, 1), stroke(0, 2), stroke(0, 4)]))
    assert ink.tolist() == [20, 40, 80]


def test_code_correlations_measure_known_slant_and_width():
    res = IGE.code_correlations(DrawnStrokes(), n_z=2, steps=5)
    rho = res["rho"]
    assert rho["c1"]["slant"] == 1.0            # every c1 sweep leans further right, in order
    assert rho["c2"]["thickness"] == -1.0       # every c2 sweep gets thinner, in order
    assert res["per_category"]["c1"]["slant"] == [1.0] * 10
    assert math.isnan(rho["c1"]["thickness"])   # the ink does not change along c1: no ρ, not a spurious ±1
    m = IGE.code_meanings(rho)
    assert (m["slant"]["code"], m["thickness"]["code"]) == ("c1", "c2")


def test_code_meanings():
    m = IGE.code_meanings({"c1": {"slant": 0.9, "thickness": 0.1}, "c2": {"slant": -0.2, "thickness": -0.85}})
    assert m == {"slant": {"code": "c1", "rho": 0.9, "also": {"thickness": 0.1}},
                 "thickness": {"code": "c2", "rho": -0.85, "also": {"slant": -0.2}}}
    # one code may correlate most with both properties; each code still gets one meaning
    m = IGE.code_meanings({"c1": {"slant": 0.95, "thickness": -0.4}, "c2": {"slant": -0.99, "thickness": -0.88}})
    assert (m["slant"]["code"], m["thickness"]["code"]) == ("c1", "c2")
    assert m["thickness"]["also"] == {"slant": -0.99}
    m = IGE.code_meanings({"c1": {"slant": 0.95, "thickness": -0.4}, "c2": {"slant": 0.3, "thickness": 0.2}})
    assert (m["slant"]["code"], m["thickness"]["code"]) == ("c1", "c2") and abs(m["thickness"]["rho"]) < 0.8


# ---------------------------------------------------------------- weights, sampling, CLI


def test_save_load_round_trip(infogan_weights, models):
    ig = models["infogan"]
    cfg = IG.InfoGANConfig(**TINY)
    assert ig.cfg == cfg and ig.D is not None
    torch.manual_seed(0)
    ref = IG.Generator(cfg).eval()        # same seed as make_tiny_infogan_weights → same weights
    z = torch.randn(3, cfg.z_dim)
    assert torch.allclose(ig.generate(z, [1, 2, 3], torch.zeros(3, 2)), ref(z, torch.tensor([1, 2, 3]),
                                                                          torch.zeros(3, 2)), atol=1e-6)
    # a file that fails its hash is refused
    bad = infogan_weights.parent / "igbad"
    make_tiny_infogan_weights(bad)
    (bad / IG.FILES["G"]).write_bytes((bad / IG.FILES["G"]).read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(W.WeightsError, match="sha256"):
        IG.load(bad)


def test_sample_uint8_and_checks(models):
    ig, cg = models["infogan"], models["cgan"]
    a = IG.sample_uint8(ig, n=6, seed=1, cat=3, c1=1.5, c2=None)
    assert a.shape == (6, 28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, IG.sample_uint8(ig, n=6, seed=1, cat=3, c1=1.5))
    assert not np.array_equal(a, IG.sample_uint8(ig, n=6, seed=1, cat=4, c1=1.5))
    with pytest.raises(InputError, match="--cat"):
        IG.sample_uint8(ig, n=2, cat=10)
    with pytest.raises(InputError, match="--c1"):
        IG.sample_uint8(ig, n=2, c1=float("nan"))
    b = CG.sample_uint8(cg, n=4, seed=0, label=7)
    assert b.shape == (4, 28, 28) and b.dtype == np.uint8
    with pytest.raises(InputError, match="--label"):
        CG.sample_uint8(cg, n=2, label=-1)


def test_generate_cli(infogan_weights, tmp_path):
    from ganmodels.cli.main import main

    out = tmp_path / "ig.npz"
    assert main(["generate", "infogan", "--cat", "2", "--c1", "-1.5", "--n", "5", "--out", str(out),
                 "--weights", str(infogan_weights)]) == 0
    with np.load(out) as f:
        assert f["images"].shape == (5, 28, 28) and f["images"].dtype == np.uint8
    out2 = tmp_path / "cg.npz"
    assert main(["generate", "cgan", "--label", "4", "--n", "3", "--out", str(out2),
                 "--weights", str(infogan_weights)]) == 0
    with np.load(out2) as f:
        assert f["images"].shape == (3, 28, 28)
    with pytest.raises(SystemExit, match="--label"):
        main(["generate", "cgan", "--label", "12", "--out", str(out2), "--weights", str(infogan_weights)])


def test_evaluate_returns_metrics(infogan_weights, tmp_path):
    """The evaluate entry points run end to end on tiny weights and a made-up test set."""
    import argparse

    rng = np.random.default_rng(0)
    npz = tmp_path / "test.npz"
    np.savez(npz, images=rng.integers(0, 256, (300, 28, 28), dtype=np.uint8),
             labels=rng.integers(0, 10, 300).astype(np.uint8))
    args = argparse.Namespace(weights=str(infogan_weights), device="cpu", seed=0, n=300, mnist_test=str(npz),
                              data=None, threads=None)
    r = IGE.evaluate(args)
    assert r["files"] == list(IG.FILES.values())
    m = r["metrics"]
    assert 0.1 <= m["categorical_matching_accuracy"] <= 1 and sorted(m["code_to_digit"]) == list(range(10))
    assert set(m["code_meaning"]) == {"slant", "thickness"}
    r2 = CGE.evaluate(args)
    assert 0 <= r2["metrics"]["classifier_agreement"] <= 1 and len(r2["metrics"]["per_digit_agreement"]) == 10


# ---------------------------------------------------------------- the tab


def test_tab_pure_functions(ctx, models):
    from demo import infogan as T
    from demo.common import InputError

    tab = T.prepare(ctx, n=200)
    assert tab.match is not None and sorted(tab.match["mapping"]) == list(range(10))
    img, info = T.infogan_sample(tab, 3, 1.5, -2.0, 5)
    assert img.shape == (28 * T.SCALE, 28 * T.SCALE) and img.dtype == np.uint8
    assert "Q reads back" in info and "Classifier" in info
    g = T.figure2_grid(tab, "c2", 0)
    assert g.shape[0] > g.shape[1]            # 10 rows × 9 columns
    c, _ = T.cgan_sample(tab, 7, 5)
    assert c.shape == img.shape
    md = T.mapping_markdown(tab)
    assert "looks like digit" in md and f"{tab.match['accuracy']:.1%}" in md
    for bad in [(10, 0, 0, 0), (1, 2.5, 0, 0), (1, 0, "x", 0), (1, 0, 0, -1)]:
        with pytest.raises(InputError):
            T.infogan_sample(tab, *bad)
    with pytest.raises(InputError):
        T.figure2_grid(tab, "c3", 0)
    # without a classifier the tab still works and says the mapping is not measured
    t2 = T.InfoTab(models["infogan"])
    assert "not measured" in T.mapping_markdown(t2)
    assert t2.code_order() == list(range(10))


@pytest.fixture(scope="module")
def served_tab(ctx):
    from demo import infogan as T

    with serve_tab(T.build, ctx, "InfoGAN codes") as (url, _):
        yield url


def served_png(out: dict) -> np.ndarray:
    """The first output of an API answer: a PNG file that the server hands out, decoded."""
    import io
    import urllib.request

    from PIL import Image

    url = out["data"][0]["url"]
    assert url.endswith(".png"), url            # format="png": lossless, the digit's exact pixels
    with urllib.request.urlopen(url, timeout=30) as r:
        return np.asarray(Image.open(io.BytesIO(r.read())))


def test_api_endpoints(served_tab, ctx):
    from demo import infogan as T
    from tests.conftest import api_call

    tab = T.prepare(ctx)
    for name, inputs in T.LATENCY_ENDPOINTS.items():
        status, out = api_call(served_tab, name, inputs)
        assert status == 200, out
        expected, _ = getattr(T, name)(tab, *inputs)      # the tab's pure function, same inputs
        np.testing.assert_array_equal(served_png(out), expected)
    status, out = api_call(served_tab, "infogan_grid", ["c2", 3])
    assert status == 200 and out["data"][0]


def test_api_bad_input_is_a_clear_error(served_tab):
    from tests.conftest import api_call

    status, out = api_call(served_tab, "infogan_sample", [12, 0.0, 0.0, 0])
    assert status != 200 or out.get("error")
    assert "Categorical code must be between 0 and 9" in str(out), out
    status, out = api_call(served_tab, "infogan_sample", [1, 0.0, 9.0, 0])
    assert out.get("error") and "2.0" in str(out), out      # gradio's own range check on the slider
    status, out = api_call(served_tab, "cgan_sample", [3, -5])
    assert out.get("error") and "minimum value 0" in str(out), out
    status, out = api_call(served_tab, "cgan_sample", [11, 0])
    assert out.get("error") and "11" in str(out), out


# ---------------------------------------------------------------- shipped weights (slow)


@pytest.mark.slow
def test_shipped_infogan_codes_select_digits(shipped_weights):
    from ganmodels.models import classifier as C

    try:
        model, net = IG.load(shipped_weights), C.load(shipped_weights)
    except W.WeightsError as e:
        pytest.skip(str(e))
    m = model.measure_mapping(net, n=1000, seed=7)
    assert m["accuracy"] > 0.9
    cg = CG.load(shipped_weights)
    y = np.arange(500) % 10
    probs, _ = C.predict(net, cg.generate_uint8(cg.z_from_seed(7, 500), y))
    assert (probs.argmax(1) == y).mean() > 0.93


def test_q_in_g_recipe_trains_q_only_in_g_step():
    """--q-in-g: the Q head sits in G's optimizer, D's step is adversarial only (Q unchanged by it)."""
    from ganmodels.cli import train as T

    p = T.base_parser()
    IGR.add_args(p)
    args = p.parse_args(["infogan", "--q-in-g", "--fc_g", "16", "--ngf", "4", "--ndf", "4", "--fc_d", "16",
                         "--fc_q", "8", "--batch", "8", "--decay-from", "0.5", "--steps", "10"])
    args.rank, args.world = 0, 1
    run = IGR.make_run(args)
    D = run.modules["D"]
    q_ids = {id(t) for t in D.q_head.parameters()}
    in_g = {id(t) for g in run.optimizers["G"].param_groups for t in g["params"]}
    in_d = {id(t) for g in run.optimizers["D"].param_groups for t in g["params"]}
    assert q_ids <= in_g and not (q_ids & in_d)
    assert len(run.schedulers) == 2
    before = [t.detach().clone() for t in D.q_head.parameters()]
    body = [t.detach().clone() for t in D.body.parameters()]
    loss, logs = run.objective.d_loss(next(run.data))
    run.optimizers["D"].zero_grad()
    loss.backward()
    run.optimizers["D"].step()
    assert all(torch.equal(a, b) for a, b in zip(before, D.q_head.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(body, D.body.parameters()))
    loss, logs = run.objective.g_loss(next(run.data))
    run.optimizers["G"].zero_grad()
    loss.backward()
    run.optimizers["G"].step()
    assert not all(torch.equal(a, b) for a, b in zip(before, D.q_head.parameters()))


def test_decay_schedulers():
    from ganmodels.training.loop import decay_schedulers

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    assert decay_schedulers([opt], 100, 1.0) == []
    (s,) = decay_schedulers([opt], 100, 0.5)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    assert lrs[0] == lrs[50] == 1.0 and lrs[75] == pytest.approx(0.5) and lrs[99] == pytest.approx(0.02)


def test_slider_labels_show_the_measured_meanings():
    from types import SimpleNamespace

    from demo import infogan as T

    meaning = {"slant": {"code": "c2", "rho": -0.97, "also": {}}, "thickness": {"code": "c1", "rho": 0.85, "also": {}}}
    store = SimpleNamespace(manifest={"files": {"infogan_G.safetensors": {"metrics": {"infogan": {
        "code_meaning": meaning}}}}})
    tab = T.InfoTab(None, meanings=T.measured_meanings(store))
    assert "slant" in T.code_label(tab, 2) and "-0.97" in T.code_label(tab, 2)
    assert "width" in T.code_label(tab, 1)
    for bad in (None, SimpleNamespace(manifest={"files": {}})):
        assert T.measured_meanings(bad) is None
        assert T.code_label(T.InfoTab(None, meanings=T.measured_meanings(bad)), 1) == "c₁ (continuous code 1)"
