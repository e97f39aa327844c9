"""Tiny real networks and data shared by the test folders (importable: tests/ is on the path).

Every helper takes the seed and sizes explicitly, so a test's numbers depend only on its call.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganinv.checkpoints.native import save_networks
from ganinv.harness.configs import load
from ganinv.harness.schema import TrainConfig
from ganinv.harness.train import run_training
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator

TINY_CHANNELS = {4: 16, 8: 16, 16: 16}


def tiny_generator(
    seed: int = 0,
    *,
    channels: dict[int, int] | None = None,
    latent_dim: int = 16,
    w_avg_samples: int = 2000,
    noise_strength: float | None = None,
) -> StyleGAN2Generator:
    """A random StyleGAN2 (16 px unless `channels` says otherwise, 2 mapping layers), eval mode,
    whose w_avg is the mean of `w_avg_samples` mapped z, as after training."""
    channels = channels or TINY_CHANNELS
    torch.manual_seed(seed)
    g = StyleGAN2Generator(
        z_dim=latent_dim,
        w_dim=latent_dim,
        resolution=max(channels),
        channels=channels,
        mapping_layers=2,
    )
    with torch.no_grad():
        g.w_avg.copy_(g.mapping_w(torch.randn(w_avg_samples, latent_dim)).mean(0))
        if noise_strength is not None:
            for name, p in g.named_parameters():
                if name.endswith("noise_strength"):
                    p.fill_(noise_strength)  # so per-layer noise changes the image
    return g.eval().requires_grad_(False)


def save_tiny_networks(
    path: Path, generator: StyleGAN2Generator, discriminator: bool = True
) -> Path:
    """Our checkpoint format, with a random discriminator of the same channel table."""
    networks = {"generator": generator}
    if discriminator:
        channels = {int(k): v for k, v in generator.config["channels"].items()}
        networks["discriminator"] = StyleGAN2Discriminator(
            resolution=generator.resolution, channels=channels
        )
    return save_networks(path, networks, {"note": "tiny test network"})


def render_image_folder(
    folder: Path, generator: StyleGAN2Generator, count: int, seed: int, psi: float = 0.7
) -> Path:
    """`count` PNGs rendered by the generator (so they are invertible), named 000.png, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    with torch.no_grad():
        images = generator(torch.randn(count, generator.z_dim), truncation_psi=psi).clamp(-1, 1)
    arrays = ((images + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    for i, array in enumerate(arrays):
        Image.fromarray(np.ascontiguousarray(array)).save(folder / f"{i:03d}.png")
    return folder


def make_world(root: Path, count: int = 8) -> tuple[Path, Path]:
    """A tiny generator file (noise strength 0.1, with a discriminator) and `count` images it
    rendered, in ``root/images``."""
    g = tiny_generator(noise_strength=0.1)
    generator_file = save_tiny_networks(root / "g.safetensors", g)
    return generator_file, render_image_folder(root / "images", g, count, seed=1)


def eval_mse(root: Path, label: str, method: dict, images: Path) -> float:
    """`ganinv eval` of `method` on an image folder through the CLI; returns its MSE."""
    import json

    import yaml

    from ganinv.cli.main import main

    out = root / label
    config = {
        "method": method,
        "data": {"name": "folder", "path": str(images), "resolution": 16},
        "metrics": ["mse"],
        "batch_size": 4,
        "out": str(out),
        "progress": False,
    }
    (root / f"{label}.yaml").write_text(yaml.safe_dump(config))
    assert main(["eval", str(root / f"{label}.yaml"), "--device", "cpu"]) == 0
    return json.loads((out / "metrics.json").read_text())["metrics"]["mse"]["value"]


def train_on_cpu(config: dict) -> Path:
    """Run `ganinv train` on a config mapping, on the CPU; returns its output folder."""
    run_training(load(TrainConfig, config), torch.device("cpu"))
    return Path(config["out"])
