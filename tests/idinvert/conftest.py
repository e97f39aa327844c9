"""Tiny random StyleGAN2 generators (16 px, 16 channels, z/w dim 16) for the IDInvert tests."""

from __future__ import annotations

import pytest
import torch

import ganinv.losses.mse  # noqa: F401  (registers 'mse' even before the built-ins list it)
from ganinv.stylegan2.generator import StyleGAN2Generator


def make_tiny_generator(seed: int = 0, noise_strength: float = 0.1) -> StyleGAN2Generator:
    """A frozen 16 px generator whose w_avg is the mean of 2000 mapped z (as after training)."""
    torch.manual_seed(seed)
    g = StyleGAN2Generator(
        z_dim=16, w_dim=16, resolution=16, channels={4: 16, 8: 16, 16: 16}, mapping_layers=2
    )
    with torch.no_grad():
        g.w_avg.copy_(g.mapping_w(torch.randn(2000, 16)).mean(0))
        for name, p in g.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(noise_strength)  # so per-layer noise changes the image
    return g.eval().requires_grad_(False)


@pytest.fixture(scope="module")
def tiny_generator() -> StyleGAN2Generator:
    return make_tiny_generator()


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks run fastest on one thread on the shared 2-core CI machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
