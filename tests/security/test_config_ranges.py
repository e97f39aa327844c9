"""Numbers out of range are config errors when the config is read: one line, the dotted key.

Every numeric key of every config schema carries its range (checked by walking the schemas, so a
new key without one fails here), and every numeric command-line flag is held to the same rules.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path
from typing import Annotated, Any

import pytest
import yaml

from ganinv.cli.main import main
from ganinv.core.config import Keys, Length, PositiveInt, Range, load_config
from ganinv.core.errors import GanInvError
from ganinv.core.registry import Registry
from ganinv.harness.configs import load
from ganinv.harness.gan_training import GanTrainConfig
from ganinv.harness.schema import BenchConfig, EvalConfig, MethodConfig, TrainConfig
from ganinv.reproduce.cards import AssetCard
from ganinv.reproduce.recipe import Recipe

METHOD = {"generator": "missing_generator.safetensors", "space": "wplus"}
DATA = {"name": "folder", "path": "missing_images"}
TRAIN = {"method": METHOD, "data": DATA, "losses": {"mse": 1.0}}
EVAL = {"method": METHOD, "data": DATA}
BENCH = {"data": DATA, "methods": [METHOD]}
GAN = {"output": "missing_run", "data": DATA}

CASES = [
    (TrainConfig, TRAIN, "batch_size=0", "batch_size"),
    (TrainConfig, TRAIN, "steps=0", "steps"),
    (TrainConfig, TRAIN, "steps=-3", "steps"),
    (TrainConfig, TRAIN, "checkpoint_every=0", "checkpoint_every"),
    (TrainConfig, TRAIN, "log_every=0", "log_every"),
    (TrainConfig, TRAIN, "num_workers=-1", "num_workers"),
    (TrainConfig, TRAIN, "seed=-1", "seed"),
    (TrainConfig, TRAIN, "grad_clip=-1", "grad_clip"),
    (TrainConfig, TRAIN, "losses.mse=-1", "losses.mse"),
    (TrainConfig, TRAIN, "losses.mse={weight: -0.5}", "losses.mse.weight"),
    (TrainConfig, TRAIN, "extra_loss_weights.wnorm=-1", "extra_loss_weights.wnorm"),
    (TrainConfig, TRAIN, "optimizer.lr=-0.001", "optimizer.lr"),
    (TrainConfig, TRAIN, "optimizer.lr=0", "optimizer.lr"),
    (TrainConfig, TRAIN, "optimizer.lr=.nan", "optimizer.lr"),
    (TrainConfig, TRAIN, "optimizer.lr=.inf", "optimizer.lr"),
    (TrainConfig, TRAIN, "optimizer.eps=0", "optimizer.eps"),
    (TrainConfig, TRAIN, "optimizer.weight_decay=-0.1", "optimizer.weight_decay"),
    (TrainConfig, TRAIN, "optimizer.betas=[0.9, 1.0]", "optimizer.betas[1]"),
    (TrainConfig, TRAIN, "optimizer.betas=[0.9]", "optimizer.betas"),
    (TrainConfig, TRAIN, "optimizer.lookahead={k: 0}", "optimizer.lookahead.k"),
    (TrainConfig, TRAIN, "optimizer.lookahead={alpha: 0}", "optimizer.lookahead.alpha"),
    (TrainConfig, TRAIN, "schedule.warmup_steps=-1", "schedule.warmup_steps"),
    (TrainConfig, TRAIN, "schedule.decay_steps=0", "schedule.decay_steps"),
    (TrainConfig, TRAIN, "schedule.decay_rate=0", "schedule.decay_rate"),
    (TrainConfig, TRAIN, "schedule.min_factor=1.5", "schedule.min_factor"),
    (TrainConfig, TRAIN, "discriminator={r1_interval: 0}", "discriminator.r1_interval"),
    (TrainConfig, TRAIN, "discriminator={r1_gamma: -1}", "discriminator.r1_gamma"),
    (TrainConfig, TRAIN, "validation={data: x, every: 0}", "validation.every"),
    (TrainConfig, TRAIN, "validation={data: x, batch_size: 0}", "validation.batch_size"),
    (TrainConfig, TRAIN, "data.limit=-1", "data.limit"),
    (TrainConfig, TRAIN, "validation={data: {name: folder, pad: -2}}", "validation.data.pad"),
    (EvalConfig, EVAL, "data.resolution=0", "data.resolution"),
    (BenchConfig, BENCH, "data.test_fraction=1.5", "data.test_fraction"),
    (BenchConfig, BENCH, "data.seed=-1", "data.seed"),
    (EvalConfig, EVAL, "batch_size=0", "batch_size"),
    (EvalConfig, EVAL, "seed=-2", "seed"),
    (BenchConfig, BENCH, "batch_size=-8", "batch_size"),
    (BenchConfig, BENCH, "grid_images=-1", "grid_images"),
]


@pytest.mark.parametrize(("schema", "base", "override", "key"), CASES)
def test_out_of_range_number_is_a_config_error_naming_the_key(schema, base, override, key):
    with pytest.raises(GanInvError) as info:
        load(schema, base, [override])
    message = str(info.value)
    assert message.startswith(f"config key {key!r}: expected ")
    assert "\n" not in message


GAN_CASES = [
    ("batch_size=0", "batch_size"),
    ("total_kimg=0", "total_kimg"),
    ("g_lr=-0.002", "g_lr"),
    ("d_lr=0", "d_lr"),
    ("betas=[0.0, 1.2]", "betas[1]"),
    ("r1_gamma=-1", "r1_gamma"),
    ("r1_interval=0", "r1_interval"),
    ("pl_weight=-2", "pl_weight"),
    ("pl_interval=0", "pl_interval"),
    ("pl_decay=0", "pl_decay"),
    ("pl_batch_shrink=0", "pl_batch_shrink"),
    ("style_mixing_prob=1.5", "style_mixing_prob"),
    ("ema_kimg=-1", "ema_kimg"),
    ("ema_rampup=-0.1", "ema_rampup"),
    ("w_avg_beta=2", "w_avg_beta"),
    ("checkpoint_kimg=0", "checkpoint_kimg"),
    ("sample_seeds=0", "sample_seeds"),
    ("seed=-1", "seed"),
    ("num_workers=-1", "num_workers"),
    ("threads=0", "threads"),
    ("generator.resolution=48", "generator.resolution"),
    ("discriminator.resolution=0", "discriminator.resolution"),
    ("data.resolution=24", "data.resolution"),
    ("data.limit=0", "data.limit"),
]


@pytest.mark.parametrize(("override", "key"), GAN_CASES)
def test_train_gan_out_of_range_number_names_the_key(tmp_path: Path, override: str, key: str):
    path = tmp_path / "gan.yaml"
    path.write_text(yaml.safe_dump(GAN))
    with pytest.raises(GanInvError, match=rf"^config key '{re.escape(key)}': expected "):
        load_config(GanTrainConfig, path, [override])


def test_a_config_built_in_python_is_checked_too():
    config = TrainConfig(method=MethodConfig(), data=DATA, losses={"mse": 1.0}, batch_size=0)
    with pytest.raises(GanInvError, match=r"^config key 'batch_size': expected an integer >= 1"):
        load(TrainConfig, config)


def test_component_arguments_annotated_with_a_range_are_checked():
    widgets = Registry("widgets")
    widgets._scanned = True  # a throwaway kind: no built-ins, no entry points

    @widgets.register("counter")
    class Counter:
        def __init__(self, steps: PositiveInt = 3) -> None:
            self.steps = steps

    assert widgets.build({"name": "counter", "steps": 2}).steps == 2
    with pytest.raises(
        GanInvError, match=r"^config key 'widgets.counter.steps': expected an integer >= 1, got 0$"
    ):
        widgets.build({"name": "counter", "steps": 0})


@pytest.mark.parametrize(
    ("command", "config", "override", "key"),
    [
        ("train", TRAIN, "batch_size=0", "batch_size"),
        ("train", TRAIN, "checkpoint_every=0", "checkpoint_every"),
        ("train", {**TRAIN, "validation": {"data": DATA, "every": 0}}, None, "validation.every"),
        ("eval", EVAL, "batch_size=0", "batch_size"),
        ("bench", BENCH, "batch_size=0", "batch_size"),
        ("train-gan", GAN, "batch_size=0", "batch_size"),
    ],
)
def test_cli_prints_one_line_with_the_dotted_key_and_exits_2(
    tmp_path: Path, monkeypatch, capsys, command, config, override, key
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    argv = [command, "config.yaml", *([override] if override else [])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"ganinv {command}: error: config key {key!r}: expected ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # nothing started


@pytest.mark.parametrize(
    ("command_line", "flag"),
    [
        ("invert --method m.yaml --input in --out o --limit -1", "--limit"),
        ("invert --method m.yaml --input in --out o --batch-size 0", "--batch-size/--batch"),
        ("data info in --limit 0", "--limit"),
        ("data convert in out --limit -1", "--limit"),
        ("data convert in out --quality 101", "--quality"),
        ("data convert in out --resolution 0", "--resolution"),
        ("convert a.pt b.safetensors --check --batch 0", "--batch-size/--batch"),
        ("convert a.pt b.safetensors --seed -1", "--seed"),
        ("edit learn-direction --codes c --labels l --out o --val-fraction 1.5", "--val-fraction"),
        ("edit learn-direction --codes c --labels l --out o --svm-c 0", "--svm-c"),
        ("edit learn-direction --codes c --labels l --out o --positive 1.5", "--positive"),
        ("edit ganspace --generator g --out o --samples 1", "--samples"),
        ("edit ganspace --generator g --out o --component -1", "--component"),
        ("edit sefa --generator g --out o --layers -1 2", "--layers"),
        ("edit apply --method m --out o --code c --direction d --strength 1 nan", "--strength"),
        ("edit custom --method m --out o --source s --edited e --target t --alpha inf", "--alpha"),
        ("reproduce r --measure-batch 0", "--measure-batch"),
        ("train-gan gan.yaml --max-minutes -5", "--max-minutes"),
    ],
)
def test_numeric_flags_out_of_range_are_one_line_errors(
    tmp_path, monkeypatch, capsys, command_line, flag
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(command_line.split())
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"argument {flag}: expected " in err
    assert list(tmp_path.iterdir()) == []


# Numeric keys whose every finite value is meaningful (published figures).
ANY_FINITE = {"Recipe.targets.values"}


def _numeric_keys(schema: type, prefix: str) -> list[tuple[str, Any]]:
    """(dotted key, annotation) of every numeric leaf reachable from a schema."""
    out = []
    for f in dataclasses.fields(schema):
        tp = typing.get_type_hints(schema, include_extras=True)[f.name]
        out += _numeric_leaves(tp, f"{prefix}.{f.name}")
    return out


def _numeric_leaves(tp: Any, key: str) -> list[tuple[str, Any]]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        rules = [r for r in tp.__metadata__ if isinstance(r, (Range, Length, Keys))]
        bare = args[0]
        if rules and (bare in (int, float) or typing.get_origin(bare) in (list, dict)):
            return []  # checked (a list's items, when numeric, carry their own range)
        return _numeric_leaves(bare, key)
    if tp in (int, float):
        return [(key, tp)]
    if dataclasses.is_dataclass(tp):
        return _numeric_keys(tp, key)
    leaves = []
    for arg in args:
        if arg is not type(None) and arg is not Ellipsis:
            leaves += _numeric_leaves(arg, key)
    return leaves


@pytest.mark.parametrize(
    "schema", [TrainConfig, EvalConfig, BenchConfig, GanTrainConfig, Recipe, AssetCard]
)
def test_every_numeric_key_of_every_schema_has_a_range(schema):
    unchecked = [key for key, _ in _numeric_keys(schema, schema.__name__)]
    assert [k for k in unchecked if k not in ANY_FINITE] == []
