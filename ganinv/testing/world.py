"""The tiny world: a random 16 px StyleGAN2, images it rendered, and small data-set sources.

Everything is seeded and sized by its arguments, so a check's numbers depend only on its call;
everything runs on a CPU in well under a second.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganinv.checkpoints.native import save_networks
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator

TINY_CHANNELS = {4: 16, 8: 16, 16: 16}
TINY_RESOLUTION = 16


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


def tiny_images(
    generator: StyleGAN2Generator, count: int = 4, seed: int = 0, psi: float = 0.7
) -> torch.Tensor:
    """`count` images [count, 3, R, R] in [-1, 1] rendered by `generator` (so invertible)."""
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(count, generator.z_dim, generator=rng).to(generator.w_avg.device)
    with torch.no_grad():
        return generator(z, truncation_psi=psi).clamp(-1, 1)


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


def write_idx_folder(folder: Path, count: int = 8, size: int = 28, seed: int = 0) -> Path:
    """MNIST-style IDX files (``train-images-idx3-ubyte.gz`` and labels) of random grey images."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(count, size, size), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count, dtype=np.uint8)
    images = struct.pack(">IIII", 0x803, count, size, size) + pixels.tobytes()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
    label_bytes = struct.pack(">II", 0x801, count) + labels.tobytes()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(label_bytes))
    return folder
