"""The fast resampling ops equal the straightforward reference formulation (and NVlabs' upfirdn2d
semantics), and support double backward."""

from __future__ import annotations

import pytest
import torch

from ganinv.stylegan2 import ops


def _asymmetric_filter() -> torch.Tensor:
    # A non-symmetric filter catches any flip / offset mistake that [1, 3, 3, 1] would hide.
    f = torch.arange(1.0, 17.0).reshape(4, 4) ** 0.5
    return f / f.sum()


@pytest.mark.parametrize("filt", ["standard", "asymmetric"])
@pytest.mark.parametrize(
    "fast, ref",
    [
        (ops.conv_up2d, ops.conv_up2d_ref),
        (ops.conv_up2d_polyphase, ops.conv_up2d_ref),
        (ops.conv_down2d, ops.conv_down2d_ref),
        (ops.conv_down2d_fused, ops.conv_down2d_ref),
    ],
)
def test_sg2_resampling_convs_match_reference(fast, ref, filt):
    torch.manual_seed(0)
    f = ops.setup_filter() if filt == "standard" else _asymmetric_filter()
    x = torch.randn(2, 5, 8, 8)
    w = torch.randn(7, 5, 3, 3)
    expected = ref(x, w, f)
    assert fast(x, w, f).shape == expected.shape
    assert (fast(x, w, f) - expected).abs().max().item() <= 1e-5


@pytest.mark.parametrize("filt", ["standard", "asymmetric"])
def test_sg2_fir_resampling_matches_reference(filt):
    torch.manual_seed(0)
    f = ops.setup_filter() if filt == "standard" else _asymmetric_filter()
    x = torch.randn(2, 3, 8, 8)
    up = ops.upsample2d(x, f)
    assert up.shape == (2, 3, 16, 16)
    assert (up - ops.upsample2d_ref(x, f)).abs().max().item() <= 1e-6
    down = ops.downsample2d(x, f)
    assert down.shape == (2, 3, 4, 4)
    assert (down - ops.downsample2d_ref(x, f)).abs().max().item() <= 1e-6


def test_sg2_upfirdn2d_ref_semantics():
    # An impulse upsampled by 2 with [1, 3, 3, 1] and pads (2, 1) spreads to the bilinear-like
    # taps [1, 3, 3, 1] / 4 per axis (gain 4 in 2-D), as in NVlabs' upsample2d.
    x = torch.zeros(1, 1, 4, 4)
    x[0, 0, 1, 1] = 1
    y = ops.upsample2d_ref(x, ops.setup_filter())
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0]) / 4
    expected = torch.zeros(8, 8)
    expected[1:5, 1:5] = taps[:, None] * taps[None, :]
    assert torch.allclose(y[0, 0], expected, atol=1e-7)
    # The constant image stays constant away from the zero-padded border (unit DC gain).
    ones = ops.upsample2d_ref(torch.ones(1, 1, 6, 6), ops.setup_filter())
    assert torch.allclose(ones[0, 0, 2:-2, 2:-2], torch.ones(8, 8))
    # downsampling halves and keeps the DC gain too
    down = ops.downsample2d_ref(torch.ones(1, 1, 8, 8), ops.setup_filter())
    assert torch.allclose(down[0, 0, 1:-1, 1:-1], torch.ones(2, 2))


def test_sg2_bias_lrelu():
    x = torch.tensor([[-1.0, 2.0]])
    out = ops.bias_lrelu(x, torch.tensor([0.5, -1.0]))
    expected = torch.tensor([[-0.5 * 0.2, 1.0]]) * 2**0.5
    assert torch.allclose(out, expected)


@pytest.mark.parametrize("op", [ops.conv_up2d, ops.conv_down2d, ops.upsample2d, ops.downsample2d])
def test_sg2_ops_double_backward(op):
    torch.manual_seed(0)
    f = ops.setup_filter().double()
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    if op in (ops.conv_up2d, ops.upsample2d):
        x = x[:, :, :3, :3].detach().requires_grad_(True)
    if op in (ops.conv_up2d, ops.conv_down2d):
        w = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradgradcheck(lambda a, b: op(a, b, f), (x, w))
    else:
        assert torch.autograd.gradgradcheck(lambda a: op(a, f), (x,))
