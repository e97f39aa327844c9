"""PSNR in dB: 10 log10(MAX^2 / MSE) on [0, 1] images (MAX = 1), per image then averaged."""

from __future__ import annotations

from typing import Any

import torch

from ganinv.core.registry import METRICS
from ganinv.metrics.per_image import PerImageMeanMetric, to_unit_range

# Identical images have infinite PSNR; the per-image MSE is floored so one such image cannot make
# the average infinite (1e-10 -> 100 dB, recorded in the protocol).
MSE_FLOOR = 1e-10


@METRICS.register("psnr")
class PSNRMetric(PerImageMeanMetric):
    """mean_i 10 log10(1 / mean_{c,h,w}(x_i - y_i)^2), x, y = (image + 1) / 2 clamped to [0, 1]."""

    name = "psnr"
    higher_is_better = True

    def __init__(self, clamp: bool = True) -> None:
        self.clamp = clamp
        super().__init__()

    def per_image(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        x, y = to_unit_range(real, self.clamp), to_unit_range(fake, self.clamp)
        mse = (x - y).square().mean(dim=(1, 2, 3)).clamp_min(MSE_FLOOR)
        return 10 * torch.log10(1.0 / mse)

    def protocol(self) -> dict[str, Any]:
        return {
            "range": "[0, 1] = (x + 1) / 2",
            "max": 1.0,
            "clamp": self.clamp,
            "mse_floor": MSE_FLOOR,
        }
