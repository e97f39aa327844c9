"""Fixtures of the SDIC tests (helpers in `sdic_testkit`)."""

from __future__ import annotations

import pytest
import sdic_testkit as kit
import torch


@pytest.fixture(scope="session")
def sdic_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return kit.make_world(tmp_path_factory.mktemp("sdic_world"))
    finally:
        torch.set_num_threads(threads)
