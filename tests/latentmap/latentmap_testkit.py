"""Tiny world for the latent-map tests: a 16 px StyleGAN2 file and training / evaluation helpers."""

from __future__ import annotations

from pathlib import Path

from tiny_world import save_tiny_networks, tiny_generator, train_on_cpu

# AlexNet conv5 on 64 px inputs (3 x 3 features): the cheapest pretrained extractor on a CPU.
FEATURES = {"name": "alexnet", "layer": "conv5", "resize_to": 64}
ENCODER = {"name": "latentmap", "features": FEATURES, "pool_size": 2, "hidden": 256, "layers": 3}


def make_generator_file(path: Path, seed: int = 0) -> Path:
    return save_tiny_networks(path, tiny_generator(seed), discriminator=False)


def train_config(generator: Path, out: Path, steps: int, **encoder: object) -> dict:
    return {
        "method": {"generator": str(generator), "space": "w", "encoder": {**ENCODER, **encoder}},
        "data": {"name": "synthetic_pairs", "generator": str(generator), "seed": 0},
        "losses": {"latent_mse": 1.0},
        "optimizer": {"name": "adam", "lr": 0.001},
        "steps": steps,
        "batch_size": 16,
        "seed": 0,
        "checkpoint_every": steps,
        "log_every": 10,
        "out": str(out),
        "progress": False,
    }


def train(config: dict) -> Path:
    """Train; returns the exported encoder."""
    return train_on_cpu(config) / "encoder_latest.safetensors"
