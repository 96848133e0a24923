"""pix2pix (issue #32) beneath the tab: the edge extractor and the hand-drawing changes, the U-Net and
the PatchGAN (shapes, receptive field), one training step of each objective, the recipe (train, export,
resume), the CLI verbs and the evaluator — on tiny nets and images the tests make (never the real data)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganmodels import edges as E
from ganmodels import weights as W
from ganmodels.errors import InputError
from ganmodels.models import faces
from ganmodels.models import pix2pix as P
from ganmodels.training.loop import train_loop
from tests.conftest import PIX2PIX_TINY, make_tiny_face_weights, make_tiny_pix2pix_weights


def disc_face(r: int = 18, seed: int = 0) -> np.ndarray:
    """A made-up image: a dark disc of radius r centred on a light ground, uint8 (64, 64, 3)."""
    yy, xx = np.mgrid[:64, :64]
    a = np.full((64, 64, 3), (210, 200, 190), np.uint8)
    a[(yy - 32) ** 2 + (xx - 32) ** 2 < r * r] = (40 + seed, 30, 20)
    return a


# ---------------------------------------------------------------- drawings


def test_edges_of_a_disc_are_a_thin_ring():
    d = E.extract(np.stack([disc_face(), np.full((64, 64, 3), 128, np.uint8)]))
    assert d.shape == (2, 64, 64) and d.dtype == np.uint8 and set(np.unique(d)) <= {0, 255}
    yy, xx = np.mgrid[:64, :64]
    r = np.hypot(yy - 32, xx - 32)[E.ink(d[0])]
    assert len(r) > 60                                   # the circumference (~113 px) is mostly drawn
    assert np.abs(r - 18).max() <= 2.5                   # every line pixel lies on the disc's border
    assert not E.ink(d[1]).any()                         # a flat grey image has no lines
    assert np.array_equal(E.extract(disc_face())[0], d[0])   # one (H, W, 3) image works too
    with pytest.raises(InputError):
        E.extract(np.zeros((2, 64, 64), np.uint8))


def test_thicken_segments_and_drop():
    d = np.full((64, 64), 255, np.uint8)
    d[10, 4:60] = 0                                      # a 56-px line over columns 4–59: 8 cells → 8 segments
    d[30:50, 40] = 0                                     # a 20-px line over rows 30–49: 4 cells
    lab, count = E.segments(d)
    assert count == 8 + 4 and lab.max() == count and (lab[E.ink(d)] > 0).all()
    t = E.thicken(d, 1)
    assert E.ink(t).sum() == 2 * 57 + 2 * 21                   # each line one pixel wider, one longer
    assert E.ink(t[10:12, 4:61]).all() and not E.ink(t[12]).any() and not E.ink(t[9]).any()
    gone = E.drop_segments(d, 0.25, seed=1)
    assert E.segments(gone)[1] == count - 3              # 0.25 · 12 segments erased, whole
    assert not (E.ink(gone) & ~E.ink(d)).any()
    assert np.array_equal(E.drop_segments(d, 0.0), d)
    hand = E.hand_drawn(d[None], drop=0.25, seed=1)
    assert hand.shape == (1, 64, 64) and E.ink(hand).sum() > E.ink(gone).sum()
    with pytest.raises(InputError):
        E.drop_segments(d, 1.5)


def test_augment_keeps_lines_near_lines():
    d = E.extract(np.stack([disc_face(r) for r in (10, 14, 18, 22)]))
    x = E.to_input(d)
    g = torch.Generator().manual_seed(0)
    a = E.augment(x, generator=g)
    assert a.shape == x.shape and set(a.unique().tolist()) <= {-1.0, 1.0}
    assert not torch.equal(a, x)
    # every line pixel after augmentation is within 2 px of an original line pixel (jitter ≤ 1 px, pen ≤ 1 px)
    near = torch.nn.functional.max_pool2d((x < 0).float(), 5, 1, 2) > 0
    assert ((a < 0) <= near).all()
    # no augmentation at all: unchanged
    same = E.augment(x, generator=g, p_thick=0, p_jitter=0, max_drop=0)
    assert torch.equal(same, x)


# ---------------------------------------------------------------- networks


def test_unet_and_patchgan_shapes():
    cfg = P.Pix2PixConfig(**PIX2PIX_TINY)
    G, D = P.UNetGenerator(cfg).eval(), P.PatchDiscriminator(cfg).eval()
    x = E.to_input(E.extract(np.stack([disc_face(), disc_face(12)])))
    y = G(x)
    assert y.shape == (2, 3, 64, 64) and y.abs().max() <= 1
    assert D(x, y).shape == (2, 1, 30, 30)
    assert len(G.down) == 6 and sum(isinstance(m, torch.nn.Dropout) for m in G.modules()) == 3
    for n_layers, grid in ((1, 30), (2, 14), (3, 6)):
        c = P.Pix2PixConfig(**{**PIX2PIX_TINY, "n_layers_d": n_layers})
        assert P.patch_grid(c) == grid
    with pytest.raises(InputError):
        P.UNetGenerator(P.Pix2PixConfig(n_down=7))


@pytest.mark.parametrize("n_layers, want", [(1, 16), (2, 34), (3, 70)])
def test_receptive_field_matches_the_gradient(n_layers, want):
    """The computed receptive field equals the patch of input pixels that one score depends on."""
    torch.manual_seed(0)
    cfg = P.Pix2PixConfig(ngf=4, ndf=4, n_layers_d=n_layers)
    D = P.PatchDiscriminator(cfg).eval()
    assert P.receptive_field(D) == P.receptive_field(cfg) == want
    x = torch.randn(1, 1, 128, 128, requires_grad=True)
    y = torch.randn(1, 3, 128, 128, requires_grad=True)
    out = D(x, y)
    c = out.shape[-1] // 2
    out[0, 0, c, c].backward()
    seen = (x.grad[0, 0].abs() + y.grad[0].abs().sum(0)) > 0
    rows, cols = np.nonzero(seen.numpy())
    assert rows.max() - rows.min() + 1 == want and cols.max() - cols.min() + 1 == want


def _tiny_batch(b=4):
    x = E.to_input(E.extract(np.stack([disc_face(10 + 3 * i) for i in range(b)])))
    y = torch.from_numpy(np.stack([disc_face(10 + 3 * i) for i in range(b)])).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x, y


@pytest.mark.parametrize("objective", ["l1", "cgan"])
def test_one_training_step_of_each_objective(objective):
    torch.manual_seed(0)
    cfg = P.Pix2PixConfig(**PIX2PIX_TINY)
    G = P.UNetGenerator(cfg)
    D = P.PatchDiscriminator(cfg) if objective == "cgan" else None
    obj = P.Pix2PixObjective(G, D, objective=objective, lam=100)
    assert obj.has_d == (objective == "cgan") and obj.reuse_batch
    opts = {"G": torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))}
    if D is not None:
        opts["D"] = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    g0 = [p.detach().clone() for p in G.parameters()]
    d0 = [p.detach().clone() for p in D.parameters()] if D is not None else []
    logs = {}
    batch = _tiny_batch()
    train_loop(obj, iter([batch] * 3), opts, steps=1, on_step=lambda s, lg: logs.update(lg))
    assert all(np.isfinite(v) for v in logs.values())
    assert any(not torch.equal(a, b) for a, b in zip(g0, G.parameters()))
    if objective == "cgan":
        assert {"d_loss", "d_real", "d_fake", "g_adv", "l1"} <= set(logs)
        assert any(not torch.equal(a, b) for a, b in zip(d0, D.parameters()))
        assert logs["g_loss"] == pytest.approx(100 * logs["l1"] + logs["g_adv"], rel=1e-4)
    else:
        assert "g_adv" not in logs and "d_loss" not in logs
        assert logs["g_loss"] == pytest.approx(100 * logs["l1"], rel=1e-5)
    with pytest.raises(InputError):
        P.Pix2PixObjective(G, None, objective="cgan")
    with pytest.raises(InputError):
        P.Pix2PixObjective(G, D, objective="l2")


def test_save_load_round_trip(pix2pix_weights):
    store = W.WeightStore(pix2pix_weights)
    l1, cg = P.load_l1(store=store), P.load(store=store)
    assert l1.D is None and cg.D is not None and l1.cfg == cg.cfg == P.Pix2PixConfig(**PIX2PIX_TINY)
    d = E.extract(np.stack([disc_face(), disc_face(12)]))
    a, b = l1.translate(d), cg.translate(d)
    assert a.shape == b.shape == (2, 64, 64, 3) and a.dtype == np.uint8 and not np.array_equal(a, b)
    assert np.array_equal(a, l1.translate(d))                      # eval mode: deterministic
    torch.manual_seed(0)
    G = P.UNetGenerator(P.Pix2PixConfig(**PIX2PIX_TINY)).eval()    # the saved L1 G (seed 0)
    from ganmodels.data import to_uint8
    with torch.no_grad():
        assert np.array_equal(to_uint8(G(E.to_input(d))), a)
    s = cg.patch_scores(d, b)
    assert s.shape == (2, 30, 30) and ((s > 0) & (s < 1)).all()
    with pytest.raises(InputError):
        l1.patch_scores(d, a)
    with pytest.raises(W.WeightsError):                             # the L1 file is not the cGAN's
        W.load_network(pix2pix_weights / P.FILES_L1["G"], P.UNetGenerator, P.Pix2PixConfig,
                       family=P.FAMILY, network="G")


# ---------------------------------------------------------------- recipe (training on a made-up CelebA)


def celeba(root: Path, numbers) -> Path:
    """A fake celeba/ folder in the official format: 89×109 JPEGs of a dark disc whose size varies."""
    img = root / faces.CELEBA_IMAGES
    img.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    yy, xx = np.mgrid[:109, :89]
    for n in numbers:
        a = np.full((109, 89, 3), (200, 180, 170), np.uint8)
        a[(yy - 57) ** 2 + (xx - 44) ** 2 < (10 + n % 15) ** 2] = (60, 40, 30 + n % 100)
        Image.fromarray(a).save(img / f"{n:06d}.jpg", quality=95)
        rows.append(f"{n:06d}.jpg " + " ".join(f"{v:2d}" for v in rng.choice([-1, 1], size=40)))
    (root / faces.CELEBA_ATTRS).write_text(f"{len(rows)}\n" + " ".join(faces.ATTRIBUTES) + "\n" + "\n".join(rows) + "\n")
    return root


@pytest.fixture
def celeba_dir(tmp_path) -> Path:
    return celeba(tmp_path / "data", (*range(1, 9), *range(8001, 8011)))


def test_recipe_trains_both_objectives_exports_and_resumes(celeba_dir, tmp_path):
    from ganmodels.cli import train

    exp = tmp_path / "export"
    common = ["--data-dir", str(celeba_dir), "--no-progress", "--batch", "4", "--ngf", "4", "--ndf", "4",
              "--threads", "1", "--sample-every", "2", "--export", str(exp)]
    n_threads = torch.get_num_threads()
    try:
        train.main(["pix2pix", "--objective", "l1", "--steps", "2", "--out", str(tmp_path / "l1"), *common])
        train.main(["pix2pix", "--objective", "cgan", "--lam", "100", "--steps", "2", "--out", str(tmp_path / "cg"),
                    *common])
        assert (tmp_path / "cg" / "samples" / "step_000002.png").is_file()
        assert (tmp_path / "cg" / "pix2pix_edges_train_64.npz").is_file()       # the drawings, kept
        train.main(["pix2pix", "--objective", "cgan", "--steps", "3", "--resume", "--out", str(tmp_path / "cg"), *common])
        with pytest.raises(SystemExit, match="--data-dir"):
            train.main(["pix2pix", "--steps", "1", "--out", str(tmp_path / "x"), "--no-progress"])
    finally:
        torch.set_num_threads(n_threads)
    assert W.load_checkpoint(tmp_path / "cg" / "checkpoint.safetensors", modules={}, optimizers={})[0] == 3
    man = W.read_manifest(exp)["files"]
    assert set(man) == {*P.FILES_L1.values(), *P.FILES.values()}
    assert "--objective l1" in man[P.FILES_L1["G"]]["command"] and man[P.FILES_L1["G"]]["steps"] == 2
    assert "--objective cgan" in man[P.FILES["G"]]["command"] and man[P.FILES["D"]]["steps"] == 3
    assert "Canny" in man[P.FILES["G"]]["data"] and "non-commercial" in man[P.FILES["G"]]["data"]
    store = W.WeightStore(exp)
    assert P.load_l1(store=store).translate(np.full((1, 64, 64), 255, np.uint8)).shape == (1, 64, 64, 3)
    assert P.load(store=store).cfg.ngf == 4


def test_init_from_exported_weights_warm_restarts_and_records_the_lineage(celeba_dir, tmp_path):
    """--init-from DIR: G (and a matching D) start from DIR's files, not from fresh ones; a D of another depth
    starts fresh; the manifest adds the steps and joins the commands; --ema exports the average, not the raw G."""
    from ganmodels.cli import train

    first = tmp_path / "first"
    common = ["--data-dir", str(celeba_dir), "--no-progress", "--batch", "4", "--threads", "1", "--sample-every", "2"]
    n_threads = torch.get_num_threads()
    try:
        train.main(["pix2pix", "--objective", "cgan", "--steps", "2", "--ngf", "4", "--ndf", "4",
                    "--out", str(tmp_path / "a"), "--export", str(first), *common])
        before = P.load(store=W.WeightStore(first))
        # 0 steps: the exported nets are the ones loaded (the sizes come from the files, not the defaults)
        train.main(["pix2pix", "--objective", "cgan", "--steps", "0", "--init-from", str(first),
                    "--out", str(tmp_path / "b"), "--export", str(tmp_path / "same"), *common])
        same = P.load(store=W.WeightStore(tmp_path / "same"))
        for a, b in ((before.G, same.G), (before.D, same.D)):
            sa, sb = a.state_dict(), b.state_dict()
            assert all(torch.equal(sa[k], sb[k]) for k in sa)
        # two steps on, a deeper D (fresh), with the average of G exported
        train.main(["pix2pix", "--objective", "cgan", "--steps", "2", "--init-from", str(first), "--n-layers-d", "2",
                    "--ema", "0.5", "--ema-bn", "1", "--out", str(tmp_path / "c"), "--export", str(tmp_path / "on"),
                    *common])
        with pytest.raises(SystemExit, match="ngf 4, not 8"):
            train.main(["pix2pix", "--objective", "cgan", "--steps", "1", "--init-from", str(first), "--ngf", "8",
                        "--out", str(tmp_path / "d"), *common])
        with pytest.raises(SystemExit, match="pix2pix_l1_G.safetensors not found"):
            train.main(["pix2pix", "--objective", "l1", "--steps", "1", "--init-from", str(first),
                        "--out", str(tmp_path / "e"), *common])
        with pytest.raises(SystemExit, match="--ema"):
            train.main(["pix2pix", "--objective", "l1", "--steps", "1", "--ema", "1.5", "--ngf", "4",
                        "--out", str(tmp_path / "f"), *common])
        with pytest.raises(SystemExit, match="needs --ema"):
            train.main(["pix2pix", "--objective", "l1", "--steps", "1", "--ema-bn", "1", "--ngf", "4",
                        "--out", str(tmp_path / "g"), *common])
    finally:
        torch.set_num_threads(n_threads)
    on = P.load(store=W.WeightStore(tmp_path / "on"))
    assert on.cfg.n_layers_d == 2 and on.cfg.ngf == 4
    man = W.read_manifest(tmp_path / "on")["files"]
    assert man[P.FILES["G"]]["steps"] == 4 and man[P.FILES["D"]]["steps"] == 2      # D started fresh
    assert man[P.FILES["G"]]["command"].count("python -m ganmodels.train pix2pix") == 2
    assert "--init-from" in man[P.FILES["G"]]["command"].split("&&")[1]
    # the exported G is the average: it differs from the raw G in the run's checkpoint
    raw = P.UNetGenerator(on.cfg)
    W.load_checkpoint(tmp_path / "c" / "checkpoint.safetensors", modules={"G": raw}, optimizers={})
    ema = on.G.state_dict()
    assert any(not torch.equal(v, ema[k]) for k, v in raw.state_dict().items() if v.is_floating_point())


def test_recompute_bn_averages_the_batch_statistics_of_the_given_weights():
    """--ema-bn: the average's BatchNorm statistics become the mean over the drawings' batches of the statistics
    that these weights produce (not whatever they carried), and the momentum is restored."""
    from ganmodels.recipes.pix2pix import recompute_bn

    torch.manual_seed(0)
    G = P.UNetGenerator(P.Pix2PixConfig(ngf=4, dropout=0.0))
    bn = next(m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d))
    bn.running_mean.fill_(7.0)
    drawings = np.random.default_rng(0).choice(np.array([0, 255], np.uint8), size=(8, 64, 64))
    seen = []
    h = bn.register_forward_hook(lambda m, i, o: seen.append(i[0].mean(dim=(0, 2, 3)).detach().clone()))
    recompute_bn(G, drawings, 4, "cpu")
    h.remove()
    assert len(seen) == 2 and bn.momentum == 0.1
    torch.testing.assert_close(bn.running_mean, (seen[0] + seen[1]) / 2)


def test_drawing_settings_travel_with_the_weights(celeba_dir, tmp_path):
    """--canny-low/--canny-high: the training drawings, kept in G's config; the loaded model, ``edges`` and the
    tab's loaders draw the same way for it."""
    from ganmodels.cli import train
    from ganmodels.cli.sketch import shipped_drawing_settings

    exp = tmp_path / "export"
    common = ["--data-dir", str(celeba_dir), "--no-progress", "--batch", "4", "--ngf", "4", "--ndf", "4",
              "--threads", "1", "--steps", "1", "--canny-low", "0.45", "--canny-high", "0.7", "--export", str(exp)]
    n_threads = torch.get_num_threads()
    try:
        train.main(["pix2pix", "--objective", "cgan", "--out", str(tmp_path / "cg"), *common])
        with pytest.raises(SystemExit, match="quantiles"):
            train.main(["pix2pix", "--objective", "l1", "--out", str(tmp_path / "bad"), *common,
                        "--canny-low", "0.9"])
    finally:
        torch.set_num_threads(n_threads)
    with np.load(tmp_path / "cg" / "pix2pix_edges_train_64.npz") as z:
        assert "45%/70%" in str(z["description"])
    man = W.read_manifest(exp)["files"]
    assert "45%/70%" in man[P.FILES["G"]]["data"]
    model = P.load(store=W.WeightStore(exp))
    assert (model.cfg.canny_low, model.cfg.canny_high) == (0.45, 0.7)
    rng = np.random.default_rng(0)
    imgs = np.stack([disc_face(), disc_face(12, seed=3)]).astype(np.int16) + rng.integers(-30, 30, (2, 64, 64, 1))
    imgs = imgs.clip(0, 255).astype(np.uint8)                             # texture: edges at many strengths
    dense = E.extract(imgs, quantiles=(0.45, 0.7))
    assert np.array_equal(model.drawings(imgs), dense)
    assert E.ink(dense).sum() > E.ink(E.extract(imgs)).sum()          # lower thresholds: more ink
    assert shipped_drawing_settings(exp) == {"sigma": 1.0, "quantiles": (0.45, 0.7)}
    np.savez(tmp_path / "faces.npz", images=imgs)
    _cli(["edges", "--images", tmp_path / "faces.npz", "--out", tmp_path / "edges.npz", "--weights", exp])
    with np.load(tmp_path / "edges.npz") as f:
        assert np.array_equal(f["images"], dense)


