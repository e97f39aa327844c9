"""End to end through the CLI: `ganinv train` the IDInvert encoder against a discriminator started
from the GAN's (the recipe of configs/idinvert, scaled down), then `ganinv eval` it with the
domain-regularised refiner reading the exported encoder."""

from __future__ import annotations

import json

import pytest
import yaml
from tiny_world import eval_mse, make_world

from ganinv.cli.main import main

SMALL = {"name": "idinvert", "input_resolution": 16, "base_channels": 8, "channel_max": 32}


@pytest.mark.slow
def test_train_idinvert_then_in_domain_inversion(tmp_path):
    generator, images = make_world(tmp_path)
    run = tmp_path / "run"
    train = {
        "method": {"generator": str(generator), "space": "wplus", "encoder": SMALL},
        "data": {"name": "folder", "path": str(images), "resolution": 16},
        "losses": {"mse": 1.0, "adversarial": 0.1},
        "optimizer": {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.99]},
        "discriminator": {
            "optimizer": {"name": "adam", "lr": 1e-4, "betas": [0.9, 0.99]},
            "r1_gamma": 10.0,
            "r1_interval": 1,
        },
        "steps": 4,
        "batch_size": 4,
        "log_every": 1,
        "checkpoint_every": 4,
        "out": str(run),
        "progress": False,
    }
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train))
    assert main(["train", str(tmp_path / "train.yaml"), "--device", "cpu"]) == 0
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert all("loss/adversarial" in r and "d/r1" in r for r in log)
    exported = run / "encoder_latest.safetensors"

    results = {}
    refiners = {
        "encoder": None,
        "in_domain": {
            "name": "idinvert_optimize",
            "encoder_checkpoint": str(exported),
            "steps": 30,
            "lr": 0.05,
            "losses": {"mse": 1.0},
        },
    }
    for label, refiner in refiners.items():
        method = {"encoder_checkpoint": str(exported), "refiner": refiner}
        results[label] = eval_mse(tmp_path, label, method, images)
    assert results["in_domain"] < 0.8 * results["encoder"], results
