"""Tiny real networks and data shared by the test folders (importable: tests/ is on the path);
the networks and images come from the public `ganinv.testing`.

Every helper takes the seed and sizes explicitly, so a test's numbers depend only on its call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch

from ganinv.harness.configs import load
from ganinv.harness.schema import TrainConfig
from ganinv.harness.train import run_training

# The tiny world is public (ganinv.testing); these names stay importable from here.
from ganinv.testing.world import (  # noqa: F401
    TINY_CHANNELS,
    make_world,
    render_image_folder,
    save_tiny_networks,
    tiny_generator,
)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one thread while a session fixture builds a world (tiny networks run fastest so)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def block_images(folder: Path, count: int, seed: int) -> Path:
    """`count` 16 px PNGs of two coloured blocks on a flat background: out of the tiny
    generator's domain (methods that restore what W+ misses have something to do)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        img = np.full((16, 16, 3), rng.integers(0, 80), np.uint8)
        for _ in range(2):
            y, x = rng.integers(0, 12, size=2)
            h, w = rng.integers(3, 8, size=2)
            img[y : y + h, x : x + w] = rng.integers(60, 255, size=3)
        Image.fromarray(img).save(folder / f"{i:03d}.png")
    return folder


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
