"""Tiny world for the SDIC tests: a 16 px StyleGAN2 file, images it rendered, and an e4e trained
for a few steps through `ganinv train` and exported (SDIC's frozen base)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tiny_world import save_tiny_networks, tiny_generator, train_on_cpu

RESOLUTION = 16
E4E_BACKBONE = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
    "progressive_start": None,
    "w_discriminator": False,
}
# DIPN / DICN widths for a CPU; the compensated layer is the first 8 px conv.
SMALL_SDIC = {
    "feature_widths": [4, 4, 8, 8, 8],
    "descriptor_hidden": 8,
    "descriptor_channels": 4,
    "volume_channels": 2,
    "head_channels": 4,
    "dicn_widths": [8, 8],
    "latent_map_size": 8,
}
SPACE = {"name": "sdic", "feature_resolution": 8}


def make_generator_file(path: Path, seed: int = 0) -> Path:
    return save_tiny_networks(path, tiny_generator(seed, w_avg_samples=256))


def make_images(folder: Path, count: int, seed: int) -> Path:
    """Coloured blocks on a flat background: out of the tiny generator's domain, so the e4e base
    leaves a discrepancy for SDIC to compensate."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        img = np.full((RESOLUTION, RESOLUTION, 3), rng.integers(0, 80), np.uint8)
        for _ in range(2):
            y, x = rng.integers(0, 12, size=2)
            h, w = rng.integers(3, 8, size=2)
            img[y : y + h, x : x + w] = rng.integers(60, 255, size=3)
        Image.fromarray(img).save(folder / f"{i:03d}.png")
    return folder


def base_config(world: dict[str, Path], out: Path, method: dict, steps: int, **extra) -> dict:
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
    world = {
        "root": root,
        "generator": make_generator_file(root / "g.safetensors"),
        "train": make_images(root / "train", 16, seed=1),
        "test": make_images(root / "test", 4, seed=2),
    }
    method = {"space": "wplus", "encoder": {"name": "e4e", **E4E_BACKBONE}}
    config = base_config(world, root / "e4e", method, steps=10)
    config["extra_loss_weights"] = {"delta_norm": 2e-4}
    run = train_on_cpu(config)
    world["e4e"] = run / "encoder_latest.safetensors"
    return world
