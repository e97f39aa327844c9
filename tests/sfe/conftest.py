"""Fixtures of the SFE tests (settings in `sfe_testkit`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sfe_testkit import E4E, SPACE

import ganinv


@pytest.fixture(scope="module")
def sfe_space(tiny_generator):
    return ganinv.build("spaces", SPACE, generator=tiny_generator)


@pytest.fixture(scope="module")
def e4e_file(tmp_path_factory, tiny_generator) -> Path:
    """An untrained tiny e4e exported as `ganinv train` does (SFE's frozen base)."""
    from ganinv.harness.method import save_encoder
    from ganinv.harness.schema import MethodConfig

    space = ganinv.build(
        "spaces", {"name": "wplus", "w_std_samples": 200}, generator=tiny_generator
    )
    encoder = ganinv.build("encoders", E4E, space=space)
    path = tmp_path_factory.mktemp("sfe_e4e") / "e4e.safetensors"
    return save_encoder(path, encoder, MethodConfig(generator="tiny", space="wplus", encoder=E4E))
