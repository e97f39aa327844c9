"""Tiny world for the HFGI tests: a 16 px StyleGAN2 file, images out of its domain, and an e4e
trained for a few steps through `ganinv train` and exported (HFGI's frozen base)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tiny_world import save_tiny_networks, tiny_generator, train_on_cpu

import ganinv

RESOLUTION = 16
E4E_BACKBONE = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
    "progressive_start": None,
    "w_discriminator": False,
}
# Narrow ADA / consultation widths for a CPU; the modulated layer is the first 8 px conv.
SPACE = {
    "name": "hfgi",
    "feature_resolution": 8,
    "distortion_resolution": 16,
    "alignment_widths": [4, 8, 8, 8],
    "consultation_widths": [8, 8, 8],
    "head_hidden": 8,
}


def make_images(folder: Path, count: int, seed: int) -> Path:
    """Coloured blocks on a flat background: out of the tiny generator's domain, so the e4e base
    leaves a distortion for HFGI to restore."""
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


def load_images(folder: Path) -> torch.Tensor:
    """The folder's PNGs as [N, 3, 16, 16] in [-1, 1]."""
    arrays = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(folder.glob("*.png"))]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 127.5 - 1


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
        "generator": save_tiny_networks(
            root / "g.safetensors", tiny_generator(0, w_avg_samples=256)
        ),
        "train": make_images(root / "train", 16, seed=1),
        "test": make_images(root / "test", 4, seed=2),
    }
    method = {"space": "wplus", "encoder": {"name": "e4e", **E4E_BACKBONE}}
    config = base_config(world, root / "e4e", method, steps=10)
    config["extra_loss_weights"] = {"delta_norm": 2e-4}
    run = train_on_cpu(config)
    world["e4e"] = run / "encoder_latest.safetensors"
    return world


def build(world: dict, space: dict | None = None, **encoder_args):
    """(space, encoder) of HFGI on the world's generator and e4e (encoder in eval mode)."""
    from ganinv.checkpoints.load import load_generator

    generator = load_generator(str(world["generator"]))
    space_obj = ganinv.build("spaces", space or SPACE, generator=generator)
    spec = {"name": "hfgi", "e4e_checkpoint": str(world["e4e"]), **encoder_args}
    encoder = ganinv.build("encoders", spec, space=space_obj).eval()
    return space_obj, encoder
