"""Settings for the whole suite; shared helpers live in `tiny_world.py` beside this file."""

from __future__ import annotations

import pytest
import torch
from tiny_world import one_thread
from tiny_world import tiny_generator as make_tiny_generator

import ganinv
from ganinv.stylegan2.generator import StyleGAN2Generator


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks run fastest on one thread on the 2-core CI machine, and sums are exact."""
    with one_thread():
        yield


@pytest.fixture(scope="module")
def tiny_generator() -> StyleGAN2Generator:
    """A frozen 16 px generator (noise strength 0.1, so per-layer noise changes the image)."""
    return make_tiny_generator(noise_strength=0.1)


@pytest.fixture(scope="module")
def wplus(tiny_generator):
    return ganinv.build("spaces", "wplus", generator=tiny_generator)


@pytest.fixture(scope="module")
def images(tiny_generator):
    """Four images rendered by `tiny_generator`."""
    torch.manual_seed(0)
    with torch.no_grad():
        return tiny_generator(torch.randn(4, tiny_generator.z_dim))
