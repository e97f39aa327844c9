"""Fixtures of the baseline tests (helpers in `tests/tiny_world.py`)."""

from __future__ import annotations

import pytest
from tiny_world import tiny_generator as make_tiny_generator

from ganinv.stylegan2.generator import StyleGAN2Generator


@pytest.fixture(scope="module")
def tiny_generator() -> StyleGAN2Generator:
    return make_tiny_generator(noise_strength=0.1)
