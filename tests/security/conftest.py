"""A tiny generator and an exported encoder shared by the hostile-input tests."""

from __future__ import annotations

import pytest
from security_testkit import export_encoder, make_generator


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("security_world")
    generator_file, generator = make_generator(root)
    encoder = export_encoder(root / "run" / "encoder.safetensors", generator_file, generator)
    return {
        "root": root,
        "generator_file": generator_file,
        "generator": generator,
        "encoder": encoder,
    }


@pytest.fixture
def image():
    import torch

    torch.manual_seed(3)
    return torch.rand(1, 3, 16, 16) * 2 - 1
