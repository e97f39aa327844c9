"""The LPIPS loss computes a fixed target's features once and gets the full call's numbers."""

import pytest
import torch

from ganinv.core.registry import LOSSES
from ganinv.losses import lpips as lpips_module
from ganinv.losses.base import LossInputs

pytest.importorskip("lpips")


def _images(seed: int, n: int = 3, size: int = 32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def _reference(
    loss_fn, real: torch.Tensor, fake: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The package's own call (value, gradient to fake)."""
    fake = fake.detach().clone().requires_grad_(True)
    value = loss_fn.lpips(real, fake).mean()
    value.backward()
    return value.detach(), fake.grad


def _ours(loss_fn, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    fake = fake.detach().clone().requires_grad_(True)
    value = loss_fn(LossInputs(real=real, fake=fake))
    value.backward()
    return value.detach(), fake.grad


@pytest.fixture
def counted(monkeypatch):
    """Counts the target feature computations of the loss."""
    calls = []
    original = lpips_module.lpips_features

    def spy(model, x):
        calls.append(x)
        return original(model, x)

    monkeypatch.setattr(lpips_module, "lpips_features", spy)
    return calls


@pytest.mark.parametrize("name", ["lpips_alex", "lpips_vgg"])
def test_reused_target_features_give_the_full_call_exactly(name, counted):
    loss_fn = LOSSES.build(name)
    real = _images(0)
    for seed in (1, 2, 3):  # one target, a new rendering each step
        fake = _images(seed)
        value, grad = _ours(loss_fn, real, fake)
        expected, expected_grad = _reference(loss_fn, real, fake)
        assert torch.equal(value, expected)
        assert torch.equal(grad, expected_grad)
    assert len(counted) == 1 and counted[0] is real  # the target's features: computed once


def test_a_changed_or_new_target_is_recomputed(counted):
    loss_fn = LOSSES.build("lpips_alex")
    real, fake = _images(0), _images(1)
    _ours(loss_fn, real, fake)
    real.mul_(0.5)  # changed in place: the version counter moves
    value, _ = _ours(loss_fn, real, fake)
    assert torch.equal(value, _reference(loss_fn, real, fake)[0])
    other = real.clone()  # equal values, another tensor: computed for it
    value, _ = _ours(loss_fn, other, fake)
    assert torch.equal(value, _reference(loss_fn, other, fake)[0])
    assert sum(x is real for x in counted) == 2
    assert sum(x is other for x in counted) == 1


def test_a_target_that_needs_a_gradient_gets_one():
    loss_fn = LOSSES.build("lpips_alex")
    real = _images(0).requires_grad_(True)
    fake = _images(1)
    loss_fn(LossInputs(real=real, fake=fake)).backward()
    assert real.grad is not None and real.grad.abs().sum() > 0
    assert loss_fn._target is None  # nothing kept: the target is part of the graph
