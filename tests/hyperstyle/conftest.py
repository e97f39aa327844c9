"""Fixtures of the HyperStyle tests (helpers in `hyperstyle_testkit`)."""

from __future__ import annotations

import hyperstyle_testkit as kit
import pytest
import torch


@pytest.fixture(scope="session")
def hs_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return kit.make_world(tmp_path_factory.mktemp("hyperstyle_world"))
    finally:
        torch.set_num_threads(threads)
