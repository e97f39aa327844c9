"""A tiny world for methods that build on a frozen e4e (SDIC, HFGI): a 16 px StyleGAN2 file,
images out of its domain (`tiny_world.block_images`: the e4e leaves something for the method to
restore), and an e4e
trained for a few steps through `ganinv train` and exported. Importable: tests/ is on the path.

`train_and_bench` trains such a method through the CLI and benchmarks it against its e4e base on
the held-out images.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from PIL import Image
from tiny_world import block_images, save_tiny_networks, tiny_generator, train_on_cpu

import ganinv

RESOLUTION = 16
# A CPU-sized pSp-style backbone (16 px input), and e4e's settings on it without its
# progressive schedule or latent discriminator.
TINY_BACKBONE = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}
E4E_BACKBONE = {**TINY_BACKBONE, "progressive_start": None, "w_discriminator": False}


def make_generator_file(path: Path, seed: int = 0) -> Path:
    return save_tiny_networks(path, tiny_generator(seed, w_avg_samples=256))


def load_images(folder: Path) -> torch.Tensor:
    """The folder's PNGs as [N, 3, 16, 16] in [-1, 1]."""
    arrays = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("*.png"))]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 127.5 - 1


def base_config(world: dict[str, Path], out: Path, method: dict, steps: int, **extra) -> dict:
    """A `ganinv train` config on the world's training images (MSE, Adam, batch 8)."""
    return {
        "method": {"generator": str(world["generator"]), **method},
        "data": {"name": "folder", "path": str(world["train"]), "resolution": RESOLUTION},
        "losses": {"mse": 1.0},
        "optimizer": {"name": "adam", "lr": 0.002},
        "steps": steps,
        "batch_size": 8,
        "seed": 0,
        "checkpoint_every": steps,
        "log_every": 1,
        "out": str(out),
        "progress": False,
        **extra,
    }


def make_world(root: Path) -> dict[str, Path]:
    """generator, train (16 images), test (4), and e4e (10 steps of `ganinv train`) under root."""
    world = {
        "root": root,
        "generator": make_generator_file(root / "g.safetensors"),
        "train": block_images(root / "train", 16, seed=1),
        "test": block_images(root / "test", 4, seed=2),
    }
    method = {"space": "wplus", "encoder": {"name": "e4e", **E4E_BACKBONE}}
    config = base_config(world, root / "e4e", method, steps=10)
    config["extra_loss_weights"] = {"delta_norm": 2e-4}
    run = train_on_cpu(config)
    world["e4e"] = run / "encoder_latest.safetensors"
    return world


def train_and_bench(
    world: dict[str, Path], label: str, method: dict, steps: int, **extra: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Train `method` with `ganinv train` (the CLI) into ``<root>/<label>_run``; returns the
    training log's records and the MSE bench rows of {label, "e4e"} on the held-out images."""
    from ganinv.cli.main import main
    from ganinv.harness.configs import load
    from ganinv.harness.schema import BenchConfig

    root = world["root"]
    run = root / f"{label.lower()}_run"
    path = root / f"{label.lower()}_train.yaml"
    path.write_text(yaml.safe_dump(base_config(world, run, method, steps=steps, **extra)))
    assert main(["train", str(path), "--device", "cpu"]) == 0
    log = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    bench = {
        "generator": str(world["generator"]),
        "data": {"name": "folder", "path": str(world["test"]), "resolution": RESOLUTION},
        "metrics": ["mse"],
        "methods": [
            {"label": label, "encoder_checkpoint": str(run / "encoder_latest.safetensors")},
            {"label": "e4e", "encoder_checkpoint": str(world["e4e"])},
        ],
        "out": str(root / f"{label.lower()}_bench"),
        "progress": False,
    }
    return log, dict(ganinv.benchmark(load(BenchConfig, bench)).rows)
