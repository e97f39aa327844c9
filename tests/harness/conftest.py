"""Shared tiny world for the harness tests: a 16 px StyleGAN2, image folders, a trained encoder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import harness_testkit as kit
import pytest
import torch

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("harness_world")
    g = kit.make_generator_file(root / "g.safetensors")
    return {
        "root": root,
        "generator": g,
        "train": kit.make_image_folder(root / "train", g, 24, seed=1),
        "test": kit.make_image_folder(root / "test", g, 8, seed=2),
    }


def train_config(world: dict[str, Path], out: Path, **top: object) -> dict:
    """A small training config on the tiny world (tiny encoder on W+, MSE)."""
    config = {
        "method": {
            "generator": str(world["generator"]),
            "space": "wplus",
            "encoder": {"name": "harness_tiny_encoder", "width": 8},
            "imports": ["harness_testkit"],
        },
        "data": {"name": "folder", "path": str(world["train"]), "resolution": 16},
        "losses": {"mse": 1.0},
        "optimizer": {"name": "adam", "lr": 0.001},
        "steps": 4,
        "batch_size": 4,
        "checkpoint_every": 2,
        "log_every": 1,
        "out": str(out),
        "progress": False,
    }
    config.update(top)
    return config


@pytest.fixture(scope="session")
def trained_encoder(world: dict[str, Path]) -> Path:
    """An encoder trained for a few steps and exported by the trainer."""
    from ganinv.harness.configs import load
    from ganinv.harness.schema import TrainConfig
    from ganinv.harness.train import run_training

    out = world["root"] / "encoder_run"
    run_training(load(TrainConfig, train_config(world, out, steps=6)), torch.device("cpu"))
    return out / "encoder_latest.safetensors"


def run_cli(
    args: list[str], cwd: Path | None = None, timeout: float = 120, module: str = "ganinv"
) -> subprocess.CompletedProcess:
    """`python -m ganinv ...` with this folder importable and one thread (deterministic sums)."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env["MKL_NUM_THREADS"] = "1"
    return env
