"""Fixtures of the HFGI tests (helpers in `hfgi_testkit`)."""

from __future__ import annotations

import hfgi_testkit as kit
import pytest
import torch


@pytest.fixture(scope="session")
def hfgi_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return kit.make_world(tmp_path_factory.mktemp("hfgi_world"))
    finally:
        torch.set_num_threads(threads)
