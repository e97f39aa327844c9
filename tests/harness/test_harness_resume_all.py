"""Every trainable method and `train-gan`, killed with SIGKILL and resumed, end exactly where an
uninterrupted run ends (`torch.equal` on every tensor of the final checkpoint).

The methods are the encoders registered by installed plugins (and ganinv itself), so a new
plugin is covered as soon as it is installed; `RECIPES` holds tiny settings for the encoders that
need more than a small pSp-style backbone (an unknown encoder is tried with that backbone).

Each step draws from torch's, numpy's and Python's global RNGs and depends on the draws: flipped
images (torch), generator noise (SDIC, train-gan), masks (latent-map), e4e's and the GAN's own
sampling, and the ``harness_random_views`` loss / ``harness_jitter_folder`` dataset of
`harness_testkit` (Python shift + numpy noise). A resume that skipped restoring any one of the
three states ends with other weights. The kill is deterministic: ``GANINV_KILL_AFTER_CHECKPOINT``
makes the trainer SIGKILL itself one step after its first checkpoint (no polling, no race).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import harness_testkit as kit
import pytest
import torch
import yaml
from tiny_world import render_image_folder, save_tiny_networks, tiny_generator, train_on_cpu

from ganinv.cli.main import main
from ganinv.core.errors import GanInvError
from ganinv.core.registry import ENCODERS
from ganinv.harness.checkpoint import KILL_ENV, KillPoint, load_training_state

STEPS = 4
CHECKPOINT_EVERY = 2
KILL_AT = "1+1"  # one step after the first checkpoint: the log runs past the checkpoint
SMALL = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}


def trainable_encoders() -> list[str]:
    """Encoders from entry points and ganinv's own modules (not those a test module registers)."""
    return sorted(
        info.name
        for info in ENCODERS.info(try_load=False)
        if info.distribution != "ganinv" or info.target.startswith("ganinv.")
    )


def _e4e_base(world: dict[str, Any]) -> str:
    """An exported e4e (SDIC's frozen base), trained once for one step."""
    run = world["root"] / "e4e_base"
    if not (run / "encoder_latest.safetensors").is_file():
        train_on_cpu(
            {
                "method": {
                    "generator": str(world["generator"]),
                    "space": "wplus",
                    "encoder": {"name": "e4e", **SMALL, "w_discriminator": False},
                },
                "data": {"name": "folder", "path": str(world["images"]), "resolution": 16},
                "losses": {"mse": 1.0},
                "extra_loss_weights": {"delta_norm": 2e-4},
                "steps": 1,
                "batch_size": 4,
                "out": str(run),
                "progress": False,
            }
        )
    return str(run / "encoder_latest.safetensors")


