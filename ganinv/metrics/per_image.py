"""Shared machinery for metrics that average one number per image.

State is three float64 scalars (sum and sum of squares of per-image values, number of images):
flat in memory and sum-reducible across processes; the squares give the per-image standard
deviation that tables print beside the mean.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.metrics.base import Metric, MetricResult


def check_pair(name: str, real: torch.Tensor, fake: torch.Tensor) -> None:
    """Both [B, C, H, W] with the same shape (metrics never resize silently)."""
    if real.ndim != 4 or real.shape != fake.shape:
        raise GanInvError(
            f"metric {name!r} compares images of the same shape [B, C, H, W]; got real "
            f"{tuple(real.shape)} and fake {tuple(fake.shape)}: resize the reconstructions to the "
            "targets first (the harness records the resize mode)"
        )


def to_unit_range(x: torch.Tensor, clamp: bool) -> torch.Tensor:
    """[-1, 1] -> [0, 1] in float64, clamped to [0, 1] when asked (as saving to a file would)."""
    x = (x.detach().double() + 1) / 2
    return x.clamp(0, 1) if clamp else x


class PerImageMeanMetric(Metric):
    """Subclasses implement `per_image(real, fake) -> [B]` and `protocol()`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._sum = torch.zeros((), dtype=torch.float64)
        self._count = torch.zeros((), dtype=torch.float64)
        self._sum_sq = torch.zeros((), dtype=torch.float64)

    def per_image(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def update(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        check_pair(self.name, real, fake)
        with torch.no_grad():
            values = self.per_image(real, fake).detach().double().cpu()
        self._sum += values.sum()
        self._count += values.numel()
        self._sum_sq += (values * values).sum()

    def state(self) -> dict[str, torch.Tensor]:
        return {
            "sum": self._sum.clone(),
            "count": self._count.clone(),
            "sum_sq": self._sum_sq.clone(),
        }

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self._sum = state["sum"].double().cpu().reshape(())
        self._count = state["count"].double().cpu().reshape(())
        # A state saved before the squares were kept has no spread (std reported as unknown).
        sum_sq = state.get("sum_sq")
        self._sum_sq = (
            sum_sq.double().cpu().reshape(()) if sum_sq is not None else torch.tensor(math.nan)
        )

    def compute(self) -> MetricResult:
        count = int(self._count.item())
        if count == 0:
            raise GanInvError(f"metric {self.name!r} has seen no images; call update() first")
        protocol: dict[str, Any] = {**self.protocol(), "averaging": "per image, then mean"}
        protocol["images"] = count
        value = float(self._sum.item() / count)
        # Sample standard deviation (ddof 1) of the per-image values; none from one image.
        std = None
        if count > 1 and math.isfinite(self._sum_sq.item()):
            variance = (self._sum_sq.item() - count * value * value) / (count - 1)
            std = math.sqrt(max(variance, 0.0))
        return MetricResult(self.name, value, protocol, self.higher_is_better, std)
