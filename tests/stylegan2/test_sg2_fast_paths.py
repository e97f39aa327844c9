"""The CPU speed-ups of the synthesis path compute what the plain ops compute.

- `ops.scale_add_lrelu` (one autograd node for demodulation, noise, bias and leaky ReLU): the
  forward is bit-identical to ``leaky_relu(addcmul(...))``, gradients match autograd of those
  ops, double backward works (path-length regularisation) and x's memory format is kept;
- synthesis on CPU runs channels-last: the image (returned in the standard layout), the
  gradients to the codes and the path-length double backward equal those of the standard layout
  (``cpu_memory_format = torch.contiguous_format``) up to float rounding, and a few optimisation
  steps reach the same codes. (The whole networks against the original implementations:
  test_sg2_reference_vectors.py.)
"""

import contextlib

import pytest
import torch
import torch.nn.functional as F
from tiny_world import tiny_generator

import ganinv
from ganinv.stylegan2 import ops

# The synthesis layer's (noise + bias) term for x [B, C, R, R], by noise mode.
BASE_KINDS = ("const", "random", "none")


def _base_shape(kind: str, b: int, c: int, r: int) -> tuple[int, ...]:
    return {"const": (c, r, r), "random": (b, c, r, r), "none": (c, 1, 1)}[kind]


def _reference(x, scale, base, alpha=0.2):
    return F.leaky_relu(torch.addcmul(base, x, scale[:, :, None, None]), alpha)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("kind", BASE_KINDS)
def test_scale_add_lrelu_equals_the_plain_ops(kind, layout):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 6, 6, generator=g).contiguous(memory_format=layout).requires_grad_(True)
    scale = torch.randn(3, 5, generator=g, requires_grad=True)
    base = torch.randn(_base_shape(kind, 3, 5, 6), generator=g, requires_grad=True)
    upstream = torch.randn(3, 5, 6, 6, generator=g)
    ours = ops.scale_add_lrelu(x, scale, base)
    grads = torch.autograd.grad(ours, (x, scale, base), upstream)
    ref = _reference(x, scale, base)
    ref_grads = torch.autograd.grad(ref, (x, scale, base), upstream)
    assert torch.equal(ours, ref)
    assert ours.is_contiguous(memory_format=layout)
    for a, b in zip(grads, ref_grads):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", BASE_KINDS)
def test_scale_add_lrelu_first_and_second_derivatives(kind):
    g = torch.Generator().manual_seed(1)
    shapes = [(2, 3, 4, 4), (2, 3), _base_shape(kind, 2, 3, 4)]
    args = tuple(
        torch.randn(shape, generator=g, dtype=torch.float64, requires_grad=True) for shape in shapes
    )

    def fn(x, scale, base):
        return ops.scale_add_lrelu(x, scale, base)

    assert torch.autograd.gradcheck(fn, args)
    assert torch.autograd.gradgradcheck(fn, args)


def test_scale_add_lrelu_keeps_channels_last():
    x = torch.randn(2, 4, 5, 5).contiguous(memory_format=torch.channels_last)
    out = ops.scale_add_lrelu(x, torch.randn(2, 4), torch.randn(4, 5, 5))
    assert out.is_contiguous(memory_format=torch.channels_last)


CHANNELS = {4: 16, 8: 16, 16: 8, 32: 8}


@pytest.fixture(scope="module")
def generator():
    # 32 px, 3 up-blocks, noise on: every kind of layer the demo generator has.
    return tiny_generator(3, channels=CHANNELS, noise_strength=0.1)


@contextlib.contextmanager
def standard_layout(g):
    """The synthesis as before channels-last: the reference of these tests."""
    g.cpu_memory_format = torch.contiguous_format
    try:
        yield
    finally:
        del g.cpu_memory_format  # back to the class's channels-last


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest difference relative to the largest value of `b`."""
    return float((a - b).abs().max() / b.abs().max())


def _codes(g, batch=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return g.w_avg + 0.5 * torch.randn(batch, g.num_ws, g.w_dim, generator=gen)


def test_channels_last_synthesis_equals_the_standard_layout(generator):
    ws = _codes(generator).requires_grad_(True)
    plain = generator.synthesize(ws)
    (grad,) = torch.autograd.grad(plain.square().mean(), ws)
    with standard_layout(generator):
        standard = generator.synthesize(ws)
    (standard_grad,) = torch.autograd.grad(standard.square().mean(), ws)
    assert plain.is_contiguous()  # callers get the standard layout
    torch.testing.assert_close(plain, standard, rtol=0, atol=5e-6)
    assert _max_diff(grad, standard_grad) <= 1e-5  # measured 3e-7


def test_channels_last_path_length_double_backward():
    """The GAN trainer's path-length term differentiates a gradient to ws (create_graph)."""
    g = tiny_generator(3, channels=CHANNELS, noise_strength=0.1).requires_grad_(True)
    ws = _codes(g).requires_grad_(True)
    noise = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    results = []
    for layout in (contextlib.nullcontext(), standard_layout(g)):
        with layout:
            img = g.synthesize(ws)
            (grad,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
            penalty = grad.square().sum(2).mean()
            weights = torch.autograd.grad(penalty, [g.synthesis["b32"].conv0.weight, ws])
        results.append(weights)
    for a, b in zip(*results):
        assert _max_diff(a, b) <= 1e-5  # second-order: measured 4e-7 and 8e-7


def test_a_few_optimisation_steps_reach_the_same_codes(generator):
    """W+ optimisation (MSE, 5 Adam steps) channels-last and in the standard layout: the same
    final codes within 1e-5 relative."""
    space = ganinv.build("spaces", "wplus", generator=generator)
    with torch.no_grad():
        targets = generator.synthesize(_codes(generator, seed=5))
    codes = []
    for layout in (contextlib.nullcontext(), standard_layout(generator)):
        wplus = space.init_code(4)["wplus"].clone().requires_grad_(True)
        optimizer = torch.optim.Adam([wplus], lr=0.01)
        with layout:
            for _ in range(5):
                loss = F.mse_loss(space.render(space.make_code(wplus)), targets)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        codes.append(wplus.detach())
    assert _max_diff(codes[0], codes[1]) <= 1e-5
