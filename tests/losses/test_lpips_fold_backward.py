"""LPIPS-alex's first layer computes its image gradient with a fold: the ordinary conv's numbers."""

import copy

import pytest
import torch
import torch.nn.functional as F

from ganinv.nets.lpips_offline import FoldGradConv2d, lpips_network

pytest.importorskip("lpips")


def test_fold_gradient_of_a_strided_conv_and_its_derivative():
    g = torch.Generator().manual_seed(0)
    layer = FoldGradConv2d(3, 2, kernel_size=5, stride=2, padding=1).double().requires_grad_(False)
    x = torch.randn(2, 3, 13, 13, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))
    assert torch.autograd.gradgradcheck(layer, (x,))
    expected = F.conv2d(x, layer.weight, layer.bias, stride=2, padding=1)
    assert torch.equal(layer(x), expected)


@pytest.mark.parametrize("size", [32, 64])
def test_lpips_alex_gradient_matches_the_ordinary_layer(size):
    model = lpips_network("alex")
    assert isinstance(model.net.slice1[0], FoldGradConv2d)
    ordinary = copy.deepcopy(model)
    ordinary.net.slice1[0].weight.requires_grad_(True)  # a trainable layer: plain conv2d
    g = torch.Generator().manual_seed(1)
    real = torch.rand(4, 3, size, size, generator=g) * 2 - 1
    fake = torch.rand(4, 3, size, size, generator=g) * 2 - 1
    grads, values = [], []
    for network in (model, ordinary):
        x = fake.clone().requires_grad_(True)
        value = network(real, x).sum()
        value.backward()
        grads.append(x.grad)
        values.append(value.detach())
    assert torch.equal(values[0], values[1])  # the forward is the same conv
    # measured 2.7e-7 of the largest value
    assert (grads[0] - grads[1]).abs().max() <= 1e-5 * grads[1].abs().max()
