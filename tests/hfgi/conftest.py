"""Fixtures of the HFGI tests (settings in `hfgi_testkit`, the world in `e4e_world`)."""

from __future__ import annotations

import pytest
from e4e_world import make_world
from tiny_world import one_thread


@pytest.fixture(scope="session")
def hfgi_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with one_thread():
        return make_world(tmp_path_factory.mktemp("hfgi_world"))
