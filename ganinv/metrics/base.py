"""The metric interface: streaming, per image then averaged, with its protocol recorded.

A metric consumes batches with `update(real, fake)` and keeps only fixed-size state (sums, counts,
feature moments), so memory stays flat however many images it sees. `state()` returns that state
as tensors that add up across processes (the harness all-reduces them under torch.distributed),
and `compute()` turns it into a `MetricResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class MetricResult:
    """A value with the exact protocol that produced it (printed as a table footnote)."""

    name: str
    value: float
    protocol: dict[str, Any] = field(default_factory=dict)
    higher_is_better: bool = False
    std: float | None = None  # spread of the per-image values (per-image metrics only)

    def as_dict(self) -> dict[str, Any]:
        record = {
            "name": self.name,
            "value": self.value,
            "higher_is_better": self.higher_is_better,
            "protocol": self.protocol,
        }
        if self.std is not None:
            record["std"] = self.std
        return record


class Metric:
    """Subclasses set ``name``, ``higher_is_better`` and implement the four methods.

    Images are [B, 3, H, W] in [-1, 1] on any device; `update` must not keep per-image tensors
    beyond what `state` needs (FID keeps feature sums and outer products, not features).
    """

    name: str = ""
    higher_is_better: bool = False

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, torch.Tensor]:
        """Sum-reducible state tensors (float64 where precision matters)."""
        raise NotImplementedError

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        """Replace the state (e.g. with the all-reduced sum across ranks)."""
        raise NotImplementedError

    def compute(self) -> MetricResult:
        raise NotImplementedError

    def protocol(self) -> dict[str, Any]:
        """Network and version, resize mode, image range, averaging."""
        return {}
