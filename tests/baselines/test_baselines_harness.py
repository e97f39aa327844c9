"""End to end through the CLI: `ganinv train` an e4e encoder, then `ganinv eval` it with the
optimize refiner on top (encoder code as the starting point)."""

from __future__ import annotations

import json

import pytest
import yaml
from tiny_world import eval_mse, make_world

from ganinv.cli.main import main

SMALL = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}


def e4e_training(generator, images, out, steps: int, checkpoint_every: int, **encoder) -> dict:
    """A `ganinv train` config of a small e4e with its extra losses on the tiny world."""
    return {
        "method": {
            "generator": str(generator),
            "space": "wplus",
            "encoder": {"name": "e4e", **SMALL, **encoder},
        },
        "data": {"name": "folder", "path": str(images), "resolution": 16},
        "losses": {"mse": 1.0},
        "extra_loss_weights": {"delta_norm": 2e-4, "w_discriminator": 0.1},
        "optimizer": {"name": "adam", "lr": 1e-3},
        "steps": steps,
        "batch_size": 4,
        "checkpoint_every": checkpoint_every,
        "out": str(out),
        "progress": False,
    }


@pytest.mark.slow
def test_train_e4e_then_eval_with_refinement(tmp_path):
    generator, images = make_world(tmp_path)
    run = tmp_path / "run"
    train = e4e_training(
        generator, images, run, 4, 4, progressive_start=2, progressive_step_every=1
    )
    train["log_every"] = 1
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train))
    assert main(["train", str(tmp_path / "train.yaml"), "--device", "cpu"]) == 0
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["aux/e4e_stage"] for r in log] == [0.0, 1.0, 2.0, 3.0]
    assert all("aux/w_discriminator_loss" in r and "loss/extra/delta_norm" in r for r in log)
    exported = run / "encoder_latest.safetensors"
    assert exported.is_file()

    results = {}
    for label, refiner in [
        ("encoder", None),
        ("refined", {"name": "optimize", "steps": 30, "latent_noise": 0.0, "losses": {"mse": 1.0}}),
    ]:
        method = {"encoder_checkpoint": str(exported), "refiner": refiner}
        results[label] = eval_mse(tmp_path, label, method, images)
    # Optimisation started from the encoder's codes improves on them.
    assert results["refined"] < 0.8 * results["encoder"], results


@pytest.mark.slow
@pytest.mark.parametrize("name", ["psp", "w_encoder"])
def test_train_save_reload_eval(name, tmp_path):
    generator, images = make_world(tmp_path)
    run = tmp_path / "run"
    space = "w" if name == "w_encoder" else "wplus"
    train = {
        "method": {"generator": str(generator), "space": space, "encoder": {"name": name, **SMALL}},
        "data": {"name": "folder", "path": str(images), "resolution": 16},
        "losses": {"mse": 1.0},
        "optimizer": {"name": "adam", "lr": 2e-3},
        "steps": 8,
        "batch_size": 4,
        "log_every": 1,
        "checkpoint_every": 8,
        "out": str(run),
        "progress": False,
    }
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train))
    assert main(["train", str(tmp_path / "train.yaml"), "--device", "cpu"]) == 0
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    losses = [r["loss/mse"] for r in log]
    assert min(losses[-2:]) < losses[0], losses
    config = {
        "method": {"encoder_checkpoint": str(run / "encoder_latest.safetensors")},
        "data": {"name": "folder", "path": str(images), "resolution": 16},
        "metrics": ["mse"],
        "out": str(tmp_path / "eval"),
        "progress": False,
    }
    (tmp_path / "eval.yaml").write_text(yaml.safe_dump(config))
    assert main(["eval", str(tmp_path / "eval.yaml"), "--device", "cpu"]) == 0
    record = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert record["method"]["encoder"]["name"] == name
    assert 0 < record["metrics"]["mse"]["value"] < 2 * losses[0]


def test_e4e_resume_restores_latent_discriminator_state_exactly(tmp_path):
    """Stopping after 3 steps and resuming gives the weights of 6 uninterrupted steps: the
    latent discriminator's optimiser, its code pools and the z sampler are in the checkpoint."""
    import torch

    from ganinv.harness.configs import load
    from ganinv.harness.schema import TrainConfig
    from ganinv.harness.train import run_training

    generator, images = make_world(tmp_path)

    def config(out, steps):
        settings = {"progressive_start": 1, "progressive_step_every": 1, "d_reg_every": 2}
        return load(
            TrainConfig,
            e4e_training(generator, images, out, steps, 3, w_pool_size=3, **settings),
        )

    run_training(config(tmp_path / "full", 6), torch.device("cpu"))
    run_training(config(tmp_path / "split", 3), torch.device("cpu"))
    run_training(config(tmp_path / "split", 6), torch.device("cpu"), resume=True)
    full = torch.load(tmp_path / "full" / "checkpoints" / "latest.pt", weights_only=True)
    split = torch.load(tmp_path / "split" / "checkpoints" / "latest.pt", weights_only=True)
    for key, value in full["encoder"].items():
        assert torch.equal(value, split["encoder"][key]), key
    assert len(full["encoder_auxiliary"]["fake_pool"]["codes"]) == 3
