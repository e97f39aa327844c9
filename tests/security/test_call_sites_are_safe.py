"""Classes 1, 2, 3, 12 at every reader routed through the safe helpers (see
`test_readers_are_safe.py` for the static check): a file naming code runs nothing, a tensor that
claims more than its data or a shape other than the one it must have is refused before anything
is allocated or copied, and every refusal is one `GanInvError` line naming the file (and field).

Payloads are generated at test time; the code payload would write a marker file if it ran.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from ganinv.core.errors import GanInvError

ROOT = Path(__file__).resolve().parents[2]
ROSINALITY_64 = ROOT / "tests" / "data" / "reproduce" / "rosinality_s64.pt"
UNSAFE_ADVICE = ("weights_only", "add_safe_globals", "Traceback", "\x1b[")
# A stride-0 view: one stored float claiming 10**10 values (40 GB if copied).
GIANT = (100_000, 100_000)


class CodePayload:
    """Unpickling this calls exec, which writes `marker` (it must never appear)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def one_line(excinfo: pytest.ExceptionInfo, name: str) -> str:
    """The error's message: one line, naming `name`, without unsafe advice."""
    text = str(excinfo.value)
    assert isinstance(excinfo.value, GanInvError), type(excinfo.value)
    assert len(text.splitlines()) == 1, text
    assert name in text, text
    for phrase in UNSAFE_ADVICE:
        assert phrase not in text, text
    return text


