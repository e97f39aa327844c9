"""Tiny world for the HyperStyle tests: a 16 px StyleGAN2 file, images it rendered, and untrained
W and e4e encoders exported as `ganinv train` exports them (HyperStyle's frozen bases)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from e4e_world import E4E_BACKBONE, TINY_BACKBONE
from tiny_world import render_image_folder, save_tiny_networks, tiny_generator

import ganinv
from ganinv.harness.method import save_encoder
from ganinv.harness.schema import MethodConfig

RESOLUTION = 16
# A hypernetwork for a CPU: 16 px input, stem stride 1 -> a 2 x 2 feature map.
SMALL = {
    "blocks": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
    "stem_stride": 1,
    "inner_channels": 8,
    "head_channels": 8,
    "shared_inner_channels": 8,
    "iterations": 3,
    "train_iterations": 2,
}


def export_base(path: Path, generator_file: Path, space: str, encoder: dict[str, Any]) -> Path:
    """An untrained encoder exported with its specs, as `ganinv train` writes it."""
    generator = ganinv.load_generator(str(generator_file))
    on = ganinv.build("spaces", space, generator=generator)
    built = ganinv.build("encoders", encoder, space=on)
    config = MethodConfig(generator=str(generator_file), space=space, encoder=encoder)
    return save_encoder(path, built, config)


def make_world(root: Path) -> dict[str, Path]:
    torch.manual_seed(0)
    generator = tiny_generator(0, w_avg_samples=256, noise_strength=0.1)
    world = {"root": root, "generator": save_tiny_networks(root / "g.safetensors", generator)}
    world["images"] = render_image_folder(root / "images", generator, 8, seed=1)
    world["e4e"] = export_base(
        root / "e4e.safetensors",
        world["generator"],
        "wplus",
        {"name": "e4e", **E4E_BACKBONE},
    )
    world["w_encoder"] = export_base(
        root / "w_encoder.safetensors",
        world["generator"],
        "w",
        {"name": "w_encoder", **TINY_BACKBONE},
    )
    return world


def build(world: dict[str, Path], base: str = "e4e", **overrides: Any):
    """(space, hyperstyle encoder) on the tiny generator, over the exported `base` encoder."""
    generator = ganinv.load_generator(str(world["generator"]))
    space = ganinv.build("spaces", "wplus" if base == "e4e" else "w", generator=generator)
    spec = {"name": "hyperstyle", "base_encoder": str(world[base]), **SMALL, **overrides}
    return space, ganinv.build("encoders", spec, space=space)
