"""Optimisers (Adam / AdamW / RAdam) and the warm-up + constant / cosine learning-rate schedule."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from ganinv.harness.schema import OptimizerConfig, ScheduleConfig

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "radam": torch.optim.RAdam}


def build_optimizer(
    params: Iterable[torch.nn.Parameter], config: OptimizerConfig
) -> torch.optim.Optimizer:
    betas = tuple(config.betas)
    if len(betas) != 2:
        from ganinv.core.errors import GanInvError

        raise GanInvError(f"optimizer.betas needs two numbers; got {config.betas}")
    return _OPTIMIZERS[config.name](
        list(params), lr=config.lr, betas=betas, weight_decay=config.weight_decay
    )


class LrFactor:
    """The learning-rate factor of a step (a plain object, so its state dict holds numbers only)."""

    def __init__(self, config: ScheduleConfig, total_steps: int) -> None:
        self.name = config.name
        self.warmup = config.warmup_steps
        self.min_factor = config.min_factor
        self.total = total_steps

    def __call__(self, step: int) -> float:
        if self.warmup and step < self.warmup:
            return (step + 1) / self.warmup
        if self.name == "constant":
            return 1.0
        span = max(1, self.total - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: ScheduleConfig, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, LrFactor(config, total_steps))
