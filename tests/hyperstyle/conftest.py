"""Fixtures of the HyperStyle tests (helpers in `hyperstyle_testkit`)."""

from __future__ import annotations

import hyperstyle_testkit as kit
import pytest
from tiny_world import one_thread


@pytest.fixture(scope="session")
def hs_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    with one_thread():
        return kit.make_world(tmp_path_factory.mktemp("hyperstyle_world"))
