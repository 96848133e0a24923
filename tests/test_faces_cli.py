"""Faces beyond the networks: attribute-vector arithmetic, face inpainting, the CLI verbs that other
tools call (``generate faces``, ``edit faces``, ``inpaint --model faces``) and the evaluator — on tiny
models and images the tests make (never the real data)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganmodels import weights as W
from ganmodels.errors import InputError
from ganmodels.inference import face_attributes as FA
from ganmodels.inference import face_inpaint as FI
from ganmodels.models import faces


def stub_attributes(d: int = 4) -> FA.FaceAttributes:
    """Known directions: Smiling = e0, Male = e0 + e1, Eyeglasses = e2, Blond_Hair = 0 (others 0)."""
    dirs = torch.zeros(40, d)
    dirs[FA.attribute_index("Smiling"), 0] = 1
    dirs[FA.attribute_index("Male"), :2] = 1
    dirs[FA.attribute_index("Eyeglasses"), 2] = 1
    probs = torch.full((5, 40), 0.5)
    probs[:, FA.attribute_index("Smiling")] = torch.tensor([0.9, 0.1, 0.8, 0.2, 0.95])
    probs[:, FA.attribute_index("Male")] = torch.tensor([0.1, 0.9, 0.2, 0.95, 0.9])
    return FA.FaceAttributes(z=torch.randn(5, d), probs=probs, directions=dirs, counts=torch.zeros(40))


def test_attribute_vectors_raw_and_kept():
    a = stub_attributes()
    z = torch.zeros(2, 4)
    # raw: z + α·v exactly
    assert torch.allclose(a.edit(z, {"Male": 2.0}, keep=()), torch.tensor([[2.0, 2.0, 0, 0]] * 2))
    # keeping Smiling removes Male's component along Smiling's vector (e0): only e1 is left
    assert torch.allclose(a.vector("Male", keep=["Smiling"]), torch.tensor([0.0, 1.0, 0, 0]))
    # the default keeps the other slider attributes: Male ⟂ Smiling, Eyeglasses
    v = a.edit(z, {"Male": 1.0})[0]
    assert abs(float(v @ a.directions[FA.attribute_index("Smiling")])) < 1e-6
    assert torch.allclose(v, torch.tensor([0.0, 1.0, 0, 0]))
    # two edits add up; a zero amount changes nothing
    both = a.edit(z, {"Smiling": 1.0, "Eyeglasses": -1.0}, keep=())
    assert torch.allclose(both[0], torch.tensor([1.0, 0, -1.0, 0]))
    assert torch.equal(a.edit(z, {"Smiling": 0.0}), z)
    with pytest.raises(InputError):
        a.edit(z, {"Smiling": float("nan")})


def test_unknown_attribute_lists_all_forty():
    with pytest.raises(InputError) as e:
        FA.attribute_index("Smilin")
    assert all(n in str(e.value) for n in faces.ATTRIBUTES)


def test_groups_pick_the_most_confident_samples():
    a = stub_attributes()
    # smiling women: Smiling high and Male low → sample 0 (0.9·0.9), then 2 (0.8·0.8)
    assert a.group({"Smiling": True, "Male": False}, k=2) == [0, 2]
    assert a.group({"Smiling": True, "Male": False}, k=1, exclude=[0]) == [2]


def test_compute_is_the_difference_of_group_means():
    # a stub G whose "face" is z itself, and a classifier that reads attribute 0 as z[0] > 0
    def generate(z):
        return z

    def classify(x):
        p = torch.full((len(x), 40), 0.2)
        p[:, 0] = (x[:, 0] > 0).float()
        return p

    a = FA.compute(generate, classify, z_dim=3, n=400, seed=1)
    has = a.z[:, 0] > 0
    want = a.z[has].mean(0) - a.z[~has].mean(0)
    assert torch.allclose(a.directions[0], want, atol=1e-5)
    assert int(a.counts[0]) == int(has.sum())
    assert torch.equal(a.directions[1], torch.zeros(3))      # nobody has attribute 1: no vector


def test_face_masks_and_photo_framing():
    for kind in FI.MASK_KINDS:
        m = FI.face_mask(kind)
        assert m.shape == (64, 64) and 0 < (m < 0.5).sum() < 64 * 64
    assert (FI.face_mask("center") < 0.5).sum() == 32 * 32
    with pytest.raises(InputError):
        FI.face_mask("nose")
    face, notes = FI.photo_to_face(np.zeros((100, 200, 3), np.uint8))
    assert face.shape == (64, 64, 3) and any("100×100" in n for n in notes)
    with pytest.raises(InputError, match="too small"):
        FI.photo_to_face(np.zeros((20, 300, 3), np.uint8))
    with pytest.raises(InputError):
        FI.check_mask(np.ones((64, 64)))
    with pytest.raises(InputError):
        FI.check_mask(np.zeros((64, 64)))


def test_face_inpainting_keeps_known_pixels(face_weights):
    model = faces.load(store=W.WeightStore(face_weights))
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    known = np.stack([FI.face_mask("center"), FI.face_mask("left")])
    frames = []
    it = FI.inpaint_faces(model.G, model.D, imgs, known, steps=3, restarts=2, pool=4, blend="composite",
                          frame_every=1)
    while True:
        try:
            frames.append(next(it))
        except StopIteration as e:
            res = e.value
            break
    assert frames and frames[0].composite.shape == (2, 3, 64, 64)
    out = FI.to_uint8_hwc(res.image)
    assert out.shape == (2, 64, 64, 3)
    kn = known > 0.5
    assert np.abs(out[kn].astype(int) - imgs[kn].astype(int)).max() <= 1
    assert res.candidates.shape == (2, 2, 3, 64, 64)


def _cli(argv):
    from ganmodels.cli.main import main
    return main([str(a) for a in argv])


def test_generate_and_edit_cli(face_weights, tmp_path):
    w = tmp_path / "w"
    shutil.copytree(face_weights, w)
    # attribute vectors with a known, non-zero Smiling vector (the tiny classifier reads nothing)
    torch.manual_seed(3)
    a = FA.load(store=W.WeightStore(w))
    a.directions[FA.attribute_index("Smiling")] = torch.randn(a.z_dim)
    FA.save(a, w / FA.FILE)
    W.update_manifest(w, FA.FILE, data="none (test)", steps=0, command="test")

    _cli(["generate", "faces", "--n", 3, "--seed", 5, "--out", tmp_path / "g.npz", "--weights", w])
    with np.load(tmp_path / "g.npz") as f:
        g = f["images"]
    assert g.shape == (3, 64, 64, 3) and g.dtype == np.uint8

    _cli(["edit", "faces", "--attribute", "Smiling", "--n", 3, "--seed", 5, "--out", tmp_path / "e.npz",
          "--weights", w])
    with np.load(tmp_path / "e.npz") as f:
        assert sorted(f.files) == ["after", "before"]
        before, after = f["before"], f["after"]
    assert before.shape == after.shape == (3, 64, 64, 3) and after.dtype == np.uint8
    assert np.array_equal(before, g)                       # the same samples as generate
    model = faces.load(store=W.WeightStore(w))
    z = model.z_from_seed(5, 3)
    want = model.generate_uint8(a.edit(z, {"Smiling": FA.DEFAULT_AMOUNT}))
    assert np.array_equal(after, want) and not np.array_equal(after, before)

    with pytest.raises(SystemExit, match="Blond_Hair"):       # the message lists the 40 names
        _cli(["edit", "faces", "--attribute", "smiling", "--n", 2, "--out", tmp_path / "x.npz", "--weights", w])
    assert not (tmp_path / "x.npz").exists()


def test_inpaint_cli_faces(face_weights, tmp_path):
    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    masks = np.zeros((2, 64, 64), np.uint8)
    masks[:, 16:48, 16:48] = 255
    np.savez(tmp_path / "in.npz", images=imgs)
    np.savez(tmp_path / "m.npz", masks=masks)
    _cli(["inpaint", "--model", "faces", "--images", tmp_path / "in.npz", "--masks", tmp_path / "m.npz",
          "--out", tmp_path / "out.npz", "--weights", face_weights, "--steps", 2, "--restarts", 2,
          "--blend", "composite"])
    with np.load(tmp_path / "out.npz") as f:
        out = f["images"]
    assert out.shape == (2, 64, 64, 3) and out.dtype == np.uint8
    kn = masks < 128
    assert np.abs(out[kn].astype(int) - imgs[kn].astype(int)).max() <= 1
    assert (out[~kn] != imgs[~kn]).any()

    np.savez(tmp_path / "digits.npz", images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(SystemExit, match=r"\(N,64,64,3\)"):
        _cli(["inpaint", "--model", "faces", "--images", tmp_path / "digits.npz", "--masks", tmp_path / "m.npz",
              "--out", tmp_path / "o2.npz", "--weights", face_weights])
    np.savez(tmp_path / "empty.npz", masks=np.zeros((2, 64, 64), np.uint8))
    with pytest.raises(SystemExit, match="no pixel as missing"):
        _cli(["inpaint", "--model", "faces", "--images", tmp_path / "in.npz", "--masks", tmp_path / "empty.npz",
              "--out", tmp_path / "o3.npz", "--weights", face_weights])

    # a single photo of any size: its centred square, the mask alike
    Image.fromarray(rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    mk = np.zeros((90, 120), np.uint8)
    mk[30:60, 45:75] = 255
    Image.fromarray(mk).save(tmp_path / "pm.png")
    _cli(["inpaint", "--model", "faces", "--image", tmp_path / "p.png", "--mask", tmp_path / "pm.png",
          "--out", tmp_path / "p_out.png", "--weights", face_weights, "--steps", 1, "--restarts", 1])
    assert Image.open(tmp_path / "p_out.png").size == (64, 64)


@pytest.fixture
def full_celeba(tmp_path) -> Path:
    """A fake celeba/ folder with real (random-colour) images in every split."""
    img = tmp_path / faces.CELEBA_IMAGES
    img.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for n in (*range(1, 9), *range(7001, 7007), *range(8001, 8011)):
        name = f"{n:06d}.jpg"
        Image.fromarray(rng.integers(0, 256, (109, 89, 3), dtype=np.uint8)).save(img / name)
        rows.append(name + " " + " ".join(f"{v:2d}" for v in rng.choice([-1, 1], size=40)))
    (tmp_path / faces.CELEBA_ATTRS).write_text(
        f"{len(rows)}\n" + " ".join(faces.ATTRIBUTES) + " \n" + "\n".join(rows) + "\n")
    return tmp_path


def test_evaluate_faces_json(face_weights, full_celeba, capsys, monkeypatch):
    from ganmodels.cli import evaluate
    from ganmodels.evaluation import faces as EF

    monkeypatch.setattr(FI, "STEPS", 2)
    monkeypatch.setattr(FI, "RESTARTS", 2)
    evaluate.main(["faces", "--weights", str(face_weights), "--data-dir", str(full_celeba), "--json"])
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    m = res["metrics"]
    assert set(res["files"]) == {*faces.FILES.values(), FA.FILE}
    assert m["n_fid"] == 10
    fid = m["classifier_fid"]
    assert set(fid) == {"samples_to_heldout", "floor_train_to_heldout", "reference_40px_train_to_heldout"}
    assert all(np.isfinite(v) and v >= -1e-6 for v in fid.values())
    assert set(m["attribute_edits"]) == set(FA.SLIDERS)
    inp = m["inpainting"]
    assert inp["n"] == 10 and {"gan", "biharmonic"} <= set(inp)
    assert 0 <= inp["gan"]["agreement_Smiling"] <= 1
    assert "--data-dir" in m["eval_command"]
    # shrinking to 40 px and back loses detail but keeps the size
    x = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    y = EF.shrink_and_enlarge(x)
    assert y.shape == x.shape and not np.array_equal(x, y)

    evaluate.main(["face_classifier", "--weights", str(face_weights), "--data-dir", str(full_celeba), "--json"])
    m = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["metrics"]
    assert m["n"] == 6 and 0 <= m["val_accuracy_mean"] <= 1 and len(m["val_accuracy"]) == 40


def test_evaluate_faces_needs_data(face_weights):
    from ganmodels.cli import evaluate
    with pytest.raises(SystemExit, match="--data-dir"):
        evaluate.main(["faces", "--weights", str(face_weights)])
