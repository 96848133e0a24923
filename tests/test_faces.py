"""The face DCGAN and the face-attribute classifier on tiny models and a tiny fake CelebA folder
that the tests write themselves (never the real data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganmodels.errors import DataError
from ganmodels.models import face_classifier as FC
from ganmodels.models import faces

# image numbers of the fake folder: GAN training rows, the classifier's val rows, held-out rows
TRAIN_NUMS = (1, 2, 3, 4, 7001, 7002, 8000)
HELDOUT_NUMS = (8001, 9000)


def coloured_face(seed: int) -> Image.Image:
    """An 89×109 image: red outside FRAME_BOX, inside it a left half of one grey and a right half of another."""
    a = np.zeros((109, 89, 3), np.uint8)
    a[...] = (255, 0, 0)
    l, u, r, b = faces.FRAME_BOX
    mid = (l + r) // 2
    a[u:b, l:mid] = (40 + seed, 200, 40)
    a[u:b, mid:r] = (40, 40 + seed, 200)
    return Image.fromarray(a)


@pytest.fixture
def celeba_dir(tmp_path) -> Path:
    """A fake celeba/ folder in the official format; the held-out 'images' are not JPEGs at all,
    so a reader that opens any of them fails."""
    img = tmp_path / faces.CELEBA_IMAGES
    img.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for n in TRAIN_NUMS + HELDOUT_NUMS:
        name = f"{n:06d}.jpg"
        if n in HELDOUT_NUMS:
            (img / name).write_bytes(b"held out: must never be read by training")
        else:
            coloured_face(n % 50).save(img / name, quality=95)
        vals = rng.choice([-1, 1], size=40)
        vals[faces.ATTRIBUTES.index("Smiling")] = 1 if n % 2 else -1
        rows.append(name + " " + " ".join(f"{v:2d}" for v in vals))
    (tmp_path / faces.CELEBA_ATTRS).write_text(
        f"{len(rows)}\n" + " ".join(faces.ATTRIBUTES) + " \n" + "\n".join(rows) + "\n")
    return tmp_path


def test_frame_face_crops_the_box_and_resizes():
    out = faces.frame_face(coloured_face(0).convert("L").convert("RGBA"))
    assert out.size == (64, 64) and out.mode == "RGB"
    a = np.asarray(faces.frame_face(coloured_face(0))).astype(int)
    # no red from outside the box survives (Lanczos ringing stays well below the red level)
    assert (a[..., 0] < 120).all()
    # left half green, right half blue: the box's middle falls on the output's middle
    assert a[:, :28, 1].min() > 150 and a[:, :28, 2].max() < 90
    assert a[:, 36:, 2].min() > 150 and a[:, 36:, 1].max() < 90


def test_networks_shapes_and_round_trip(tmp_path):
    cfg = faces.FacesConfig(z_dim=16, ngf=4, ndf=4, mapping=1)
    G, D = faces.Generator(cfg).eval(), faces.Discriminator(cfg).eval()
    x = G(torch.randn(3, 16))
    assert x.shape == (3, 3, 64, 64) and x.abs().max() <= 1
    assert D(x).shape == (3,)
    faces.save(G, D, cfg, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= set(faces.FILES.values())
    from ganmodels import weights as W
    for name in faces.FILES.values():
        W.update_manifest(tmp_path, name, data="none (test)", steps=0, command="tests/test_faces.py")
    m = faces.load(store=W.WeightStore(tmp_path), with_D=True)
    assert m.cfg == cfg and m.D is not None
    z = m.z_from_seed(5, 2)
    assert torch.allclose(m.generate(z), G(z), atol=1e-5)
    s = faces.sample_uint8(m, 5, seed=3)
    assert s.shape == (5, 64, 64, 3) and s.dtype == np.uint8
    assert np.array_equal(s, faces.sample_uint8(m, 5, seed=3))


def test_reader_uses_only_its_split(celeba_dir, tmp_path):
    names, files, attrs = faces.celeba_split(celeba_dir, "train")
    assert names == list(faces.ATTRIBUTES)
    assert files == [f"{n:06d}.jpg" for n in TRAIN_NUMS] and attrs.shape == (len(TRAIN_NUMS), 40)
    X, A, _ = faces.load_faces(celeba_dir, "train", cache_dir=tmp_path / "run")   # never opens 8001+
    assert X.shape == (len(TRAIN_NUMS), 64, 64, 3) and X.dtype == np.uint8
    assert list(A[:, faces.ATTRIBUTES.index("Smiling")]) == [n % 2 for n in TRAIN_NUMS]
    assert (tmp_path / "run" / "celeba_train_64.npz").is_file()
    X2, _, _ = faces.load_faces(celeba_dir, "train", cache_dir=tmp_path / "run")    # from the cache
    assert np.array_equal(X, X2)
    assert faces.celeba_split(celeba_dir, "classifier_val")[1] == ["007001.jpg", "007002.jpg", "008000.jpg"]
    with pytest.raises(DataError):   # the held-out files are not images: only reading them fails
        faces.load_faces(celeba_dir, "heldout")
    with pytest.raises(DataError):
        faces.celeba_split(tmp_path / "nowhere", "train")


def test_recipes_train_export_and_resume(celeba_dir, tmp_path):
    from ganmodels.cli import train
    from ganmodels import weights as W
    from ganmodels.inference import face_attributes as FA

    common = ["--data-dir", str(celeba_dir), "--no-progress", "--batch", "4"]
    # the classifier: a 20-step smoke run, exported with its validation accuracy in the header
    cout = tmp_path / "cls"
    train.main(["face_classifier", *common, "--out", str(cout), "--steps", "20", "--width", "4",
                "--feat_dim", "8", "--export", str(cout / "w")])
    net = FC.load(store=W.WeightStore(cout / "w"))
    extra = W.load_network(cout / "w" / FC.FILE, FC.FaceClassifier, FC.FaceClassifierConfig,
                           family=FC.FAMILY, network="C")[2]
    assert extra["attributes"] == list(faces.ATTRIBUTES) and 0 <= extra["val_accuracy_mean"] <= 1
    probs, feats = FC.predict(net, np.zeros((3, 64, 64, 3), np.uint8))
    assert probs.shape == (3, 40) and feats.shape == (3, 8) and ((probs >= 0) & (probs <= 1)).all()

    # the GAN, exported with the attribute vectors that classifier reads from its samples
    out = tmp_path / "gan"
    gan = [*common, "--out", str(out), "--ngf", "4", "--ndf", "4", "--z_dim", "8", "--r1-every", "2"]
    with pytest.raises(SystemExit, match="no face classifier"):
        train.main(["faces", *gan, "--steps", "1", "--classifier", str(tmp_path / "none.safetensors")])
    train.main(["faces", *gan, "--steps", "3", "--sample-every", "3", "--export", str(out / "w"),
                "--classifier", str(cout / "w" / FC.FILE)])
    assert (out / "samples" / "step_000003.png").is_file()
    train.main(["faces", *gan, "--steps", "4", "--resume", "--classifier", ""])
    assert W.load_checkpoint(out / "checkpoint.safetensors", modules={}, optimizers={})[0] == 4
    store = W.WeightStore(out / "w")
    assert faces.sample_uint8(faces.load(store=store), 2).shape == (2, 64, 64, 3)
    attrs = FA.load(store=store)
    assert attrs.z.shape == (FA.POOL, 8) and attrs.probs.shape == (FA.POOL, 40)
    assert attrs.directions.shape == (40, 8)
    assert "command" in W.read_manifest(out / "w")["files"][FA.FILE]
