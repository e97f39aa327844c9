"""`ganinv reproduce --check`: every missing asset listed at once; stand-ins of the real layouts
pass and the plan is printed; wrong hashes, counts and layouts are caught."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from ganinv.cli.main import main
from ganinv.data.writers import open_writer
from ganinv.reproduce import Locations, load_registry
from ganinv.reproduce.checks import AssetProblem, check_dataset_card, check_file_card
from ganinv.weights.cache import sha256_file

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "reproduce"
ROSINALITY_64 = DATA / "rosinality_s64.pt"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("GANINV_CACHE", str(directory))
    return directory


def _run(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    rc = main(["reproduce", *args])
    return rc, capsys.readouterr().out


def _common(tmp: Path, registry: Path = ROOT / "registry") -> list[str]:
    return [
        "--registry",
        str(registry),
        "--recipes",
        str(ROOT / "configs" / "reproduce"),
        "--assets",
        str(tmp / "assets"),
        "--data",
        str(tmp / "data"),
    ]


def _png(seed: int, size: int = 8) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _dataset(path: Path, fmt: str, count: int) -> None:
    with open_writer(fmt, path) as writer:
        for i in range(count):
            writer.add(_png(i), "png")
        writer.finish()


def test_missing_assets_are_all_listed_with_instructions(tmp_path, cache, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    rc, out = _run(["padinv_church", "--check", *_common(tmp_path)], capsys)
    assert rc == 1
    # Every need appears, in one report, each missing one with how to get it.
    assert "[MISSING] generator" in out
    for card in ("stylegan2_church256_nvlabs", "stylegan2_church256_rosinality"):
        assert card in out
    assert "legacy.py" in out and "convert_weight.py" in out
    assert "[MISSING] train_data" in out and "download.py -c church_outdoor" in out
    assert "[MISSING] test_data" in out and "church_outdoor_val_lmdb" in out
    assert "[ok]      lpips" in out  # converted offline from installed packages
    assert "not ready: 3 missing" in out
    assert "100,000 steps x batch 64 = 6,400,000 images seen" in out  # the plan still prints


def _stand_in_registry(tmp: Path) -> Path:
    """Copies of the real cards with the stand-ins' architecture and counts."""
    registry = tmp / "registry"
    shutil.copytree(ROOT / "registry", registry)
    card = registry / "stylegan2_church256_rosinality.yaml"
    data = yaml.safe_load(card.read_text())
    data["file"]["expect"] = {"resolution": 64, "num_ws": 10, "w_dim": 64}
    data["file"]["sha256"] = sha256_file(ROSINALITY_64)  # exercises the hash comparison
    card.write_text(yaml.safe_dump(data))
    for name, count in (("lsun_church_train_lmdb", 6), ("lsun_church_val_lmdb", 3)):
        path = registry / f"{name}.yaml"
        data = yaml.safe_load(path.read_text())
        data["dataset"]["count"] = count
        path.write_text(yaml.safe_dump(data))
    return registry


def test_stand_ins_of_the_real_layouts_pass_and_the_plan_prints(
    tmp_path, cache, capsys, monkeypatch
):
    monkeypatch.chdir(ROOT)
    registry = _stand_in_registry(tmp_path)
    (tmp_path / "assets").mkdir()
    shutil.copy(ROSINALITY_64, tmp_path / "assets" / "stylegan2-church-config-f.pt")
    _dataset(tmp_path / "data" / "church_outdoor_train_lmdb", "lmdb", 6)
    _dataset(tmp_path / "data" / "church_outdoor_val_lmdb", "lmdb", 3)
    report_file = tmp_path / "report.json"
    rc, out = _run(
        ["padinv_church", "--check", "--json", str(report_file), *_common(tmp_path, registry)],
        capsys,
    )
    assert rc == 0, out
    assert "[ok]      generator: stylegan2_church256_rosinality" in out
    assert "sha256 matches the published hash" in out
    assert "loads as rosinality (discriminator, generator)" in out
    assert "lmdb, 6 images" in out and "lmdb, 3 images" in out
    assert "ready: every asset of padinv_church is present" in out
    assert "ganinv bench configs/reproduce/padinv_church_bench.yaml: 2 methods" in out
    assert "time and memory: not measured" in out
    assert report_file.is_file()


