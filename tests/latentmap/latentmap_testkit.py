"""Tiny world for the latent-map tests: a 16 px StyleGAN2 file and training / evaluation helpers."""

from __future__ import annotations

from pathlib import Path

import torch

from ganinv.checkpoints.native import save_networks
from ganinv.harness.configs import load
from ganinv.harness.schema import TrainConfig
from ganinv.harness.train import run_training
from ganinv.stylegan2.generator import StyleGAN2Generator

# AlexNet conv5 on 64 px inputs (3 x 3 features): the cheapest pretrained extractor on a CPU.
FEATURES = {"name": "alexnet", "layer": "conv5", "resize_to": 64}
ENCODER = {"name": "latentmap", "features": FEATURES, "pool_size": 2, "hidden": 256, "layers": 3}


def make_generator_file(path: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    g = StyleGAN2Generator(
        z_dim=16, w_dim=16, resolution=16, channels={4: 16, 8: 16, 16: 16}, mapping_layers=2
    )
    with torch.no_grad():
        g.w_avg.copy_(g.mapping(torch.randn(2000, 16))[:, 0].mean(0))
    return save_networks(path, {"generator": g})


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
    run_training(load(TrainConfig, config), torch.device("cpu"))
    return Path(config["out"]) / "encoder_latest.safetensors"
