"""A method config is resolved once per command: its imports run once and an exported encoder's
header is read for resolution once, so the generator, the discriminator's default and the built
method all come from one reading."""

from __future__ import annotations

import harness_testkit as kit
import pytest
import torch

import ganinv.harness.method as method_module
from ganinv.harness.configs import load
from ganinv.harness.schema import BenchConfig, EvalConfig, TrainConfig


@pytest.fixture()
def resolutions(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every call of `resolve_method_config`, seen through the import step it starts with."""
    calls: list[list[str]] = []
    real = method_module.import_modules

    def counting(names: list[str]) -> None:
        calls.append(list(names))
        real(names)

    monkeypatch.setattr(method_module, "import_modules", counting)
    return calls


def test_train_resolves_its_method_once(world, tmp_path, resolutions) -> None:
    from ganinv.harness.train import run_training

    config = load(TrainConfig, kit.train_config(world, tmp_path / "run", steps=1))
    run_training(config, torch.device("cpu"))
    assert resolutions == [["harness_testkit"]]


def test_bench_resolves_each_method_once(world, tmp_path, resolutions) -> None:
    from ganinv.harness.bench import run_bench

    refine = {"name": "optimize", "steps": 1, "lr": 0.05, "losses": {"mse": 1.0}}
    config = {
        "generator": str(world["generator"]),
        "data": {"name": "folder", "path": str(world["test"]), "resolution": 16, "limit": 2},
        "methods": [
            {"label": "a", "space": "wplus", "refiner": refine},
            {"label": "b", "space": "w", "refiner": refine, "imports": ["harness_testkit"]},
        ],
        "metrics": ["mse"],
        "batch_size": 2,
        "grid_images": 0,
        "out": str(tmp_path / "bench"),
        "progress": False,
    }
    run_bench(load(BenchConfig, config), torch.device("cpu"), echo=lambda *_: None)
    assert resolutions == [[], ["harness_testkit"]]


def test_eval_resolves_its_method_once(world, tmp_path, resolutions) -> None:
    from ganinv.harness.evaluate import run_eval

    config = {
        "method": {"generator": str(world["generator"]), "space": "w"},
        "data": {"name": "folder", "path": str(world["test"]), "resolution": 16, "limit": 2},
        "metrics": ["mse"],
        "batch_size": 2,
        "out": str(tmp_path / "eval"),
        "progress": False,
    }
    record = run_eval(load(EvalConfig, config), torch.device("cpu"))
    assert resolutions == [[]]
    assert record["method"]["generator"] == str(world["generator"].resolve())
