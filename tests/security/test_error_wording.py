"""Class 12: errors raised by torch, safetensors and pickle while reading a file are re-worded
into ganinv's one-line form: the file, what is wrong, and never the advice to set
``weights_only=False`` (which would run the file's code)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from checkpoint_files import nvlabs_pickle, nvlabs_state, tiny_networks

from ganinv.cli.main import main

REFS = Path(__file__).resolve().parents[1] / "data" / "refs"
UNSAFE_ADVICE = ("weights_only", "trust", "add_safe_globals", "\x1b[")


def one_clean_line(capsys: pytest.CaptureFixture[str], argv: list[str], path: Path) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert path.name in err and "Traceback" not in err, err
    for phrase in UNSAFE_ADVICE:
        assert phrase not in err, err
    return err


def test_rosinality_with_a_code_global(tmp_path, capsys):
    data = torch.load(REFS / "rosinality_s64.pt", weights_only=True)
    data["args"] = torch.nn.ReLU()  # unpickling a module instance needs its class: refused
    bad = tmp_path / "050000.pt"
    torch.save(data, bad)
    err = one_clean_line(capsys, ["convert", str(bad), str(tmp_path / "o.safetensors")], bad)
    assert "torch.nn.modules.activation.ReLU" in err and "could run code" in err


def test_truncated_rosinality_checkpoint(tmp_path, capsys):
    data = (REFS / "rosinality_s64.pt").read_bytes()
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(data[: len(data) // 2])
    one_clean_line(capsys, ["convert", str(bad), str(tmp_path / "o.safetensors")], bad)


def test_nvlabs_tensor_record_with_a_code_global(tmp_path, capsys):
    """A tensor record inside the pickle (a legacy torch.save blob) names builtins.print."""

    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    blob = io.BytesIO()
    torch.save(Payload(), blob, _use_new_zipfile_serialization=False)

    class Record:  # pickles as NVlabs' tensor records do: torch.storage._load_from_bytes(blob)
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (blob.getvalue(),))

    tree = nvlabs_state(tiny_networks())
    tree["D"]["_modules"]["b4"]["_modules"]["fc"]["_parameters"]["weight"] = Record()
    bad = tmp_path / "record.pkl"
    bad.write_bytes(nvlabs_pickle(tree))
    err = one_clean_line(capsys, ["convert", str(bad), str(tmp_path / "o.safetensors")], bad)
    assert "object print" in err and "could run code" in err, err


def test_user_weights_with_a_code_global(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANINV_CACHE", str(tmp_path / "cache"))

    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "model_ir_se50.pth"
    torch.save({"x": Payload()}, bad)
    argv = ["weights", "install", "arcface_ir_se50", "--from", str(bad)]
    err = one_clean_line(capsys, argv, bad)
    assert "print" in err and "could run code" in err, err
