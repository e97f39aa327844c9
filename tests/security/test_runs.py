"""Class 6: runs are not clobbered.

`ganinv train` / `train-gan` into a folder that holds a run refuse without ``--resume``; a resume
whose config differs outside a short allow-list refuses and names the dotted keys; one process at
a time holds a run folder (an `flock` the kernel drops when its holder dies, so a SIGKILLed run's
lock is taken over).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from security_testkit import SMALL_ENCODER
from security_testkit import TINY_CHANNELS as TINY
from tiny_world import make_world

from ganinv.cli.main import main
from ganinv.core.config import load_config, save_config
from ganinv.core.errors import GanInvError
from ganinv.harness.gan_training import GanTrainConfig, GanTrainer
from ganinv.harness.run_guard import check_resume_config, parse_saved_config
from ganinv.harness.run_lock import LOCK_NAME, RunLock


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs_world")
    generator, images = make_world(root)
    return {"root": root, "generator": generator, "images": images}


def train_yaml(world: dict[str, Path], tmp: Path, out: Path, name: str = "train", **top) -> Path:
    config = {
        "method": {"generator": str(world["generator"]), "space": "w", "encoder": SMALL_ENCODER},
        "data": {"name": "folder", "path": str(world["images"]), "resolution": 16},
        "losses": {"mse": 1.0},
        "optimizer": {"name": "adam", "lr": 0.001},
        "steps": 2,
        "batch_size": 4,
        "checkpoint_every": 1,
        "log_every": 1,
        "out": str(out),
        "progress": False,
        **top,
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def gan_yaml(world: dict[str, Path], tmp: Path, out: Path, name: str = "gan", **top) -> Path:
    config = {
        "output": str(out),
        "data": {"name": "folder", "path": str(world["images"]), "resolution": 16},
        "generator": {"z_dim": 16, "w_dim": 16, "mapping_layers": 2, "channels": TINY},
        "discriminator": {"channels": TINY},
        "batch_size": 4,
        "total_kimg": 0.008,
        "checkpoint_kimg": 0.004,
        "sample_seeds": 4,
        "device": "cpu",
        **top,
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def cli(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != LOCK_NAME
    }


def test_train_into_an_existing_run_without_resume_refuses_and_keeps_it(world, tmp_path):
    out = tmp_path / "run"
    cfg = train_yaml(world, tmp_path, out)
    assert cli(["train", str(cfg), "--device", "cpu"])[0] == 0
    before = snapshot(out)
    code, err = cli(["train", str(cfg), "--device", "cpu"])
    assert code == 2 and "already holds a training run" in err and "--resume" in err
    assert "another output folder" in err and len(err.strip().splitlines()) == 1
    assert snapshot(out) == before  # not a byte changed

    # A run killed before its first checkpoint (config and log only) is a run too.
    early = tmp_path / "early"
    early.mkdir()
    (early / "config.yaml").write_text("steps: 2\n")
    code, err = cli(["train", str(train_yaml(world, tmp_path, early, "early")), "--device", "cpu"])
    assert code == 2 and "config.yaml" in err
    assert (early / "config.yaml").read_text() == "steps: 2\n"


def test_train_resume_refuses_a_changed_config_and_names_the_keys(world, tmp_path):
    out = tmp_path / "run"
    assert cli(["train", str(train_yaml(world, tmp_path, out)), "--device", "cpu"])[0] == 0
    before = snapshot(out)
    changed = train_yaml(world, tmp_path, out, "changed", seed=3, optimizer={"lr": 0.002})
    code, err = cli(["train", str(changed), "--resume", "--device", "cpu"])
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "optimizer.lr (run: 0.001, now: 0.002)" in err and "seed (run: 0, now: 3)" in err
    assert "only checkpoint_every, log_every, out, progress, steps, tensorboard may change" in err
    assert snapshot(out) == before

    # A longer run and other reporting intervals are safe: the run continues to the new length.
    longer = train_yaml(world, tmp_path, out, "longer", steps=3, log_every=3)
    assert cli(["train", str(longer), "--resume", "--device", "cpu"])[0] == 0
    log = [yaml.safe_load(x)["step"] for x in (out / "log.jsonl").read_text().splitlines()]
    assert log == [1, 2, 3]
    # Fewer steps than the run has made cannot be a resume.
    shorter = train_yaml(world, tmp_path, out, "shorter", steps=1)
    code, err = cli(["train", str(shorter), "--resume", "--device", "cpu"])
    assert code == 2 and "steps=1 is below the step 3" in err


def test_train_gan_refuses_overwrite_and_changed_resume(world, tmp_path):
    out = tmp_path / "gan"
    cfg = gan_yaml(world, tmp_path, out)
    # Stopped before its first checkpoint: only config.yaml and log.jsonl exist.
    save_config(load_config(GanTrainConfig, cfg), out / "config.yaml")
    (out / "log.jsonl").write_text("")
    code, err = cli(["train-gan", str(cfg)])
    assert code == 2 and "already holds a training run (log.jsonl, config.yaml)" in err
    # --resume starts it afresh (nothing to restore) after checking the config.
    assert cli(["train-gan", str(cfg), "--resume"])[0] == 0
    before = snapshot(out)
    code, err = cli(["train-gan", str(cfg)])
    assert code == 2 and "checkpoint.pt" in err and snapshot(out) == before

    changed = gan_yaml(world, tmp_path, out, "changed", g_lr=0.01, generator={"z_dim": 8})
    code, err = cli(["train-gan", str(changed), "--resume"])
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "g_lr (run: 0.0025, now: 0.01)" in err
    # The generator mapping lost keys: each is named.
    assert "generator.channels.4 (run: 16, now: absent)" in err
    assert snapshot(out) == before
    longer = gan_yaml(world, tmp_path, out, "longer", total_kimg=0.012)
    assert cli(["train-gan", str(longer), "--resume"])[0] == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["total_kimg"] == 0.012


def _hold_lock_in_another_process(out: Path) -> subprocess.Popen:
    code = (
        "import sys\n"
        "from ganinv.harness.run_lock import RunLock\n"
        f"RunLock({str(out)!r}, 'test holder').acquire()\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def test_a_second_process_on_the_same_folder_is_refused_and_a_dead_ones_lock_is_taken(
    world, tmp_path
):
    out = tmp_path / "run"
    cfg = train_yaml(world, tmp_path, out)
    gan = gan_yaml(world, tmp_path, tmp_path / "gan")
    for command, config, folder in (("train", cfg, out), ("train-gan", gan, tmp_path / "gan")):
        holder = _hold_lock_in_another_process(folder)
        try:
            args = [command, str(config)] + (["--device", "cpu"] if command == "train" else [])
            code, err = cli(args)
            assert code == 2 and f"in use by another training process (pid {holder.pid}" in err
            assert not (folder / "config.yaml").exists()  # nothing was written
        finally:
            holder.kill()  # SIGKILL: no chance to unlock; the kernel drops the flock
            holder.wait()
        assert (folder / LOCK_NAME).is_file()  # the dead holder's lock file stays
        assert cli(args)[0] == 0  # and is taken over


def test_the_lock_is_held_for_the_whole_run(world, tmp_path, monkeypatch):
    from ganinv.harness import train as train_module
    from ganinv.harness.configs import load
    from ganinv.harness.schema import TrainConfig

    out = tmp_path / "run"
    config = load(TrainConfig, train_yaml(world, tmp_path, out))
    seen: list[str] = []
    run = train_module.Trainer.run

    def run_and_try_a_second_one(self):
        with pytest.raises(GanInvError, match="in use by another training process") as info:
            RunLock(out, "second").acquire()
        seen.append(str(info.value))
        return run(self)

    monkeypatch.setattr(train_module.Trainer, "run", run_and_try_a_second_one)
    train_module.run_training(config, torch.device("cpu"))
    assert seen and f"pid {os.getpid()}: ganinv train" in seen[0]

    gan = GanTrainer(load_config(GanTrainConfig, gan_yaml(world, tmp_path, tmp_path / "gan")))
    step = gan.train_step

    def step_and_try(self=gan):
        with pytest.raises(GanInvError, match="in use by another training process"):
            RunLock(tmp_path / "gan", "second").acquire()
        return step()

    monkeypatch.setattr(gan, "train_step", step_and_try)
    gan.train()


def test_saved_configs_are_read_as_untrusted_data():
    current = {"steps": 10, "optimizer": {"lr": 0.1}}
    # Exponentially many paths through YAML aliases: refused after a bounded walk.
    bomb = "a: &a {x: 1, y: 1}\n" + "".join(
        f"{c}: &{c} {{p: *{p}, q: *{p}, r: *{p}, s: *{p}}}\n"
        for p, c in zip("abcdefghij", "bcdefghijk")
    )
    saved = parse_saved_config(bomb, "ckpt")
    with pytest.raises(GanInvError, match="more than 10000 keys"):
        check_resume_config(saved, current, ("steps",), "ckpt", "ganinv train")
    for text, match in [
        (b"steps: 1", "does not hold a saved config"),
        ("x" * (2 << 20), "does not hold a saved config"),
        ("steps: [1,", r"not valid YAML \(line 1\)"),
    ]:
        with pytest.raises(GanInvError, match=match):
            parse_saved_config(text, "ckpt")
    with pytest.raises(GanInvError, match="does not hold a config mapping"):
        check_resume_config([1, 2], current, ("steps",), "ckpt", "ganinv train")
    assert check_resume_config(
        {"steps": 5, "optimizer": {"lr": 0.1}}, current, ("steps",), "ckpt", "ganinv train"
    ) == ["steps"]
