"""`ganinv train-gan`: learns, resumes exactly, and writes loadable snapshots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

import ganinv
from ganinv.cli.main import main
from ganinv.core.config import load_config
from ganinv.harness.gan_training import GanTrainConfig, GanTrainer

TINY = {4: 16, 8: 16, 16: 16}


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("blobs")
    rng = np.random.default_rng(0)
    for i in range(24):
        img = np.zeros((16, 16, 3), np.uint8)
        y, x = rng.integers(2, 10, size=2)
        img[y : y + 5, x : x + 5] = rng.integers(120, 255, size=3)
        Image.fromarray(img).save(root / f"{i:03d}.png")
    return root


def write_config(tmp: Path, data: Path, **extra) -> Path:
    cfg = {
        "output": str(tmp / "run"),
        "data": {"name": "folder", "path": str(data), "resolution": 16},
        "generator": {"z_dim": 16, "w_dim": 16, "mapping_layers": 2, "channels": TINY},
        "discriminator": {"channels": TINY},
        "batch_size": 4,
        "total_kimg": 0.032,
        "checkpoint_kimg": 0.016,
        "r1_interval": 2,
        "pl_weight": 2.0,
        "pl_interval": 2,
        "sample_seeds": 4,
        "device": "cpu",
        **extra,
    }
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "gan.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def states_equal(a: dict, b: dict) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def test_resumed_run_matches_uninterrupted_run(tmp_path: Path, image_folder: Path):
    straight = GanTrainer(load_config(GanTrainConfig, write_config(tmp_path / "a", image_folder)))
    straight.train()
    assert straight.step == 8 and (straight.out / "DONE").exists()

    cfg = write_config(tmp_path / "b", image_folder)
    first = GanTrainer(load_config(GanTrainConfig, cfg, ["total_kimg=0.016"]))
    first.train()
    assert first.step == 4
    second = GanTrainer(load_config(GanTrainConfig, cfg))
    second.train(resume=True)
    assert second.step == 8
    for name in ("G", "D", "G_ema"):
        assert states_equal(
            getattr(straight, name).state_dict(), getattr(second, name).state_dict()
        ), name


def test_losses_move_and_snapshot_loads_as_generator(tmp_path: Path, image_folder: Path):
    cfg = write_config(tmp_path, image_folder)
    assert main(["train-gan", str(cfg)]) == 0
    run = tmp_path / "run"
    snapshot = run / "network-snapshot.safetensors"
    G = ganinv.load_generator(snapshot)
    D = ganinv.load_discriminator(snapshot)
    assert G.resolution == 16 and G.w_dim == 16 and G.num_ws == 6
    assert not torch.equal(G.w_avg, torch.zeros_like(G.w_avg))  # tracked during training
    with torch.no_grad():
        img = G(torch.randn(2, 16))
    assert img.shape == (2, 3, 16, 16) and D(img).shape == (2, 1)
    assert (run / "samples.png").stat().st_size > 0
    assert yaml.safe_load((run / "config.yaml").read_text())["batch_size"] == 4
    # a second start without --resume refuses to overwrite the run
    proc = subprocess.run(
        [sys.executable, "-m", "ganinv", "train-gan", str(cfg)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "pass --resume" in proc.stderr


def test_dataset_resolution_mismatch_is_reported(tmp_path: Path, image_folder: Path):
    cfg = write_config(tmp_path, image_folder, generator={"resolution": 32, "channels": TINY})
    with pytest.raises(ganinv.GanInvError, match="16 px but the networks"):
        GanTrainer(load_config(GanTrainConfig, cfg))


def test_warm_start_from_a_snapshot_continues_the_count(tmp_path: Path, image_folder: Path):
    first = GanTrainer(load_config(GanTrainConfig, write_config(tmp_path / "a", image_folder)))
    first.train()
    snapshot = first.out / "network-snapshot.safetensors"
    cfg = write_config(tmp_path / "b", image_folder, init_from=str(snapshot), total_kimg=0.036)
    second = GanTrainer(load_config(GanTrainConfig, cfg))
    second.start_from_snapshot(str(snapshot))
    assert second.nimg == first.nimg and second.step == first.step
    assert states_equal(first.G_ema.state_dict(), second.G.state_dict())
    assert states_equal(first.D.state_dict(), second.D.state_dict())
    second.train()  # continues past the snapshot's 32 images
    assert second.nimg == 36 and second.step == first.step + 1
    wrong = write_config(
        tmp_path / "c",
        image_folder,
        init_from=str(snapshot),
        discriminator={"channels": {4: 8, 8: 8, 16: 8}},
    )
    with pytest.raises(ganinv.GanInvError, match="does not match the configured networks"):
        GanTrainer(load_config(GanTrainConfig, wrong)).train()
