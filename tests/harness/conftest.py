"""Shared tiny world for the harness tests: a 16 px StyleGAN2, image folders, a trained encoder."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def trained_encoder(world: dict[str, Path]) -> Path:
    """An encoder trained for a few steps and exported by the trainer."""
    from ganinv.harness.configs import load
    from ganinv.harness.schema import TrainConfig
    from ganinv.harness.train import run_training

    out = world["root"] / "encoder_run"
    run_training(load(TrainConfig, kit.train_config(world, out, steps=6)), torch.device("cpu"))
    return out / "encoder_latest.safetensors"
