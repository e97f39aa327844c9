"""Class 3: every tensor loaded into a network has exactly its parameter's shape (the same number
of elements is not enough), and `ganinv convert --check` compares OUT with an independent reload
of IN, so it fails when the conversion is corrupted."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch
from checkpoint_files import (
    join_safetensors,
    nvlabs_pickle,
    nvlabs_state,
    split_safetensors,
    tiny_networks,
    write_native,
)

import ganinv.checkpoints.native as native_format
from ganinv.checkpoints.state import load_exact
from ganinv.cli.main import main
from ganinv.core.errors import GanInvError

REFS = Path(__file__).resolve().parents[1] / "data" / "refs"


def refused(capsys: pytest.CaptureFixture[str], path: Path, *words: str) -> None:
    out = path.with_name("out.safetensors")
    assert main(["convert", str(path), str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and path.name in err, err
    for word in words:
        assert word in err, err
    assert not out.exists()


def test_load_exact_refuses_same_count_other_shape():
    layer = torch.nn.Linear(16, 8)  # weight [8, 16]
    state = {"weight": torch.randn(16, 8), "bias": torch.randn(8)}  # transposed: 128 values
    with pytest.raises(GanInvError, match=r"weight: \(16, 8\) vs \(8, 16\)"):
        load_exact(layer, state, "layer")
    before = layer.weight.clone()
    assert torch.equal(layer.weight, before)


def test_native_tensor_with_lying_shape(tmp_path, capsys):
    """The header says [8, 8, 9, 1] for a [8, 8, 3, 3] weight: same bytes, other network."""
    path = write_native(tmp_path / "tiny.safetensors")
    header, body = split_safetensors(path.read_bytes())
    key = "generator.synthesis.b8.conv0.weight"
    assert header[key]["shape"] == [8, 8, 3, 3]
    header[key]["shape"] = [8, 8, 9, 1]
    bad = tmp_path / "reshaped.safetensors"
    bad.write_bytes(join_safetensors(header, body))
    refused(capsys, bad, "synthesis.b8.conv0.weight", "(8, 8, 9, 1) vs (8, 8, 3, 3)")


def test_nvlabs_tensor_with_other_shape(tmp_path, capsys):
    tree = nvlabs_state(tiny_networks())
    conv = tree["G_ema"]["_modules"]["synthesis"]["_modules"]["b8"]["_modules"]["conv1"]
    conv["_parameters"]["weight"] = torch.nn.Parameter(conv["_parameters"]["weight"].reshape(8, 72))
    tree["G"] = None
    bad = tmp_path / "reshaped.pkl"
    bad.write_bytes(nvlabs_pickle(tree))
    refused(capsys, bad, "synthesis.b8.conv1.weight", "(8, 72) vs (8, 8, 3, 3)")


def _widen_batch(t: torch.Tensor) -> torch.Tensor:
    return torch.cat([t, t + 1])  # [1, ...] -> [2, ...]: the second copy was silently dropped


ROSINALITY_LIES: dict[str, tuple[str, Any]] = {
    "conv_batch_of_two": ("convs.0.conv.weight", _widen_batch),
    "noise_weight_2d": ("conv1.noise.weight", lambda t: t.reshape(1, 1)),
    "rgb_bias_transposed": ("to_rgb1.bias", lambda t: t.reshape(3, 1, 1, 1)),
    "noise_map_two_channels": ("noises.noise_1", lambda t: t.repeat(1, 2, 1, 1)),
}


@pytest.mark.parametrize("case", sorted(ROSINALITY_LIES))
def test_rosinality_tensor_with_other_shape(tmp_path, capsys, case):
    key, change = ROSINALITY_LIES[case]
    data = torch.load(REFS / "rosinality_s64.pt", weights_only=True)
    data["g_ema"][key] = change(data["g_ema"][key])
    bad = tmp_path / f"{case}.pt"
    torch.save(data, bad)
    refused(capsys, bad, key)


# -- convert --check ----------------------------------------------------------------------------
def _corrupting_save(real_save: Any, in_place: bool) -> Any:
    """`save_networks` with a bug: one weight scaled by 1.01, in the networks it was given
    (`in_place`) or only in what it writes."""

    def save(path: Any, networks: dict[str, torch.nn.Module], meta: Any = None) -> Any:
        target = networks if in_place else copy.deepcopy(networks)
        with torch.no_grad():
            target["generator"].synthesis.b8.conv1.weight.mul_(1.01)
        return real_save(path, target, meta)

    return save


@pytest.mark.parametrize("in_place", [True, False], ids=["in_place", "written_only"])
def test_convert_check_fails_on_corrupted_conversion(tmp_path, capsys, monkeypatch, in_place):
    source = tmp_path / "tiny.pkl"
    source.write_bytes(nvlabs_pickle(nvlabs_state(tiny_networks())))
    out = tmp_path / "converted.safetensors"
    monkeypatch.setattr(
        native_format, "save_networks", _corrupting_save(native_format.save_networks, in_place)
    )
    assert main(["convert", str(source), str(out), "--check"]) == 2
    err = capsys.readouterr().err
    assert "--check failed" in err and "synthesis.b8.conv1.weight differs" in err, err
    assert not out.exists()  # ganinv's own, just-written, wrong file is not left behind
    monkeypatch.undo()
    assert main(["convert", str(source), str(out), "--check"]) == 0  # the real conversion passes
    printed = capsys.readouterr().out
    assert printed.count("max abs diff 0") == 3, printed
