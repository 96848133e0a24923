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
    """Stands in for a loaded InfoGAN: the first continuous input (the paper's c₂) sets the slant
    (shear 0.3·c), the second (c₃) the width (5 pixels at −1 down to 1 pixel at +1); z and the
    category change nothing.  It records how many codes it was asked to draw."""

    cfg = IG.InfoGANConfig()

    def __init__(self):
        self.calls = []

    def z_from_seed(self, seed, n):
        return torch.zeros(n, self.cfg.z_dim)

    def generate_uint8(self, z, c_cat, c_cont):
        c = np.asarray(c_cont, dtype=np.float64)
        assert len(z) == len(c_cat) == len(c)
        self.calls.append(c.copy())
        return np.stack([stroke(0.3 * a, int(round(3 - 2 * b))) for a, b in c])


class SlantFromNoise(DrawnStrokes):
    """The slant comes from z alone; the continuous codes change nothing visible."""

    def generate_uint8(self, z, c_cat, c_cont):
        self.calls.append(np.asarray(c_cont, dtype=np.float64).copy())
        return np.stack([stroke(0.3 * math.tanh(float(v[0])), 2) for v in np.asarray(z)])


def test_slant_and_ink_on_drawn_strokes():
    s = IGE.slant_deg(np.stack([stroke(-0.3, 2), stroke(0.0, 2), stroke(0.3, 2)]))
    assert s[0] < -10 and abs(s[1]) < 3 and s[2] > 10 and s[2] == pytest.approx(-s[0], abs=1.5)
    assert s[2] == pytest.approx(math.degrees(math.atan(0.3)), abs=3)
    ink = IGE.ink_area(np.stack([stroke(0, 1), stroke(0, 2), stroke(0, 4)]))
    assert ink.tolist() == [20, 40, 80]


def test_code_correlations_are_per_sample_over_the_requested_samples():
    from scipy.stats import spearmanr

    model = DrawnStrokes()
    res = IGE.code_correlations(model, n=400, seed=3)
    assert res["n"] == 400 and sum(len(c) for c in model.calls) == 400      # 400 samples, drawn once
    codes = np.concatenate(model.calls)
    assert codes.min() >= -1 and codes.max() <= 1 and np.ptp(codes[:, 0]) > 1.8   # drawn in [−1, 1]
    rho = res["rho"]
    assert set(rho) == {"c2", "c3"}            # the paper's names: c1 is the categorical code
    for props in (*rho.values(), *res["rho_within_c1"].values()):
        assert all(-1 <= r <= 1 for r in props.values())
    # ρ over all 400 samples, not an average of per-sweep ±1s: recompute it from what was drawn
    imgs = np.stack([stroke(0.3 * a, int(round(3 - 2 * b))) for a, b in codes])
    assert rho["c2"]["slant"] == pytest.approx(spearmanr(codes[:, 0], IGE.slant_deg(imgs)).statistic, abs=1e-4)
    assert rho["c2"]["slant"] > 0.95            # c₂ leans the stroke further right
    assert rho["c3"]["ink_area"] < -0.95        # c₃ makes it thinner
    assert abs(rho["c2"]["ink_area"]) < 0.2 and abs(rho["c3"]["slant"]) < 0.2      # independent codes
    reg = res["regression"]["c3"]["ink_area"]
    assert reg["slope"] == pytest.approx(-40, rel=0.15) and reg["r2"] > 0.9   # 20 px per unit width, 2 widths/unit
    assert IGE.code_meaning(rho["c2"]) == {"property": "slant", "rho": rho["c2"]["slant"], "also": {}}
    assert IGE.code_meaning(rho["c3"])["property"] == "ink_area"
    # the same seed draws the same samples
    assert IGE.code_correlations(DrawnStrokes(), n=400, seed=3)["rho"] == rho


def test_a_code_with_no_effect_gets_no_meaning():
    model = SlantFromNoise()
    res = IGE.code_correlations(model, n=300, seed=0)
    assert sum(len(c) for c in model.calls) == 300
    for code in ("c2", "c3"):
        assert abs(res["rho"][code]["slant"]) < IGE.WEAK_RHO
        assert res["rho"][code]["ink_area"] is None          # the ink never changes: ρ undefined, not ±1
        assert IGE.code_meaning(res["rho"][code]) == {"property": None, "rho": None, "also": {}}