# name -> world -> config parts (merged over the common config below).
RECIPES = {
    "w_encoder": lambda world: {
        "method": {"space": "w", "encoder": {"name": "w_encoder", **SMALL}},
    },
    "e4e": lambda world: {
        "method": {
            "space": "wplus",
            "encoder": {
                "name": "e4e",
                **SMALL,
                "progressive_start": 1,
                "progressive_step_every": 1,
                "d_reg_every": 2,
                "w_pool_size": 2,
            },
        },
        "extra_loss_weights": {"delta_norm": 2e-4, "w_discriminator": 0.1},
    },
    "restyle_psp": lambda world: {
        "method": {
            "space": "wplus",
            "encoder": {"name": "restyle_psp", **SMALL, "train_steps": 2},
        },
    },
    "restyle_e4e": lambda world: {
        "method": {
            "space": "wplus",
            "encoder": {
                "name": "restyle_e4e",
                **SMALL,
                "train_steps": 2,
                "progressive_start": 1,
                "progressive_step_every": 1,
                "d_reg_every": 2,
                "w_pool_size": 2,
            },
        },
        "extra_loss_weights": {"delta_norm": 2e-4, "w_discriminator": 0.1},
    },
    "padinv": lambda world: {
        "method": {
            "space": {"name": "padinv", "pad_layers": 2},
            "encoder": {"name": "padinv", **SMALL},
        },
    },
    "idinvert": lambda world: {
        "method": {
            "space": "wplus",
            "encoder": {
                "name": "idinvert",
                "input_resolution": 16,
                "base_channels": 8,
                "channel_max": 16,
            },
        },
        "losses": {"mse": 1.0, "adversarial": 0.1, "harness_random_views": 1.0},
        "discriminator": {"r1_gamma": 1.0, "r1_interval": 2},
    },
    "sdic": lambda world: {
        "method": {
            "space": {"name": "sdic", "feature_resolution": 8},
            "encoder": {
                "name": "sdic",
                "e4e_checkpoint": _e4e_base(world),
                "feature_widths": [4, 4, 8, 8, 8],
                "descriptor_hidden": 8,
                "descriptor_channels": 4,
                "volume_channels": 2,
                "head_channels": 4,
                "dicn_widths": [8, 8],
                "latent_map_size": 8,
                "noise_mode": "random",  # generator noise drawn every step
            },
        },
        "extra_loss_weights": {"feature_reg": 0.4, "latent_reg": 0.1},
    },
    "hyperstyle": lambda world: {
        "method": {
            "space": "wplus",
            "encoder": {
                "name": "hyperstyle",
                "base_encoder": _e4e_base(world),
                "blocks": [1, 1, 1, 1],
                "widths": [8, 8, 16, 16],
                "stem_stride": 1,
                "inner_channels": 8,
                "head_channels": 8,
                "shared_inner_channels": 8,
                "train_iterations": 2,
                "noise_mode": "random",  # the fed-back reconstruction draws generator noise
            },
        },
    },
    "hfgi": lambda world: {
        "method": {
            "space": {
                "name": "hfgi",
                "feature_resolution": 8,
                "distortion_resolution": 16,
                "alignment_widths": [4, 4, 4, 4],
                "consultation_widths": [4, 4, 4],
                "head_hidden": 4,
            },
            "encoder": {
                "name": "hfgi",
                "e4e_checkpoint": _e4e_base(world),
                "aug_rate": 0.5,
                "warp_per_image": True,
            },
        },
        "extra_loss_weights": {"alignment_l1": 0.1},
    },
    "feature_style": lambda world: {
        "method": {
            "space": {"name": "fspace", "feature_resolution": 8},
            # blend ramp over 3 steps: the resumed step 3 blends with s = 2/3 only if the
            # encoder's step count came back from the checkpoint
            "encoder": {"name": "feature_style", **SMALL, "feature_stage": 0, "blend_steps": 3},
        },
        "extra_loss_weights": {"f_recon": 0.01},
    },
    "sfe": lambda world: {  # phase 2: H trained on edit pairs drawn from the global RNG
        "method": {
            "space": {"name": "sfe", "feature_resolution": 8},
            "encoder": {
                "name": "sfe",
                "phase": "editor",
                "input_resolution": 16,
                "units": [1, 1, 1, 1],
                "widths": [8, 8, 16, 16],
                "fuser_blocks": 1,
                "editor_blocks": 1,
                "e4e_checkpoint": _e4e_base(world),
                "edit_losses": {"mse": 1.0},
                "directions": {"pca": {"count": 2, "strengths": [-2.0, 2.0], "samples": 64}},
            },
        },
        "extra_loss_weights": {"edit": 1.0},
    },
    "latentmap": lambda world: {
        "method": {
            "space": "w",
            "encoder": {
                "name": "latentmap",
                "features": {"name": "alexnet", "layer": "conv5", "resize_to": 64},
                "pool_size": 2,
                "hidden": 32,
                "layers": 2,
                "mask_probability": 0.5,
            },
        },
        "data": {"name": "synthetic_pairs", "generator": str(world["generator"]), "seed": 0},
        "losses": {"latent_mse": 1.0, "harness_random_views": 0.5},
    },
}


def recipe(name: str, world: dict[str, Any]) -> dict[str, Any]:
    if name in RECIPES:
        return RECIPES[name](world)
    return {"method": {"space": "wplus", "encoder": {"name": name, **SMALL}}}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("resume_all")
    generator = tiny_generator(0, w_avg_samples=256, noise_strength=0.1)
    path = save_tiny_networks(root / "g.safetensors", generator)
    return {
        "root": root,
        "generator": path,
        "images": render_image_folder(root / "images", generator, 12, seed=1),
    }


def train_config(world: dict[str, Any], name: str, out: Path) -> dict[str, Any]:
    parts = recipe(name, world)
    config = {
        "data": {"name": "folder", "path": str(world["images"]), "resolution": 16, "flip": True},
        "losses": {"mse": 1.0, "harness_random_views": 1.0},
        "optimizer": {"name": "adam", "lr": 0.002},
        "steps": STEPS,
        "batch_size": 4,
        "seed": 5,
        "checkpoint_every": CHECKPOINT_EVERY,
        "log_every": 1,
        "out": str(out),
        "progress": False,
        **{k: v for k, v in parts.items() if k != "method"},
    }
    config["method"] = {
        "generator": str(world["generator"]),
        "imports": ["harness_testkit"],  # the subprocess registers the random-views loss
        **parts["method"],
    }
    return config


def kill_env() -> dict[str, str]:
    return {**kit.subprocess_env(), KILL_ENV: KILL_AT}


