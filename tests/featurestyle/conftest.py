"""Fixtures of the Feature-Style tests."""

from __future__ import annotations

import pytest

import ganinv


@pytest.fixture(scope="module")
def fspace(tiny_generator):
    """The F space on the tiny generator: its 8 px block output replaced."""
    return ganinv.build(
        "spaces",
        {"name": "fspace", "feature_resolution": 8, "w_std_samples": 200},
        generator=tiny_generator,
    )