def giant(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.zeros(1, dtype=dtype).expand(*GIANT)


# -- edit directions and labels ------------------------------------------------------------------
def test_direction_pt_naming_code_runs_nothing(tmp_path):
    from ganinv.editing.directions import load_direction

    marker = tmp_path / "ran"
    bad = tmp_path / "smile.pt"
    torch.save({"direction": CodePayload(marker)}, bad)
    with pytest.raises(GanInvError) as excinfo:
        load_direction(bad)
    assert "could run code" in one_line(excinfo, "smile.pt")
    assert not marker.exists()


@pytest.mark.parametrize(
    "value, words",
    [
        (torch.zeros(1).expand(512), "claims shape"),  # stride 0: 512 values, 1 stored
        (giant(), "at most"),  # refused from its shape before any copy
        (torch.ones(2, 3, 4), "expected [w_dim]"),
        (torch.ones(8, dtype=torch.int64), "dtype"),
        (torch.full((8,), float("nan")), "NaN"),
    ],
    ids=["stride0", "giant", "rank3", "int", "nan"],
)
def test_direction_pt_with_a_lying_tensor(tmp_path, value, words):
    from ganinv.editing.directions import load_direction

    bad = tmp_path / "lie.pt"
    torch.save({"direction": value}, bad)
    with pytest.raises(GanInvError) as excinfo:
        load_direction(bad)
    assert words in one_line(excinfo, "lie.pt")


def test_direction_safetensors_checked_from_its_table(tmp_path):
    from ganinv.editing.directions import load_direction

    good = tmp_path / "good.safetensors"
    save_file({"direction": torch.ones(8)}, str(good), metadata={"info": '{"part": "w"}'})
    direction, info = load_direction(good)
    assert direction.shape == (8,) and info == {"part": "w"}

    cases = {
        "rank.safetensors": ({"direction": torch.ones(2, 2, 2)}, {}, "expected [w_dim]"),
        "extra.safetensors": (
            {"direction": torch.ones(8), "other": torch.zeros(1100, 1000)},
            {},
            "holds 1,100,008 values",
        ),
        "info.safetensors": ({"direction": torch.ones(8)}, {"info": "{not json"}, "'info'"),
        "nested.safetensors": ({"direction": torch.ones(8)}, {"info": "[" * 100_000}, "'info'"),
        "list.safetensors": ({"direction": torch.ones(8)}, {"info": "[1]"}, "JSON object"),
        "none.safetensors": ({"w": torch.ones(8)}, {}, "no 'direction'"),
    }
    for name, (tensors, header, words) in cases.items():
        bad = tmp_path / name
        save_file(tensors, str(bad), metadata=header)
        with pytest.raises(GanInvError) as excinfo:
            load_direction(bad)
        assert words in one_line(excinfo, name), name


def test_direction_that_is_not_a_regular_file(tmp_path):
    from ganinv.editing.directions import load_direction

    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    with pytest.raises(GanInvError) as excinfo:
        load_direction(fifo)
    assert "not a regular file" in one_line(excinfo, "pipe.safetensors")


@pytest.mark.parametrize(
    "text, words",
    [
        ("{broken", "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),  # json raises RecursionError here
        ('{"a": 1.5}', "not 0 or 1"),
        ('{"a": true}', "not 0 or 1"),
        ('{"a": [1]}', "not 0 or 1"),
    ],
    ids=["broken", "nested", "float", "bool", "list"],
)
def test_labels_file_errors_are_one_line(tmp_path, text, words):
    from ganinv.editing.directions import read_labels

    bad = tmp_path / "labels.json"
    bad.write_text(text)
    with pytest.raises(GanInvError) as excinfo:
        read_labels(bad)
    assert words in one_line(excinfo, "labels.json")


def test_labels_not_utf8_and_labels_that_load(tmp_path):
    from ganinv.editing.directions import read_labels

    bad = tmp_path / "labels.csv"
    bad.write_bytes(b"name,label\n\xff\xfe,1\n")
    with pytest.raises(GanInvError) as excinfo:
        read_labels(bad)
    assert "UTF-8" in one_line(excinfo, "labels.csv")
    good = tmp_path / "good.json"
    good.write_text('{"a.png": 1, "b": 0, "c": "1"}')
    assert read_labels(good) == {"a": 1, "b": 0, "c": 1}


def test_code_files_one_code_and_one_layout_per_folder(tmp_path):
    from ganinv.core.space import Code
    from ganinv.editing.directions import load_codes

    folder = tmp_path / "codes"
    Code("w", {"w": torch.zeros(1, 8)}).save(folder / "a.safetensors")
    Code("w", {"w": torch.ones(1, 8)}).save(folder / "b.safetensors")
    codes, names = load_codes(folder)
    assert names == ["a", "b"] and codes["w"].shape == (2, 8)
    # A batch of 3 in one file would shift the names of every later code.
    Code("w", {"w": torch.zeros(3, 8)}).save(folder / "c.safetensors")
    with pytest.raises(GanInvError) as excinfo:
        load_codes(folder)
    assert "exactly one code" in one_line(excinfo, "c.safetensors")
    Code("w", {"w": torch.zeros(1, 4)}).save(folder / "c.safetensors")
    with pytest.raises(GanInvError) as excinfo:
        load_codes(folder)
    assert "unlike" in one_line(excinfo, "c.safetensors")


@pytest.mark.parametrize(
    "header, words",
    [
        ({"space": "w", "meta": "{oops"}, "'meta'"),
        ({"space": "w", "meta": "[" * 100_000}, "'meta'"),
        ({"meta": "{}"}, "no 'space'"),
    ],
    ids=["broken", "nested", "no-space"],
)
def test_code_file_header_errors_are_one_line(tmp_path, header, words):
    from ganinv.core.space import Code

    bad = tmp_path / "code.safetensors"
    save_file({"w": torch.zeros(1, 8)}, str(bad), metadata=header)
    with pytest.raises(GanInvError) as excinfo:
        Code.load(bad)
    assert words in one_line(excinfo, "code.safetensors")


# -- reproduce --check: pSp / e4e checkpoints ---------------------------------------------------
@pytest.fixture(scope="module")
def psp_state() -> dict:
    source = torch.load(ROSINALITY_64, map_location="cpu", weights_only=True)
    state = {f"decoder.{k}": v for k, v in source["g_ema"].items()}
    state["encoder.input_layer.0.weight"] = torch.zeros(4, 3, 3, 3)
    return {"state_dict": state, "opts": {"stylegan_size": 64}, "latent_avg": torch.zeros(10, 64)}


def _check_psp(path: Path) -> list[str]:
    from ganinv.reproduce.checks import FILE_CHECKS

    card = SimpleNamespace(file=SimpleNamespace(expect={}))
    details: list[str] = []
    FILE_CHECKS["psp_checkpoint"](card, path, [], details)
    return details


def test_psp_checkpoint_that_loads(tmp_path, psp_state):
    good = tmp_path / "e4e.pt"
    torch.save({**psp_state, "opts": argparse.Namespace(stylegan_size=64)}, good)
    assert "pSp-layout checkpoint" in _check_psp(good)[-1]


def _psp_variant(psp_state: dict, key: str, value) -> dict:
    data = {**psp_state, "state_dict": dict(psp_state["state_dict"])}
    if key == "latent_avg":
        data["latent_avg"] = value
    else:
        data["state_dict"][key] = value(data["state_dict"][key])
    return data


@pytest.mark.parametrize(
    "key, value, words",
    [
        # Same element count, other shape: exact shapes, not numel.
        ("decoder.style.1.bias", lambda t: t.reshape(2, -1), "shape mismatch"),
        ("decoder.style.1.weight", lambda t: torch.zeros(1).expand(*t.shape), "claims shape"),
        ("latent_avg", giant(), "claims shape"),
        ("latent_avg", torch.zeros(2, 5, 64), "latent_avg"),
    ],
    ids=["reshaped", "stride0", "giant-latent", "rank3-latent"],
)
def test_psp_checkpoint_with_a_lying_tensor(tmp_path, psp_state, key, value, words):
    from ganinv.reproduce.checks import AssetProblem

    bad = tmp_path / "e4e_lie.pt"
    torch.save(_psp_variant(psp_state, key, value), bad)
    with pytest.raises((GanInvError, AssetProblem)) as excinfo:
        _check_psp(bad)
    text = str(excinfo.value)
    assert len(text.splitlines()) == 1 and "e4e_lie.pt" in text and words in text, text


def test_psp_checkpoint_naming_code_runs_nothing(tmp_path, psp_state):
    marker = tmp_path / "ran"
    bad = tmp_path / "e4e_code.pt"
    torch.save({**psp_state, "opts": CodePayload(marker)}, bad)
    with pytest.raises(GanInvError) as excinfo:
        _check_psp(bad)
    assert "could run code" in one_line(excinfo, "e4e_code.pt")
    assert not marker.exists()


# -- training checkpoints -------------------------------------------------------------------------
def _run_state() -> tuple[nn.Module, torch.optim.Optimizer, dict]:
    from ganinv.harness.rng import capture_rng

    torch.manual_seed(0)
    module = nn.Linear(4, 3)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    module(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    state = {
        "step": 1,
        "encoder": module.state_dict(),
        "optimizer": optimizer.state_dict(),
        "rng": [capture_rng()],
        "best": {},
    }
    return module, optimizer, state


def test_training_checkpoint_naming_code_runs_nothing(tmp_path):
    from ganinv.harness.checkpoint import load_training_state, save_training_state

    marker = tmp_path / "ran"
    _, _, state = _run_state()
    path = save_training_state(tmp_path / "latest.pt", {**state, "best": CodePayload(marker)})
    with pytest.raises(GanInvError) as excinfo:
        load_training_state(path)
    assert "could run code" in one_line(excinfo, "latest.pt")
    assert not marker.exists()


def test_training_checkpoint_tensor_claiming_more_than_it_holds(tmp_path):
    from ganinv.harness.checkpoint import load_training_state, save_training_state

    _, _, state = _run_state()
    # restore_rng would copy these keys as uint32: 40 GB from a few bytes of file.
    state["rng"][0]["numpy"]["keys"] = giant(torch.int64)
    path = save_training_state(tmp_path / "latest.pt", state)
    with pytest.raises(GanInvError) as excinfo:
        load_training_state(path)
    text = one_line(excinfo, "latest.pt")
    assert "'rng'" in text and "'keys'" in text and "claims shape" in text


def test_training_checkpoint_shapes_are_exact(tmp_path):
    from ganinv.harness.checkpoint import (
        load_training_state,
        restore_module,
        restore_optimizer,
        save_training_state,
    )

    module, optimizer, state = _run_state()
    path = save_training_state(tmp_path / "latest.pt", state)
    loaded = load_training_state(path)
    restore_module(module, loaded, "encoder", path)  # the file as written restores
    restore_optimizer(optimizer, loaded, "optimizer", path)

    # Same element count, transposed: the weight of another network.
    lie = {**state, "encoder": {**state["encoder"], "weight": torch.zeros(4, 3)}}
    with pytest.raises(GanInvError) as excinfo:
        restore_module(module, lie, "encoder", path)
    assert "'encoder'" in one_line(excinfo, "latest.pt")

    moments = {k: dict(v) for k, v in state["optimizer"]["state"].items()}
    weight_id = next(k for k, v in moments.items() if v["exp_avg"].dim() == 2)
    moments[weight_id]["exp_avg"] = torch.zeros(12)
    lie = {**state, "optimizer": {**state["optimizer"], "state": moments}}
    with pytest.raises(GanInvError) as excinfo:
        restore_optimizer(optimizer, lie, "optimizer", path)
    assert "'exp_avg'" in one_line(excinfo, "latest.pt")

    groups = [{**state["optimizer"]["param_groups"][0], "lr": "fast"}]
    lie = {**state, "optimizer": {**state["optimizer"], "param_groups": groups}}
    with pytest.raises(GanInvError) as excinfo:
        restore_optimizer(optimizer, lie, "optimizer", path)
    assert "'lr'" in one_line(excinfo, "latest.pt")


def test_training_checkpoint_scheduler_counts_and_rng(tmp_path):
    from ganinv.harness.checkpoint import read_best, read_count, restore_plain, restoring
    from ganinv.harness.rng import restore_rng

    module, optimizer, state = _run_state()
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    good = scheduler.state_dict()
    restore_plain(scheduler, {"scheduler": good}, "scheduler", "ckpt.pt")
    with pytest.raises(GanInvError) as excinfo:
        restore_plain(scheduler, {"scheduler": {**good, "last_epoch": "x"}}, "scheduler", "ckpt.pt")
    assert "'last_epoch'" in one_line(excinfo, "ckpt.pt")
    with pytest.raises(GanInvError) as excinfo:
        read_count({"nimg": -5}, "nimg", "ckpt.pt")
    assert "'nimg'" in one_line(excinfo, "ckpt.pt")
    with pytest.raises(GanInvError) as excinfo:
        read_best({"best": {"metric": "lpips", "value": "low", "step": 1}}, "ckpt.pt")
    one_line(excinfo, "ckpt.pt")
    with pytest.raises(GanInvError) as excinfo:
        with restoring({"rng": {"torch": torch.zeros(3)}}, "rng", "ckpt.pt") as rng:
            restore_rng(rng)
    assert "'rng'" in one_line(excinfo, "ckpt.pt")


# -- plugins: backbone weights (baselines) and feature extractor weights (latentmap) -------------
class _Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.input_layer = nn.Linear(2, 2)
        self.body = nn.Linear(2, 2)


def test_backbone_weights_are_data(tmp_path):
    from ganinv_baselines.encoder_common import load_backbone_weights

    module = _Backbone()
    good = tmp_path / "ir_se.pth"
    torch.save({k: torch.ones_like(v) for k, v in _Backbone().state_dict().items()}, good)
    load_backbone_weights(module, str(good))
    assert torch.equal(module.body.weight, torch.ones(2, 2))

    marker = tmp_path / "ran"
    bad = tmp_path / "code.pth"
    torch.save({"body.weight": CodePayload(marker)}, bad)
    with pytest.raises(GanInvError) as excinfo:
        load_backbone_weights(module, str(bad))
    assert "could run code" in one_line(excinfo, "code.pth")
    assert not marker.exists()

    lie = tmp_path / "lie.pth"
    torch.save({**_Backbone().state_dict(), "body.weight": torch.zeros(1).expand(2, 2)}, lie)
    with pytest.raises(GanInvError) as excinfo:
        load_backbone_weights(module, str(lie))
    assert "claims shape" in one_line(excinfo, "lie.pth")


def test_feature_extractor_weights_are_data(tmp_path):
    from ganinv_latentmap.features import read_state_dict

    good = tmp_path / "vgg.safetensors"
    save_file({"features.0.weight": torch.ones(2, 3)}, str(good))
    assert read_state_dict(str(good))["features.0.weight"].shape == (2, 3)

    marker = tmp_path / "ran"
    bad = tmp_path / "code.pth"
    torch.save({"features.0.weight": CodePayload(marker)}, bad)
    with pytest.raises(GanInvError) as excinfo:
        read_state_dict(str(bad))
    assert "could run code" in one_line(excinfo, "code.pth")
    assert not marker.exists()

    lie = tmp_path / "lie.pth"
    torch.save({"features.0.weight": giant()}, lie)
    with pytest.raises(GanInvError) as excinfo:
        read_state_dict(str(lie))
    assert "claims shape" in one_line(excinfo, "lie.pth")

    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(good.read_bytes()[:-4])
    with pytest.raises(GanInvError) as excinfo:
        read_state_dict(str(damaged))
    one_line(excinfo, "damaged.safetensors")


# -- JSON records ganinv reads back ---------------------------------------------------------------
def test_timing_files_and_run_logs_nested_without_end(tmp_path):
    from ganinv.harness.logger import truncate_log
    from ganinv.reproduce.runner import read_timings

    bad = tmp_path / "timing.json"
    bad.write_text("[" * 100_000)
    with pytest.raises(GanInvError) as excinfo:
        read_timings([str(bad)])
    one_line(excinfo, "timing.json")

    log = tmp_path / "log.jsonl"
    lines = ['{"step": 1}', "[" * 100_000, "5", '{"step": "x"}', '{"step": 3}', '{"step": 2}']
    log.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n")
    truncate_log(log, 2)
    assert [json.loads(line) for line in log.read_text().splitlines()] == [
        {"step": 1},
        {"step": 2},
    ]


@pytest.mark.parametrize(
    "text", ["a: [1,\nb: 2\n", "[" * 100_000, "a: 1\n\tb: 2\n"], ids=["broken", "nested", "tab"]
)
def test_config_and_saved_config_yaml_errors_are_one_line(tmp_path, text):
    from ganinv.core.config import read_yaml
    from ganinv.harness.run_guard import parse_saved_config

    bad = tmp_path / "method.yaml"
    bad.write_text(text)
    with pytest.raises(GanInvError) as excinfo:
        read_yaml(bad)
    assert "not valid YAML" in one_line(excinfo, "method.yaml")
    with pytest.raises(GanInvError) as excinfo:
        parse_saved_config(text, "run/config.yaml")
    one_line(excinfo, "run/config.yaml")