def test_training_pairs_never_read_the_heldout_faces(tmp_path):
    from ganmodels.recipes import pix2pix as R

    root = celeba(tmp_path / "data", (1, 2, 3, 8001))
    (root / faces.CELEBA_IMAGES / "008001.jpg").write_bytes(b"held out: never read by training")
    X, d = R.training_pairs(root, tmp_path / "run")
    assert X.shape == (3, 64, 64, 3) and d.shape == (3, 64, 64) and np.array_equal(d, E.extract(X))
    x, y = next(R.pair_batches(X, d, 2, augment=False, flip=False))
    assert x.shape == (2, 1, 64, 64) and y.shape == (2, 3, 64, 64)
    assert set(x.unique().tolist()) <= {-1.0, 1.0} and y.min() >= -1 and y.max() <= 1


# ---------------------------------------------------------------- CLI


def _cli(argv):
    from ganmodels.cli.main import main
    return main([str(a) for a in argv])


def test_cli_edges_and_sketch2face(pix2pix_weights, tmp_path):
    imgs = np.stack([disc_face(), disc_face(12), disc_face(20)])
    np.savez(tmp_path / "faces.npz", images=imgs)
    _cli(["edges", "--images", tmp_path / "faces.npz", "--out", tmp_path / "edges.npz"])
    with np.load(tmp_path / "edges.npz") as f:
        d = f["images"]
    assert d.shape == (3, 64, 64) and d.dtype == np.uint8 and np.array_equal(d, E.extract(imgs))

    store = W.WeightStore(pix2pix_weights)
    for model, load in (("l1", P.load_l1), ("pix2pix", P.load)):
        _cli(["sketch2face", "--model", model, "--images", tmp_path / "edges.npz", "--out", tmp_path / f"{model}.npz",
              "--weights", pix2pix_weights])
        with np.load(tmp_path / f"{model}.npz") as f:
            out = f["images"]
        assert out.shape == (3, 64, 64, 3) and out.dtype == np.uint8
        assert np.array_equal(out, load(store=store).translate(d))
    _cli(["sketch2face", "--images", tmp_path / "edges.npz", "--out", tmp_path / "grid.png", "--weights", pix2pix_weights])
    assert Image.open(tmp_path / "grid.png").size[0] > 64

    # bad input: clear messages, nothing written
    with pytest.raises(SystemExit, match="look like colour faces.*ganmodels edges"):
        _cli(["sketch2face", "--images", tmp_path / "faces.npz", "--out", tmp_path / "o.npz", "--weights", pix2pix_weights])
    with pytest.raises(SystemExit, match=r"\(N,64,64,3\).*drawings already"):
        _cli(["edges", "--images", tmp_path / "edges.npz", "--out", tmp_path / "e2.npz"])
    np.savez(tmp_path / "digits.npz", images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(SystemExit, match=r"\(N,64,64\)"):
        _cli(["sketch2face", "--images", tmp_path / "digits.npz", "--out", tmp_path / "o.npz", "--weights", pix2pix_weights])
    np.savez(tmp_path / "other.npz", drawings=d)
    with pytest.raises(SystemExit, match="no array named 'images'"):
        _cli(["sketch2face", "--images", tmp_path / "other.npz", "--out", tmp_path / "o.npz", "--weights", pix2pix_weights])
    with pytest.raises(SystemExit, match="file not found"):
        _cli(["edges", "--images", tmp_path / "nope.npz", "--out", tmp_path / "o.npz"])
    with pytest.raises(SystemExit, match="--out must end in .npz"):
        _cli(["edges", "--images", tmp_path / "faces.npz", "--out", tmp_path / "o.png"])
    np.savez(tmp_path / "float.npz", images=np.full((1, 64, 64), 0.5))
    with pytest.raises(SystemExit, match="uint8"):
        _cli(["sketch2face", "--images", tmp_path / "float.npz", "--out", tmp_path / "o.npz", "--weights", pix2pix_weights])
    with pytest.raises(SystemExit, match="not found"):
        _cli(["sketch2face", "--images", tmp_path / "edges.npz", "--out", tmp_path / "o.npz", "--weights", tmp_path])
    assert not (tmp_path / "o.npz").exists() and not (tmp_path / "e2.npz").exists()


# ---------------------------------------------------------------- evaluation


def test_evaluate_pix2pix_json(celeba_dir, tmp_path, capsys):
    from ganmodels.cli import evaluate

    w = tmp_path / "w"
    w.mkdir()
    make_tiny_pix2pix_weights(w)
    make_tiny_face_weights(w)
    evaluate.main(["pix2pix", "--weights", str(w), "--data-dir", str(celeba_dir), "--json", "--update-manifest"])
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    m = res["metrics"]
    assert set(res["files"]) == {*P.FILES_L1.values(), *P.FILES.values()}
    assert m["n"] == 10 and m["receptive_field_px"] == 16
    for kind in ("clean", "hand_drawn"):
        for key in ("l1", "cgan"):
            r = m[kind][key]
            assert np.isfinite(r["classifier_fid"]) and 0 < r["l1_grey_levels"] < 255 and r["psnr_db"] > 0
            assert all(0 <= r[f"agreement_{a}"] <= 1 for a in ("Male", "Smiling", "Eyeglasses", "Mouth_Slightly_Open"))
    assert m["hand_drawn"]["ink_share"] > m["clean"]["ink_share"] > 0       # wider strokes: more ink
    assert set(m["goals"]) >= {"cgan_fid_at_most_0.75_of_l1", "cgan_male_and_smiling_agreement_at_least_0.85"}
    assert m["classifier_fid_cgan"] == m["clean"]["cgan"]["classifier_fid"]
    assert "not Inception" in m["metric_note"] and "non-commercial" in m["data_licence"]
    assert W.read_manifest(w)["files"][P.FILES["G"]]["metrics"]["pix2pix"]["n"] == 10
    with pytest.raises(SystemExit, match="--data-dir"):
        evaluate.main(["pix2pix", "--weights", str(w)])
