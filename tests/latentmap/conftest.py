"""Fixtures of the latent-map tests (helpers in `latentmap_testkit`)."""

from __future__ import annotations

import latentmap_testkit as kit
import pytest
import torch


@pytest.fixture(scope="session")
def latentmap_generator(tmp_path_factory: pytest.TempPathFactory):
    return kit.make_generator_file(tmp_path_factory.mktemp("latentmap") / "g.safetensors")


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks run fastest on one thread on the shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