def test_code_meaning():
    assert IGE.code_meaning({"slant": 0.9, "ink_area": 0.1}) == {"property": "slant", "rho": 0.9, "also": {}}
    # entangled: both properties reach the threshold, the larger |ρ| first
    assert IGE.code_meaning({"slant": -0.59, "ink_area": -0.43}) == {"property": "slant", "rho": -0.59,
                                                                     "also": {"ink_area": -0.43}}
    assert IGE.code_meaning({"slant": 0.29, "ink_area": -0.1})["property"] is None
    assert IGE.code_meaning({"slant": 0.29, "ink_area": -0.1}, weak=0.2)["property"] == "slant"


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
    assert m["n_continuous"] == 2000 and set(m["continuous_code_spearman"]) == {"c2", "c3"}
    assert all(r is None or -1 <= r <= 1 for v in m["continuous_code_spearman"].values() for r in v.values())
    assert set(m["continuous_code_meaning"]) == {"c2", "c3"} and "c1 = the 10-way categorical" in m["code_names"]
    assert not any(k.startswith("spearman_sweep") for k in m)        # the averaged-sweep ρ is gone
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
    assert "c₁ = code 3" in info and "c₂ = +1.50" in info and "c₃ = -2.00" in info   # the paper's names
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
    assert "c₁ (categorical code) must be between 0 and 9" in str(out), out
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


def manifest_store(**infogan_metrics):
    from types import SimpleNamespace

    return SimpleNamespace(manifest={"files": {"infogan_G.safetensors": {"metrics": {"infogan": infogan_metrics}}}})


def test_slider_labels_say_what_the_measurement_supports():
    from types import SimpleNamespace

    from demo import infogan as T

    rho = {"c2": {"slant": 0.40, "ink_area": -0.10}, "c3": {"slant": -0.59, "ink_area": -0.43}}
    tab = T.InfoTab(None, meanings=T.measured_meanings(manifest_store(continuous_code_spearman=rho,
                                                                      n_continuous=2000)))
    c2, c3 = T.code_label(tab, 1), T.code_label(tab, 2)       # slider 1 is the paper's c₂
    assert c2 == "c₂ (continuous code) — slant: weak, ρ = +0.40 (Spearman, 2,000 samples)"
    assert c3.startswith("c₃ (continuous code) — slant: moderate, ρ = −0.59; also ink area") and "ρ = −0.43" in c3
    strong = T.InfoTab(None, meanings=T.measured_meanings(manifest_store(
        continuous_code_spearman={"c2": {"slant": -0.83, "ink_area": 0.2}}, n_continuous=2000)))
    assert T.code_label(strong, 1) == "c₂ (continuous code) — slant: strong, ρ = −0.83 (Spearman, 2,000 samples)"
    assert T.code_label(strong, 2) == "c₃ (continuous code)"       # not measured: no claim
    weak = {"c2": {"slant": 0.12, "ink_area": -0.29}, "c3": {"slant": None, "ink_area": 0.05}}
    tab = T.InfoTab(None, meanings=T.measured_meanings(manifest_store(continuous_code_spearman=weak,
                                                                      n_continuous=500)))
    for j in (1, 2):
        assert "no clear single property" in T.code_label(tab, j) and "500 samples" in T.code_label(tab, j)
    # no manifest, or only the old averaged-sweep keys: plain labels, no number shown
    old = manifest_store(code_meaning={"slant": {"code": "c1", "rho": 0.99}})
    for bad in (None, SimpleNamespace(manifest={"files": {}}), old):
        assert T.measured_meanings(bad) is None
        assert T.code_label(T.InfoTab(None, meanings=T.measured_meanings(bad)), 1) == "c₂ (continuous code)"


def test_shipped_manifest_labels_come_from_the_new_measurement():
    """The repo's manifest (not ../shared) holds the 2,000-sample ρ that the labels show."""
    import json
    from types import SimpleNamespace

    from demo import infogan as T

    man = json.loads((W.DEFAULT_DIR / "manifest.json").read_text())
    m = man["files"]["infogan_G.safetensors"]["metrics"]["infogan"]
    meanings = T.measured_meanings(SimpleNamespace(manifest=man))
    assert meanings is not None and meanings["n"] == m["n_continuous"] >= 2000
    for j, code in ((1, "c2"), (2, "c3")):
        label = T.code_label(T.InfoTab(None, meanings=meanings), j)
        best = IGE.code_meaning(m["continuous_code_spearman"][code])
        if best["property"] is None:
            assert "no clear single property" in label
        else:
            assert T.minus(best["rho"]) in label and T.PROPERTY_WORDS[best["property"]] in label


def command_flag(command: str, flag: str) -> float:
    toks = command.split()
    return float(toks[toks.index(flag) + 1])


