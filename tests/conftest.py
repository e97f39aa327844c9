"""Settings for the whole suite; shared helpers live in `tiny_world.py` beside this file."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks run fastest on one thread on the 2-core CI machine, and sums are exact."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
