"""PadInv trains through the generic harness and, at equal budget, beats pSp on held-out images.

The paper's claim at small scale: the same backbone, data, steps and optimiser; PadInv adds the
padding branch. The images are out of the generator's domain (coloured blocks, not renderings),
where W+ alone cannot follow their layout and the padding space can.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_world import block_images, save_tiny_networks, tiny_generator, train_on_cpu

import ganinv
from ganinv.harness.configs import load
from ganinv.harness.schema import BenchConfig

BACKBONE = {
    "input_resolution": 32,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [16, 16, 32, 32],
}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("padinv_world")
    g = tiny_generator(0, channels={4: 32, 8: 32, 16: 16}, w_avg_samples=256)
    save_tiny_networks(root / "g.safetensors", g)
    return {
        "root": root,
        "generator": root / "g.safetensors",
        "train": block_images(root / "train", 32, seed=1),
        "test": block_images(root / "test", 8, seed=2),
    }


def train(world: dict[str, Path], name: str, space: dict, encoder: dict, **extra) -> Path:
    out = world["root"] / name
    config = {
        "method": {"generator": str(world["generator"]), "space": space, "encoder": encoder},
        "data": {"name": "folder", "path": str(world["train"]), "resolution": 16},
        "losses": {"mse": 1.0, "wnorm": 0.003},
        "optimizer": {"name": "adam", "lr": 0.002},
        "steps": 40,
        "batch_size": 8,
        "seed": 0,
        "checkpoint_every": 40,
        "log_every": 1,
        "out": str(out),
        "progress": False,
        **extra,
    }
    return train_on_cpu(config)


@pytest.fixture(scope="module")
def padinv(world: dict[str, Path]) -> Path:
    return train(
        world, "padinv", {"name": "padinv", "pad_layers": 3}, {"name": "padinv", **BACKBONE}
    )


@pytest.mark.slow
def test_padinv_lowers_loss_and_beats_same_budget_psp(world, padinv):
    psp = train(world, "psp", "wplus", {"name": "psp", **BACKBONE})
    log = [json.loads(x) for x in (padinv / "log.jsonl").read_text().splitlines()]
    losses = [r["loss/total"] for r in log if "loss/total" in r]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])

    bench = {
        "generator": str(world["generator"]),
        "data": {"name": "folder", "path": str(world["test"]), "resolution": 16},
        "metrics": ["mse"],
        "methods": [
            {"label": "PadInv", "encoder_checkpoint": str(padinv / "encoder_latest.safetensors")},
            {"label": "pSp", "encoder_checkpoint": str(psp / "encoder_latest.safetensors")},
        ],
        "out": str(world["root"] / "bench"),
        "progress": False,
    }
    table = ganinv.benchmark(load(BenchConfig, bench))
    rows = dict(table.rows)
    assert rows["PadInv"]["mse"] < rows["pSp"]["mse"], rows


@pytest.mark.slow
def test_blend_and_custom_edit_through_the_cli(world, padinv, tmp_path):
    from ganinv.cli.main import main
    from ganinv.core.space import Code

    method = str(padinv / "encoder_latest.safetensors")
    a, b, c = (str(world["test"] / f"00{i}.png") for i in range(3))
    assert (
        main(
            [
                "edit",
                "blend",
                "--method",
                method,
                "--structure",
                a,
                "--appearance",
                b,
                "--out",
                str(tmp_path / "blend"),
            ]
        )
        == 0
    )
    blend = Code.load(tmp_path / "blend" / "blend.safetensors")
    assert blend.space == "padinv" and (tmp_path / "blend" / "blend.png").exists()

    assert (
        main(
            [
                "edit",
                "custom",
                "--method",
                method,
                "--source",
                a,
                "--edited",
                b,
                "--target",
                c,
                "--alpha",
                "1.0",
                "--parts",
                "padding",
                "--out",
                str(tmp_path / "custom"),
            ]
        )
        == 0
    )
    edited = Code.load(tmp_path / "custom" / "custom.safetensors")
    assert (tmp_path / "custom" / "custom.png").exists()
    # only the padding moved: W+ is the target's own inversion
    target = ganinv.invert(method, c, device="cpu")[0]
    assert torch.allclose(edited["wplus"], target["wplus"], atol=1e-5)
    assert not torch.allclose(edited["pad16"], target["pad16"])