def test_formula_text_shows_the_loss_g_is_trained_with():
    """The shipped InfoGAN's training command, read with the recipe's own options: G's adversarial
    term is the non-saturating −log D(G(z,c)), and the tab's formula text says so, with its λ."""
    import json
    import shlex
    from types import SimpleNamespace

    from demo import infogan as T
    from ganmodels.cli import train as TR

    man = json.loads((W.DEFAULT_DIR / "manifest.json").read_text())
    command = man["files"]["infogan_G.safetensors"]["command"]
    tr = T.trained_objective(SimpleNamespace(manifest=man))
    assert tr["command"] == command and tr["loss"] == "ns"
    assert tr["lam_cat"] == command_flag(command, "--lam-cat") and tr["lam_cont"] == command_flag(command, "--lam-cont")
    # the recipe run by that command (tiny networks, a few steps) trains G with −log σ(D(G(z,c)))
    p = TR.base_parser()
    IGR.add_args(p)
    args = p.parse_args([*shlex.split(command.split("ganmodels.train", 1)[1]), "--fc_g", "16", "--ngf", "4",
                         "--ndf", "4", "--fc_d", "16", "--fc_q", "8", "--batch", "8"])
    args.rank, args.world = 0, 1
    run = IGR.make_run(args)
    obj = run.objective
    assert (obj.loss, obj.lam_cat, obj.lam_cont) == (tr["loss"], tr["lam_cat"], tr["lam_cont"])
    batch = next(run.data)
    torch.manual_seed(11)
    z, c_cat, c_cont = obj._fake(batch.shape[0], batch.device)
    torch.manual_seed(11)
    _, logs = obj.g_loss(batch)
    with torch.no_grad():
        f = run.modules["D"](run.modules["G"](z, c_cat, c_cont))[0]
    assert logs["g_loss"] == pytest.approx(-torch.log(torch.sigmoid(f)).mean().item(), rel=1e-4)
    assert logs["g_loss"] != pytest.approx(torch.log(1 - torch.sigmoid(f)).mean().item(), rel=1e-2)
    text = T.explain(tr, T.trained_objective(SimpleNamespace(manifest=man), "cgan_G.safetensors", "cgan"))
    trained_part = text.split("**What is trained**", 1)[1].split("**Conditional GAN**", 1)[0]
    assert r"G minimises the **non-saturating** loss $\mathbb E_{z,c}[-\log D(G(z,c))]$" in trained_part
    assert r"\min_G\ \mathbb E_{z,c}\big[-\log D(G(z,c))\big]" in trained_part
    assert f"\\lambda_{{cat}} = {tr['lam_cat']:g}$" in trained_part
    assert f"\\lambda_{{cont}} = {tr['lam_cont']:g}$" in trained_part and "--q-in-g" in trained_part
    assert r"\log(1 - D(G(z,c)))" in text.split("**What is trained**")[0]     # the paper's V(D, G) is shown
    # another training command gives another text: it is read, not written in
    other = {"files": {"infogan_G.safetensors": {"command": "python -m ganmodels.train infogan --loss minimax "
                                                             "--lam-cat 1.5"}}}
    tr2 = T.trained_objective(SimpleNamespace(manifest=other))
    assert (tr2["loss"], tr2["lam_cat"], tr2["lam_cont"], tr2["q_in_g"]) == ("minimax", 1.5, 1.0, False)
    t2 = T.explain(tr2).split("**What is trained**", 1)[1].split("**Conditional GAN**", 1)[0]
    assert "non-saturating" not in t2 and r"\log(1 - D(G(z,c)))" in t2 and r"\lambda_{cat} = 1.5$" in t2


def test_served_tab_uses_the_paper_names(served_tab):
    """What a student sees: c₁ is the categorical code, c₂ and c₃ the continuous ones."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"{served_tab}/config", timeout=30) as r:
        comps = json.loads(r.read())["components"]
    labels = [c.get("props", {}).get("label") for c in comps]
    assert "c₁: categorical code (10 values)" in labels
    assert "c₂ (continuous code)" in labels and "c₃ (continuous code)" in labels   # tiny test manifest: no ρ
    radio = next(c for c in comps if c.get("props", {}).get("label") == "Sweep")
    assert [ch[0] for ch in radio["props"]["choices"]] == ["c₂ (continuous)", "c₃ (continuous)"]
    assert [ch[1] for ch in radio["props"]["choices"]] == ["c1", "c2"]        # the API's values are unchanged
    text = " ".join(str(c.get("props", {}).get("value", "")) for c in comps if c.get("type") == "markdown")
    assert "continuous codes c₂, c₃" in text and "categorical code c₁" in text
    assert "non-saturating" in text and r"-\log D(G(z,c))" in text
