"""Tiny real components for the harness tests: a 16 px StyleGAN2 checkpoint, an image folder
rendered by it, a BatchNorm-free encoder (registered as ``harness_tiny_encoder``) and a loss that
draws from torch's, numpy's and Python's global RNGs (``harness_random_views``), and an image
folder whose items do the same (``harness_jitter_folder``, for `ganinv train-gan`).

The encoder has no BatchNorm on purpose: the 2-process gloo test compares against one process,
and per-process batch statistics would differ (SyncBatchNorm needs CUDA). Configs name this module
in ``method.imports`` so that subprocesses (torchrun, the CLI) register it too; run them with this
folder on PYTHONPATH.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from tiny_world import render_image_folder, save_tiny_networks, tiny_generator
from torch import nn

from ganinv.core.encoder import Encoder
from ganinv.core.registry import DATASETS, ENCODERS, LOSSES
from ganinv.core.space import Code, InversionSpace
from ganinv.data.folder import FolderDataset
from ganinv.losses.base import Loss, LossInputs

HERE = Path(__file__).resolve().parent
RESOLUTION = 16


@ENCODERS.register("harness_tiny_encoder")
class TinyEncoder(Encoder):
    """images [B, 3, R, R] -> offsets from the space's neutral code (two strided convs + linear)."""

    def __init__(self, space: InversionSpace, width: int = 8, input_resolution: int = 16) -> None:
        super().__init__(space)
        self.input_resolution = input_resolution
        neutral = space.init_code(1)
        self.key = next(iter(neutral.tensors))
        self.code_shape = tuple(neutral[self.key].shape[1:])
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, width, 3, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool2d(2),
            nn.Flatten(),
        )
        self.head = nn.Linear(4 * width, int(np.prod(self.code_shape)))

    def forward(self, images: torch.Tensor) -> Code:
        base = self.space.init_code(images.shape[0])
        offset = self.head(self.features(images)).view(images.shape[0], *self.code_shape)
        base.tensors[self.key] = base[self.key] + offset
        return base


@LOSSES.register("harness_random_views")
class RandomViewsLoss(Loss):
    """MSE to a randomly altered target: a horizontal shift and a brightness offset drawn by
    Python's `random`, pixel noise drawn by numpy's global RNG and a flip drawn by torch's. Every
    step consumes all three global RNGs and its gradient depends on the draws (continuous ones,
    so two different states cannot draw the same), so a resume that did not restore one of them
    ends with other weights (the resume tests rely on it)."""

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        target = torch.roll(inputs.real, random.randint(1, 7), dims=-1) + random.uniform(-0.2, 0.2)
        noise = np.random.standard_normal(tuple(target.shape)).astype(np.float32)
        target = target + 0.1 * torch.from_numpy(noise).to(target.device)
        if bool(torch.rand(()) < 0.5):
            target = target.flip(-2)
        return (inputs.fake - target).square().mean()


@DATASETS.register("harness_jitter_folder")
class JitterFolder(FolderDataset):
    """A folder dataset whose items are shifted by Python's `random` and noised by numpy's global
    RNG (with ``flip: true`` torch's flips them too): augmentation from all three global RNGs."""

    def __getitem__(self, index: int) -> torch.Tensor:
        image = torch.roll(super().__getitem__(index), random.randint(0, 2), dims=-1)
        image = image + random.uniform(-0.1, 0.1)  # continuous: no two states draw the same
        noise = np.random.standard_normal(tuple(image.shape)).astype(np.float32)
        return image + 0.05 * torch.from_numpy(noise)


def make_generator_file(path: Path, seed: int = 0) -> Path:
    """A random 16 px StyleGAN2 (16 channels, z/w dim 16) with its discriminator, our format."""
    return save_tiny_networks(path, tiny_generator(seed, w_avg_samples=256))


def make_image_folder(folder: Path, generator_file: Path, count: int, seed: int = 1) -> Path:
    """`count` PNGs rendered by the generator (so they are invertible), named 000.png, ..."""
    from ganinv import load_generator

    return render_image_folder(folder, load_generator(str(generator_file)).eval(), count, seed)


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
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parent), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env["MKL_NUM_THREADS"] = "1"
    return env
