import os
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.core.registry import LOSSES
from ganinv.core.space import Code
from ganinv.losses.base import LossInputs
from ganinv.nets.face_id import ArcFaceIdentity


@pytest.fixture(scope="module")
def offline_cache(tmp_path_factory):
    pytest.importorskip("lpips")
    old = os.environ.get("GANINV_CACHE")
    os.environ["GANINV_CACHE"] = str(tmp_path_factory.mktemp("ganinv-cache"))
    yield
    if old is None:
        os.environ.pop("GANINV_CACHE", None)
    else:
        os.environ["GANINV_CACHE"] = old


def _images(seed: int, n: int = 2, size: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


class _Space:
    """W+ space stand-in: code tensor 'wplus' [B, num_ws, w_dim]."""

    name = "wplus"

    def __init__(self, w_avg):
        self.generator = SimpleNamespace(w_avg=w_avg)

    def to_wplus(self, code):
        return code["wplus"]


def test_mse_is_nn_mse():
    real, fake = _images(0), _images(1)
    loss = LOSSES.build("mse")(LossInputs(real=real, fake=fake))
    assert loss.item() == pytest.approx(F.mse_loss(fake, real).item())


def test_wnorm_is_unsquared_frobenius_norm_batch_mean():
    w_avg = torch.randn(4)
    wplus = torch.randn(3, 5, 4)
    code = Code("wplus", {"wplus": wplus})
    loss = LOSSES.build("wnorm")(
        LossInputs(real=_images(0, 3), fake=_images(1, 3), code=code, space=_Space(w_avg))
    )
    expected = torch.stack([torch.sqrt(((w - w_avg) ** 2).sum()) for w in wplus]).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_adversarial_is_non_saturating_and_needs_a_discriminator():
    fake = _images(1)
    d = lambda x: x.mean(dim=(1, 2, 3))  # noqa: E731
    loss = LOSSES.build("adversarial")(LossInputs(real=_images(0), fake=fake, discriminator=d))
    assert loss.item() == pytest.approx(F.softplus(-d(fake)).mean().item())
    with pytest.raises(GanInvError, match="needs a discriminator"):
        LOSSES.build("adversarial")(LossInputs(real=_images(0), fake=fake))


def test_encoder_consistency_uses_eval_encoder_and_reaches_the_code():
    class Encoder(torch.nn.Module):
        input_resolution = 16

        def __init__(self):
            super().__init__()
            self.bn = torch.nn.BatchNorm2d(3)
            self.fc = torch.nn.Linear(3 * 16 * 16, 2 * 4)

        def forward(self, x):
            assert not self.training and x.shape[-1] == 16
            return Code("wplus", {"wplus": self.fc(self.bn(x).flatten(1)).view(-1, 2, 4)})

    encoder = Encoder().train()
    wplus = torch.randn(2, 2, 4, requires_grad=True)
    fake = torch.tanh(wplus.sum() + _images(3))  # an image that depends on the code
    code = Code("wplus", {"wplus": wplus})
    inputs = LossInputs(
        real=_images(0), fake=fake, code=code, space=_Space(torch.zeros(4)), encoder=encoder
    )
    loss = LOSSES.build("encoder_consistency")(inputs)
    assert encoder.training  # its mode is restored
    encoder.eval()
    with torch.no_grad():
        expected = F.mse_loss(encoder(F.adaptive_avg_pool2d(fake, 16))["wplus"], wplus)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    assert wplus.grad is not None and wplus.grad.abs().sum() > 0


def _example(name: str) -> torch.Tensor:
    from pathlib import Path

    import numpy as np
    from PIL import Image

    path = Path(__file__).resolve().parents[1] / "data" / "lpips" / f"{name}.png"
    array = np.asarray(Image.open(path).convert("RGB")).copy()
    return torch.from_numpy(array).permute(2, 0, 1)[None].float() / 127.5 - 1


def test_lpips_alex_loss_equals_reference_and_has_gradient(offline_cache):
    ref, p0, p1 = (_example(n) for n in ("ex_ref", "ex_p0", "ex_p1"))
    loss_fn = LOSSES.build("lpips_alex")
    fake = torch.cat([p0, p1]).requires_grad_(True)
    loss = loss_fn(LossInputs(real=torch.cat([ref, ref]), fake=fake))
    # published values have 4 decimals; measured difference 2.7e-5 (docs/verification.md)
    assert loss.item() == pytest.approx((0.7219 + 0.1376) / 2, abs=1e-4)
    loss.backward()
    assert fake.grad.abs().sum() > 0
    loss_fn.train()
    assert not loss_fn.lpips.training  # the network stays in eval mode


def test_vgg_perceptual_is_feature_mse(offline_cache):
    loss_fn = LOSSES.build("vgg_perceptual", resize_to=64)
    real, fake = _images(0), _images(1).requires_grad_(True)
    loss = loss_fn(LossInputs(real=real, fake=fake))
    with torch.no_grad():
        expected = F.mse_loss(loss_fn.vgg(fake), loss_fn.vgg(real))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    loss.backward()
    assert fake.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in loss_fn.parameters())


def test_identity_losses_need_local_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GANINV_CACHE", str(tmp_path))
    for name, file in (("id_arcface", "model_ir_se50.pth"), ("id_facenet", "vggface2.pt")):
        with pytest.raises(GanInvError, match=file):
            LOSSES.build(name)


def test_arcface_identity_crop_and_unit_embeddings():
    model = ArcFaceIdentity().eval()
    with torch.no_grad():
        emb = model(_images(0, 2, 64))  # resized to 256, cropped, pooled to 112
    assert emb.shape == (2, 512)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2))
