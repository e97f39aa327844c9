"""Fixtures of the IDInvert tests (helpers in `idinvert_testkit`)."""

from __future__ import annotations

import idinvert_testkit as kit
import pytest
import torch

from ganinv.stylegan2.generator import StyleGAN2Generator


@pytest.fixture(scope="module")
def tiny_generator() -> StyleGAN2Generator:
    return kit.make_tiny_generator()


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks run fastest on one thread on the shared 2-core CI machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
