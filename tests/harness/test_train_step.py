"""`Trainer.train_step` is the public training step: `run` takes every step through it, and
`ganinv.reproduce.timing` times it (no private method of the trainer is called from outside)."""

from __future__ import annotations

import harness_testkit as kit
import pytest
import torch

from ganinv.harness.configs import load
from ganinv.harness.schema import TrainConfig
from ganinv.harness.train import Trainer


def test_run_takes_every_step_through_train_step(world, tmp_path, monkeypatch) -> None:
    seen: list[tuple[int, tuple[int, ...]]] = []
    real = Trainer.train_step

    def recording(self: Trainer, images: torch.Tensor, extra=None) -> dict[str, float]:
        seen.append((self.step, tuple(images.shape)))
        return real(self, images, extra)

    monkeypatch.setattr(Trainer, "train_step", recording)
    config = load(TrainConfig, kit.train_config(world, tmp_path / "run", steps=3, batch_size=2))
    result = Trainer(config, torch.device("cpu")).run()
    assert seen == [(0, (2, 3, 16, 16)), (1, (2, 3, 16, 16)), (2, (2, 3, 16, 16))]
    assert result["step"] == 3


def test_train_step_advances_the_step_and_changes_the_encoder(world, tmp_path) -> None:
    config = load(TrainConfig, kit.train_config(world, tmp_path / "run", steps=5))
    trainer = Trainer(config, torch.device("cpu"))
    before = [p.detach().clone() for p in trainer.params]
    images = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    logged = trainer.train_step(images)
    assert trainer.step == 1
    assert set(logged) == {"loss/mse", "loss/total"}
    assert logged["loss/total"] == pytest.approx(logged["loss/mse"], rel=1e-6)
    assert any(not torch.equal(a, p) for a, p in zip(before, trainer.params))


def test_reproduce_timing_times_the_public_step(world, monkeypatch) -> None:
    from ganinv.reproduce.timing import measure_train_step

    calls: list[int] = []
    real = Trainer.train_step

    def counting(self: Trainer, images: torch.Tensor, extra=None) -> dict[str, float]:
        calls.append(self.step)
        return real(self, images, extra)

    monkeypatch.setattr(Trainer, "train_step", counting)
    config = load(TrainConfig, kit.train_config(world, world["root"] / "unused", steps=5))
    record = measure_train_step(config, torch.device("cpu"), batch_per_device=2, steps=2, warmup=1)
    assert calls == [0, 1, 2]  # warm-up + timed steps, each the trainer's own step
    assert record.steps_timed == 2 and record.seconds_per_step > 0
    assert "Trainer.train_step" in record.how