def test_timing_record_turns_into_gpu_hours(tmp_path, cache, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    record = {
        "step_label": "padinv",
        "device": "cuda: test record",
        "device_kind": "cuda",
        "batch_per_device": 4,
        "seconds_per_step": 0.5,
        "steps_timed": 3,
        "peak_memory_bytes": 3 * 2**30,
        "generator": "random",
        "how": "test",
    }
    timing = tmp_path / "timing.json"
    timing.write_text(json.dumps(record))
    rc, out = _run(
        ["padinv_church", "--check", "--timing", str(timing), *_common(tmp_path)], capsys
    )
    assert rc == 1
    # 100,000 steps x 0.5 s x (8 per GPU / 4 measured) = 27.8 h wall; x 8 GPUs = 222.2 GPU hours
    assert "scaled linearly to batch 8 per device: 1.000 s/step" in out
    assert "27.8 h wall on 8 such GPUs = 222.2 GPU hours" in out
    assert "memory per GPU: 3.0 GiB peak allocated at batch 4" in out


def test_wrong_hash_layout_and_count_are_caught(tmp_path):
    cards = load_registry(_stand_in_registry(tmp_path))
    locations = Locations(tmp_path / "assets", tmp_path / "data")
    (tmp_path / "assets").mkdir()
    target = tmp_path / "assets" / "stylegan2-church-config-f.pt"
    blob = bytearray(ROSINALITY_64.read_bytes())
    blob[-10] ^= 0xFF
    target.write_bytes(bytes(blob))
    with pytest.raises(AssetProblem, match="different or corrupted"):
        check_file_card(cards["stylegan2_church256_rosinality"], locations, [])
    # An NVlabs card given a rosinality file: the layout is detected from the bytes.
    (tmp_path / "assets" / "stylegan2-church-config-f.pkl").write_bytes(ROSINALITY_64.read_bytes())
    with pytest.raises(AssetProblem, match="is a 'rosinality' file"):
        check_file_card(cards["stylegan2_church256_nvlabs"], locations, [])
    # Hammer files are reported as present but unreadable, with the conversion to use.
    (tmp_path / "assets" / "stylegan2_bedroom_256_60000.pth").write_bytes(b"x")
    with pytest.raises(AssetProblem, match="cannot read the 'hammer' layout"):
        check_file_card(cards["stylegan2_bedroom256_hammer"], locations, [])
    _dataset(tmp_path / "data" / "church_outdoor_val_lmdb", "lmdb", 2)
    with pytest.raises(AssetProblem, match="holds 2 images, the val split has 3"):
        check_dataset_card(cards["lsun_church_val_lmdb"], locations)


def test_psp_checkpoint_layout_and_discriminator_need(tmp_path):
    """A pSp/e4e-layout stand-in (encoder.* + rosinality decoder.*) passes the e4e card."""
    cards = load_registry(_stand_in_registry(tmp_path))
    card = cards["e4e_ffhq_encode"]
    card.file.expect = {"resolution": 64, "num_ws": 10}
    source = torch.load(ROSINALITY_64, map_location="cpu", weights_only=False)
    state = {f"decoder.{k}": v for k, v in source["g_ema"].items()}
    state["encoder.input_layer.0.weight"] = torch.zeros(64, 3, 3, 3)
    (tmp_path / "assets").mkdir()
    torch.save(
        {"state_dict": state, "opts": {"stylegan_size": 64}, "latent_avg": torch.zeros(10, 64)},
        tmp_path / "assets" / "e4e_ffhq_encode.pt",
    )
    locations = Locations(tmp_path / "assets", tmp_path / "data")
    path, details = check_file_card(card, locations, [])
    assert path.name == "e4e_ffhq_encode.pt"
    assert "pSp-layout checkpoint" in details[-1]
    # A generator file without a discriminator fails a need for one.
    g_only = {"g_ema": source["g_ema"], "latent_avg": source["latent_avg"]}
    torch.save(g_only, tmp_path / "assets" / "stylegan2-church-config-f.pt")
    church = cards["stylegan2_church256_rosinality"]
    church.file.sha256 = None
    with pytest.raises(AssetProblem, match=r"needs \['discriminator'\]"):
        check_file_card(church, locations, ["discriminator"])
