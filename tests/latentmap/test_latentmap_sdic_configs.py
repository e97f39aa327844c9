"""The SDIC and latent-map configs validate, and name only arguments their components accept."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from ganinv.core.config import read_yaml
from ganinv.core.registry import registry
from ganinv.harness.configs import load
from ganinv.harness.schema import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs" / "sdic").glob("*.yaml")) + sorted(
    (ROOT / "configs" / "latentmap").glob("*.yaml")
)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_validates_and_component_arguments_exist(path):
    config = load(TrainConfig, read_yaml(path))
    specs = [("spaces", config.method.space), ("encoders", config.method.encoder)]
    specs.append(("datasets", config.data))
    specs += [
        ("losses", {"name": n, **(v if isinstance(v, dict) else {})})
        for n, v in config.losses.items()
    ]
    for kind, spec in specs:
        if isinstance(spec, str):
            continue
        factory = registry(kind).get(spec["name"])
        params = inspect.signature(factory).parameters
        unknown = [k for k in spec if k != "name" and k not in params and k != "weight"]
        assert not unknown, (path.name, kind, unknown)
    assert len(CONFIGS) >= 5
