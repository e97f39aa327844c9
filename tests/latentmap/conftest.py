"""Fixtures of the latent-map tests (helpers in `latentmap_testkit`)."""

from __future__ import annotations

import latentmap_testkit as kit
import pytest


@pytest.fixture(scope="session")
def latentmap_generator(tmp_path_factory: pytest.TempPathFactory):
    return kit.make_generator_file(tmp_path_factory.mktemp("latentmap") / "g.safetensors")
