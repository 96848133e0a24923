"""DiffAugment (ganmodels.augment): differentiable, shape-preserving, off in eval mode."""
import pytest
import torch

from ganmodels import augment as A


def test_translation_shifts_content_and_fills_the_border():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 16, 16) * 0.5 + 0.25            # values in (0.25, 0.75): the fill −1 is distinct
    y = A.translation(x, ratio=0.125, fill=-1.0)
    assert y.shape == x.shape
    shifted = 0
    for a, b in zip(x, y):
        found = False
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                r = torch.roll(a, (dy, dx), (1, 2))
                ys = slice(max(dy, 0), 16 + min(dy, 0))
                xs = slice(max(dx, 0), 16 + min(dx, 0))
                if torch.equal(r[:, ys, xs], b[:, ys, xs]) and (b == -1).sum() == 16 * 16 - r[:, ys, xs].numel():
                    found, shifted = True, shifted + (dy != 0 or dx != 0)
        assert found, "each image must be an integer shift of its input, the uncovered border filled"
    assert shifted > 32                                   # most images are actually moved


def test_cutout_blanks_one_square():
    y = A.cutout(torch.zeros(32, 1, 28, 28), ratio=0.5, fill=-1.0)
    holes = (y == -1).sum((1, 2, 3))
    assert (holes > 0).all() and (holes <= 15 * 15).all()


def test_gradients_flow_through_every_policy():
    x = torch.randn(8, 1, 28, 28, requires_grad=True)
    A.diff_augment(x, "translation,cutout,color").square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_augmented_D_is_D_in_eval_mode_and_has_no_weights_of_its_own():
    D = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 1))
    AD = A.AugmentedD(D, "translation,cutout")
    assert {n for n, _ in AD.named_parameters()} == {"D." + n for n, _ in D.named_parameters()}
    x = torch.randn(4, 1, 28, 28)
    AD.eval()
    assert torch.equal(AD(x), D(x))
    AD.train()
    torch.manual_seed(1)
    assert not torch.equal(AD(x), D(x))


def test_unknown_policy_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="translation, cutout, color"):
        A.parse_policy("translation,zoom")


@pytest.mark.parametrize("model,extra", [
    ("dcgan", ["--z_dim", "8", "--ngf", "4", "--ndf", "4", "--diffaug", "translation,cutout"]),
    ("infogan", ["--fc_g", "16", "--ngf", "4", "--ndf", "4", "--fc_d", "16", "--fc_q", "8", "--diffaug", "translation"]),
])
def test_training_with_diffaug_exports_plain_weights(tmp_path, model, extra):
    """--diffaug trains through D ∘ T, but the exported D is the plain D (loads as usual), and the
    manifest's command keeps the policy so the run can be reproduced."""
    from ganmodels.models import dcgan
    from ganmodels.models import infogan
    from ganmodels.cli import train
    from ganmodels import weights as W

    exp = tmp_path / "exp"
    assert train.main([model, "--steps", "2", "--batch", "8", "--threads", "1", "--no-progress",
                       "--out", str(tmp_path / "run"), "--export", str(exp), *extra]) == 0
    fam = {"dcgan": dcgan, "infogan": infogan}[model]
    m = fam.load(exp)
    assert m.D is not None and not isinstance(m.D, A.AugmentedD)
    assert "--diffaug" in W.read_manifest(exp)["files"][fam.FILES["G"]]["command"]
