"""The shipped configs of configs/baselines and configs/idinvert validate against the harness
schemas, name registered components with valid arguments, and the demo encoders build and run
on a generator of the demo GAN's shape."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch

import ganinv
from ganinv.core.config import read_yaml
from ganinv.harness.configs import load
from ganinv.harness.schema import BenchConfig, EvalConfig, MethodConfig, TrainConfig

ROOT = Path(__file__).resolve().parents[2] / "configs"
CONFIGS = sorted((ROOT / "baselines").glob("*.yaml")) + sorted((ROOT / "idinvert").glob("*.yaml"))
RUNTIME = {"space", "generator", "device", "encoder"}  # supplied by the harness or Python


def schema_of(data: dict) -> type:
    if "methods" in data:
        return BenchConfig
    return TrainConfig if "losses" in data else EvalConfig


def check_spec(kind: str, spec) -> None:
    if spec is None:
        return
    name = spec if isinstance(spec, str) else spec["name"]
    factory = ganinv.registry(kind).get(name)
    params = inspect.signature(factory).parameters
    for key in spec if isinstance(spec, dict) else []:
        assert key == "name" or (key in params and key not in RUNTIME), (kind, name, key)


def methods_of(config) -> list[MethodConfig]:
    return config.methods if isinstance(config, BenchConfig) else [config.method]


def test_there_are_configs():
    names = {p.name for p in CONFIGS}
    assert {"psp_ffhq256.yaml", "e4e_ffhq256.yaml", "idinvert_ffhq256.yaml"} <= names
    assert len([n for n in names if n.startswith("demo_")]) >= 5


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_validates(path):
    data = read_yaml(path)
    config = load(schema_of(data), data)
    for method in methods_of(config):
        check_spec("spaces", method.space)
        check_spec("encoders", method.encoder)
        check_spec("refiners", method.refiner)
    if isinstance(config, TrainConfig):
        for name in config.losses:
            assert name in ganinv.registry("losses"), name


def demo_generator():
    from ganinv.stylegan2.generator import StyleGAN2Generator

    gan = read_yaml(ROOT / "demo" / "gan.yaml")["generator"]
    # The demo GAN's dimensions, with thin synthesis channels (the encoders only read num_ws/w_dim).
    return (
        StyleGAN2Generator(
            z_dim=gan["z_dim"],
            w_dim=gan["w_dim"],
            resolution=32,
            channels={4: 8, 8: 8, 16: 8, 32: 8},
            mapping_layers=gan["mapping_layers"],
        )
        .eval()
        .requires_grad_(False)
    )


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in CONFIGS
        if p.name.startswith("demo_") and "encoder" in read_yaml(p).get("method", {})
    ],
    ids=lambda p: p.name,
)
def test_demo_encoders_build_and_run(path):
    torch.set_num_threads(1)
    method = load(TrainConfig, read_yaml(path)).method
    g = demo_generator()
    space = ganinv.build("spaces", method.space, generator=g)
    encoder = ganinv.build("encoders", method.encoder, space=space).eval()
    with torch.no_grad():
        code = encoder(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert space.render(code).shape == (2, 3, 32, 32)
