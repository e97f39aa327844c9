"""Training killed with SIGKILL and resumed ends where an uninterrupted run ends."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
import torch
import yaml
from harness_testkit import run_cli, subprocess_env, train_config

from ganinv.harness.checkpoint import KILL_ENV, load_training_state


def _resume_config(world, out):
    # Discriminator + R1, a warm-up + cosine schedule and AdamW: every piece of state that must
    # survive a restart exactly.
    return train_config(
        world,
        out,
        steps=24,
        checkpoint_every=5,
        losses={"mse": 1.0, "adversarial": 0.01},
        discriminator={"r1_interval": 3, "r1_gamma": 1.0},
        optimizer={"name": "adamw", "lr": 0.002, "weight_decay": 0.01},
        schedule={"name": "cosine", "warmup_steps": 4},
    )


def _log_steps(path):
    if not path.is_file():
        return []
    steps = []
    for line in path.read_text().splitlines():
        try:
            steps.append(json.loads(line)["step"])
        except (json.JSONDecodeError, KeyError):
            pass
    return steps


@pytest.mark.slow
def test_sigkill_then_resume_matches_uninterrupted_run(world, tmp_path):
    full_cfg = tmp_path / "full.yaml"
    full_cfg.write_text(yaml.safe_dump(_resume_config(world, tmp_path / "full")))
    killed_cfg = tmp_path / "killed.yaml"
    killed_cfg.write_text(yaml.safe_dump(_resume_config(world, tmp_path / "killed")))

    # The uninterrupted run goes alongside (a separate process with the same settings).
    full = subprocess.Popen(
        [sys.executable, "-m", "ganinv", "train", str(full_cfg), "--device", "cpu"],
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The run to interrupt kills itself one step after its second checkpoint (step 10): a
    # deterministic point between two checkpoints, no polling.
    proc = subprocess.run(
        [sys.executable, "-m", "ganinv", "train", str(killed_cfg), "--device", "cpu"],
        env={**subprocess_env(), KILL_ENV: "2+1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=240,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    log = tmp_path / "killed" / "log.jsonl"

    # What the kill left behind is complete: the latest checkpoint loads weights-only.
    state = load_training_state(tmp_path / "killed" / "checkpoints" / "latest.pt")
    assert state["step"] == 10
    assert _log_steps(log)[-1] == 11  # a step past the checkpoint, dropped on resume

    resumed = run_cli(["train", str(killed_cfg), "--resume", "--device", "cpu"])
    assert resumed.returncode == 0, resumed.stderr
    _, full_err = full.communicate(timeout=120)
    assert full.returncode == 0, full_err

    a = torch.load(tmp_path / "full" / "checkpoints" / "latest.pt", weights_only=True)
    b = torch.load(tmp_path / "killed" / "checkpoints" / "latest.pt", weights_only=True)
    assert a["step"] == b["step"] == 24
    for part in ("encoder", "discriminator"):
        assert a[part].keys() == b[part].keys()
        for key in a[part]:
            assert torch.equal(b[part][key], a[part][key]), f"{part}.{key}"
    for key, value in a["optimizer"]["state"].items():
        assert torch.equal(b["optimizer"]["state"][key]["exp_avg"], value["exp_avg"]), key
    assert a["scheduler"]["last_epoch"] == b["scheduler"]["last_epoch"]
    # The log of the resumed run has every step once (lines after the checkpoint were dropped),
    # with the same losses as the uninterrupted run.
    assert _log_steps(log) == list(range(1, 25))
    full_log = [json.loads(x) for x in (tmp_path / "full" / "log.jsonl").read_text().splitlines()]
    resumed_log = [json.loads(x) for x in log.read_text().splitlines()]
    for x, y in zip(full_log, resumed_log):
        assert x["loss/total"] == y["loss/total"]
    # No temporary file survives the resumed run.
    assert not list((tmp_path / "killed").rglob("*.tmp"))