def assert_identical(a: Any, b: Any, where: str) -> None:
    """Same structure, same values; tensors bit for bit."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype, where
        assert torch.equal(a, b), f"{where} differs (max |diff| {(a - b).abs().max():.3g})"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys differ"
        for key in a:
            assert_identical(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def log_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def finish_killed(proc: subprocess.Popen, what: str) -> None:
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, f"{what} was not killed: {err[-2000:]}"


@pytest.mark.parametrize("name", trainable_encoders())
def test_encoder_killed_and_resumed_matches_uninterrupted(name, world, tmp_path):
    killed_cfg, full_cfg = tmp_path / "killed.yaml", tmp_path / "full.yaml"
    killed_cfg.write_text(yaml.safe_dump(train_config(world, name, tmp_path / "killed")))
    full_cfg.write_text(yaml.safe_dump(train_config(world, name, tmp_path / "full")))
    # The run to kill is a separate `ganinv train` process; the reference runs here meanwhile.
    proc = subprocess.Popen(
        [sys.executable, "-m", "ganinv", "train", str(killed_cfg), "--device", "cpu"],
        env=kill_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert main(["train", str(full_cfg), "--device", "cpu"]) == 0
    finish_killed(proc, f"`ganinv train` of {name}")

    killed = tmp_path / "killed"
    assert load_training_state(killed / "checkpoints" / "latest.pt")["step"] == CHECKPOINT_EVERY
    assert [r["step"] for r in log_records(killed / "log.jsonl")] == [1, 2, 3]
    assert main(["train", str(killed_cfg), "--resume", "--device", "cpu"]) == 0

    a = torch.load(tmp_path / "full" / "checkpoints" / "latest.pt", weights_only=True)
    b = torch.load(killed / "checkpoints" / "latest.pt", weights_only=True)
    assert a["step"] == b["step"] == STEPS
    # Weights first (the clearest message), then every other piece of state.
    assert_identical(a["encoder"], b["encoder"], "encoder")
    for key in sorted(set(a) - {"config", "encoder"}):
        assert_identical(a[key], b[key], key)
    # The log holds every step once (step 3 of the killed run was dropped), as the reference's.
    full_log, resumed_log = (
        log_records(tmp_path / "full" / "log.jsonl"),
        log_records(killed / "log.jsonl"),
    )
    assert [r["step"] for r in resumed_log] == list(range(1, STEPS + 1))
    for x, y in zip(full_log, resumed_log):
        assert {k: v for k, v in x.items() if k != "seconds"} == {
            k: v for k, v in y.items() if k != "seconds"
        }


def gan_config(world: dict[str, Any], out: Path) -> dict[str, Any]:
    tiny = {4: 16, 8: 16, 16: 16}
    return {
        "output": str(out),
        "data": {
            "name": "harness_jitter_folder",
            "path": str(world["images"]),
            "resolution": 16,
            "flip": True,
        },
        "generator": {"z_dim": 16, "w_dim": 16, "mapping_layers": 2, "channels": tiny},
        "discriminator": {"channels": tiny},
        "batch_size": 4,
        "total_kimg": 0.016,  # 4 steps
        "checkpoint_kimg": 0.008,  # every 2 steps
        "r1_interval": 2,
        "pl_weight": 2.0,
        "pl_interval": 2,
        "sample_seeds": 4,
        "seed": 5,
        "device": "cpu",
    }


def test_train_gan_killed_and_resumed_matches_uninterrupted(world, tmp_path):
    killed_cfg, full_cfg = tmp_path / "killed.yaml", tmp_path / "full.yaml"
    killed_cfg.write_text(yaml.safe_dump(gan_config(world, tmp_path / "killed")))
    full_cfg.write_text(yaml.safe_dump(gan_config(world, tmp_path / "full")))
    # `ganinv train-gan` with the test dataset registered first.
    launcher = "import sys, harness_testkit; from ganinv.cli.main import main; main(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher, "train-gan", str(killed_cfg)],
        env=kill_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert main(["train-gan", str(full_cfg)]) == 0
    finish_killed(proc, "`ganinv train-gan`")

    killed = tmp_path / "killed"
    assert load_training_state(killed / "checkpoint.pt")["step"] == 2
    assert not (killed / "DONE").exists()
    assert main(["train-gan", str(killed_cfg), "--resume"]) == 0

    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)
    b = torch.load(killed / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == 4
    for net in ("G", "D", "G_ema"):
        assert_identical(a[net], b[net], net)
    for key in sorted(set(a) - {"config", "G", "D", "G_ema"}):
        assert_identical(a[key], b[key], key)


def test_kill_point_fires_once_at_the_stated_place(monkeypatch):
    from ganinv.harness import checkpoint

    kills: list[int] = []
    monkeypatch.setattr(checkpoint.os, "kill", lambda pid, sig: kills.append(sig))
    for value, events, fired_after in [
        ("2", "sCsCsC", 4),  # right after the 2nd checkpoint (event index 3)
        ("1+2", "sCsssC", 4),  # two steps after the 1st checkpoint
        ("1+0", "sC", 2),
    ]:
        monkeypatch.setenv(KILL_ENV, value)
        point, kills[:] = KillPoint(), []
        for i, event in enumerate(events):
            point.checkpoint_written() if event == "C" else point.step_finished()
            if i + 1 < fired_after:
                assert not kills, (value, i)
        assert kills == [signal.SIGKILL], value
    for bad in ("first", "0", "1+", "-1"):
        monkeypatch.setenv(KILL_ENV, bad)
        with pytest.raises(GanInvError, match=f"{KILL_ENV}='{re.escape(bad)}' must be N or N"):
            KillPoint()
    monkeypatch.delenv(KILL_ENV)
    point = KillPoint()
    for _ in range(3):
        point.checkpoint_written()
    assert point.after is None
