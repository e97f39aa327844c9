"""Harness config schemas: strict keys with suggestions, overrides, reproducible saved configs."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch
import yaml
from harness_testkit import train_config

from ganinv.cli.main import main as ganinv_main
from ganinv.core.errors import GanInvError
from ganinv.harness.configs import load, load_method
from ganinv.harness.schema import BenchConfig, EvalConfig, MethodConfig, TrainConfig


def test_unknown_key_suggests_the_closest(world, tmp_path):
    cfg = train_config(world, tmp_path / "run")
    cfg["optimizer"]["weight_decai"] = 0.1
    with pytest.raises(GanInvError, match="optimizer.weight_decai.*did you mean .weight_decay."):
        load(TrainConfig, cfg)
    cfg = train_config(world, tmp_path / "run")
    cfg["stepz"] = 3
    with pytest.raises(GanInvError, match="'stepz'.*did you mean 'steps'"):
        load(TrainConfig, cfg)
    with pytest.raises(GanInvError, match="schedule.name.*expected one of"):
        load(TrainConfig, train_config(world, tmp_path, schedule={"name": "cosin"}))
    with pytest.raises(GanInvError, match="'methods'"):
        load(BenchConfig, {"data": "x"})


def test_overrides_reach_nested_keys(world, tmp_path):
    cfg = load(
        TrainConfig,
        train_config(world, tmp_path / "run"),
        ["optimizer.lr=0.5", "schedule.name=cosine", "losses.mse=2", "method.space=w"],
    )
    assert cfg.optimizer.lr == 0.5
    assert cfg.schedule.name == "cosine"
    assert cfg.losses["mse"] == 2
    assert cfg.method.space == "w"
    with pytest.raises(GanInvError, match="steps.*expected an integer"):
        load(TrainConfig, train_config(world, tmp_path), ["steps=many"])


def test_method_from_a_section_or_an_exported_encoder(world, trained_encoder, tmp_path):
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump({"method": {"generator": "g", "space": "wplus"}, "data": "x"}))
    assert load_method(path) == MethodConfig(generator="g", space="wplus")
    from_encoder = load_method(trained_encoder)
    assert from_encoder.encoder_checkpoint == str(trained_encoder)
    from ganinv.harness.method import resolve_method_config

    resolved = resolve_method_config(from_encoder)
    assert resolved.space == "wplus" and resolved.generator == str(world["generator"])
    assert resolved.encoder == {"name": "harness_tiny_encoder", "width": 8}


def test_component_arguments_are_checked_when_built(world):
    from ganinv.harness.method import build_method

    bad = MethodConfig(generator=str(world["generator"]), space={"name": "wplus", "blend_x": 1})
    with pytest.raises(GanInvError, match="blend_x.*blend_crossover"):
        build_method(bad)
    with pytest.raises(GanInvError, match="unknown space 'wplsu'.*'wplus'"):
        build_method(MethodConfig(generator=str(world["generator"]), space="wplsu"))
    clash = MethodConfig(generator=str(world["generator"]), space={"name": "wplus", "generator": 1})
    with pytest.raises(GanInvError, match="supplied by the harness"):
        build_method(clash)


def test_saved_config_reproduces_the_run(world, tmp_path):
    from ganinv.harness.train import run_training

    first = tmp_path / "first"
    run_training(load(TrainConfig, train_config(world, first, steps=3)), torch.device("cpu"))
    saved = load(TrainConfig, first / "config.yaml", [f"out={tmp_path / 'again'}"])
    run_training(saved, torch.device("cpu"))
    a = torch.load(first / "checkpoints" / "latest.pt", weights_only=True)["encoder"]
    b = torch.load(tmp_path / "again" / "checkpoints" / "latest.pt", weights_only=True)["encoder"]
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)


def test_cli_reports_config_errors_in_one_line(world, tmp_path):
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump({"method": {"space": "wplus"}, "data": "x", "metrix": []}))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = ganinv_main(["eval", str(path), "--device", "cpu"])
    assert code == 2
    assert "did you mean 'metrics'" in err.getvalue()
    assert "Traceback" not in err.getvalue()
    assert load(EvalConfig, {"method": {}, "data": "x"}).metrics == ["mse"]


def test_compare_resize_modes_bring_reconstructions_to_the_target_size():
    import torch

    from ganinv.harness.resize import to_size_of

    big = torch.arange(16.0).reshape(1, 1, 4, 4)
    target = torch.zeros(1, 1, 2, 2)
    area = to_size_of(big, target, "area")
    assert torch.equal(area, torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]]))  # 2x2 means
    nearest = to_size_of(big, target, "nearest")
    assert torch.equal(nearest, torch.tensor([[[[0.0, 2.0], [8.0, 10.0]]]]))  # PadInv's metric
    assert to_size_of(big, big, "nearest") is big
