"""Strict configs: misspelt keys, wrong types, overrides, and the saved copy."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
import yaml

from ganinv.core.config import apply_overrides, from_dict, load_config, save_config, to_dict
from ganinv.core.errors import GanInvError


@dataclass
class Optim:
    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    kind: Literal["adam", "radam"] = "adam"


@dataclass
class Run:
    name: str
    steps: int = 10
    optim: Optim = field(default_factory=Optim)
    encoder: dict | None = None


def test_misspelt_key_suggests_the_right_one():
    with pytest.raises(GanInvError, match=r"unknown config key 'optim.lrr'.*did you mean 'lr'"):
        from_dict(Run, {"name": "a", "optim": {"lrr": 0.1}})


def test_wrong_type_names_key_and_expected_type():
    with pytest.raises(GanInvError, match=r"'steps': expected an integer, got str"):
        from_dict(Run, {"name": "a", "steps": "ten"})
    with pytest.raises(GanInvError, match=r"'optim.kind': expected one of \['adam', 'radam'\]"):
        from_dict(Run, {"name": "a", "optim": {"kind": "sgd"}})
    with pytest.raises(GanInvError, match="missing required key"):
        from_dict(Run, {})


def test_int_is_accepted_where_float_expected():
    run = from_dict(Run, {"name": "a", "optim": {"lr": 1}})
    assert run.optim.lr == 1.0 and isinstance(run.optim.lr, float)


def test_overrides_parse_yaml_values_and_create_nested_keys():
    data = apply_overrides({"name": "a"}, ["optim.lr=0.5", "steps=7", "encoder.name=psp"])
    run = from_dict(Run, data)
    assert run.optim.lr == 0.5 and run.steps == 7 and run.encoder == {"name": "psp"}
    with pytest.raises(GanInvError, match="key.sub=value"):
        apply_overrides({}, ["steps"])


def test_saved_config_reloads_to_the_same_run(tmp_path: Path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"name": "a", "optim": {"betas": [0.0, 0.99]}}))
    run = load_config(Run, path, ["steps=3"])
    saved = save_config(run, tmp_path / "out" / "config.yaml")
    assert load_config(Run, saved) == run
    assert to_dict(run)["optim"]["betas"] == [0.0, 0.99]


def test_missing_or_malformed_file_is_clear(tmp_path: Path):
    with pytest.raises(GanInvError, match="does not exist"):
        load_config(Run, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(GanInvError, match="not valid YAML"):
        load_config(Run, bad)
