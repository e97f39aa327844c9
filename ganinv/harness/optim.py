"""Optimisers (Adam / AdamW / RAdam, optionally with gradient centralisation and Lookahead) and
the warm-up + constant / cosine learning-rate schedule.

RAdam + gradient centralisation + Lookahead with eps 1e-5 is Ranger (lessw2020's 2020 version, the
optimiser of pSp, e4e and SDIC): torch's RAdam uses Ranger's rectification threshold (5) and eps
placement; GC subtracts from every gradient of more than one dimension its mean over all but the
first dimension, before the step (Ranger's default ``gc_conv_only=False``); Lookahead keeps slow
weights, initialised to the parameters before the first step, and every `k` steps moves them
`alpha` of the way to the fast weights and copies them back. Its state (slow weights, step counts)
is part of the optimiser's state dict, so resumed runs continue exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from ganinv.harness.schema import OptimizerConfig, ScheduleConfig

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "radam": torch.optim.RAdam}


class _CentralisedLookahead:
    """Mixin for a torch optimiser: gradient centralisation before its step, Lookahead after.

    Settings live in every param group (``gradient_centralization``, ``lookahead_k`` (0 = off),
    ``lookahead_alpha``, ``lookahead_step``) so that they travel with the state dict.
    """

    def _set_extras(self, centralize: bool, k: int, alpha: float) -> None:
        extras = {
            "gradient_centralization": centralize,
            "lookahead_k": k,
            "lookahead_alpha": alpha,
            "lookahead_step": 0,
        }
        self.defaults.update(extras)  # type: ignore[attr-defined]
        for group in self.param_groups:  # type: ignore[attr-defined]
            for key, value in extras.items():
                group.setdefault(key, value)

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[no-untyped-def]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        groups = self.param_groups  # type: ignore[attr-defined]
        state = self.state  # type: ignore[attr-defined]
        first_slow = {}
        for group in groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group.get("gradient_centralization") and p.grad.dim() > 1:
                    dims = tuple(range(1, p.grad.dim()))
                    p.grad.sub_(p.grad.mean(dim=dims, keepdim=True))
                # Slow weights start at the parameters before the first step; stored after the
                # base step, whose state initialisation expects an empty per-parameter state.
                if group.get("lookahead_k", 0) and "lookahead_slow" not in state[p]:
                    first_slow[p] = p.detach().clone()
        super().step()  # type: ignore[misc]
        for p, slow in first_slow.items():
            state[p]["lookahead_slow"] = slow
        for group in groups:
            k = group.get("lookahead_k", 0)
            if not k:
                continue
            group["lookahead_step"] = group.get("lookahead_step", 0) + 1
            if group["lookahead_step"] % k:
                continue
            for p in group["params"]:
                slow = state[p].get("lookahead_slow")
                if slow is not None:
                    slow.add_(p.detach() - slow, alpha=group["lookahead_alpha"])
                    p.copy_(slow)
        return loss


class AdamExtras(_CentralisedLookahead, torch.optim.Adam):
    """Adam with optional gradient centralisation and Lookahead."""


class AdamWExtras(_CentralisedLookahead, torch.optim.AdamW):
    """AdamW with optional gradient centralisation and Lookahead."""


class RAdamExtras(_CentralisedLookahead, torch.optim.RAdam):
    """RAdam with optional gradient centralisation and Lookahead (with both: Ranger)."""


_WITH_EXTRAS = {"adam": AdamExtras, "adamw": AdamWExtras, "radam": RAdamExtras}


def build_optimizer(
    params: Iterable[torch.nn.Parameter], config: OptimizerConfig
) -> torch.optim.Optimizer:
    from ganinv.core.errors import GanInvError

    betas = tuple(config.betas)
    if len(betas) != 2:
        raise GanInvError(f"optimizer.betas needs two numbers; got {config.betas}")
    kwargs = {"lr": config.lr, "betas": betas, "weight_decay": config.weight_decay}
    kwargs["eps"] = config.eps
    lookahead = config.lookahead
    if not config.gradient_centralization and lookahead is None:
        return _OPTIMIZERS[config.name](list(params), **kwargs)
    if lookahead is not None and (lookahead.k < 1 or not 0 < lookahead.alpha <= 1):
        raise GanInvError(
            f"optimizer.lookahead needs k >= 1 and 0 < alpha <= 1; got k={lookahead.k}, "
            f"alpha={lookahead.alpha}"
        )
    optimizer = _WITH_EXTRAS[config.name](list(params), **kwargs)
    optimizer._set_extras(
        config.gradient_centralization,
        lookahead.k if lookahead is not None else 0,
        lookahead.alpha if lookahead is not None else 0.5,
    )
    return optimizer


class LrFactor:
    """The learning-rate factor of a step (a plain object, so its state dict holds numbers only)."""

    def __init__(self, config: ScheduleConfig, total_steps: int) -> None:
        self.name = config.name
        self.warmup = config.warmup_steps
        self.min_factor = config.min_factor
        self.decay_rate = config.decay_rate
        self.decay_steps = max(1, config.decay_steps)
        self.total = total_steps

    def __call__(self, step: int) -> float:
        if self.warmup and step < self.warmup:
            return (step + 1) / self.warmup
        if self.name == "constant":
            return 1.0
        if self.name == "exponential":
            return self.decay_rate ** ((step - self.warmup) / self.decay_steps)
        span = max(1, self.total - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        return self.min_factor + (1 - self.min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: ScheduleConfig, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, LrFactor(config, total_steps))
