"""MSE as PadInv and the pSp family report it: per-image mean over C, H, W on [-1, 1]."""

from __future__ import annotations

from typing import Any

import torch

from ganinv.core.registry import METRICS
from ganinv.metrics.per_image import PerImageMeanMetric


@METRICS.register("mse")
class MSEMetric(PerImageMeanMetric):
    """mean_i mean_{c,h,w} (fake - real)^2 on the [-1, 1] scale (x4 the value on [0, 1]).

    `clamp`: clamp both images to [-1, 1] first (what saving to 8-bit files does to the range).
    """

    name = "mse"
    higher_is_better = False

    def __init__(self, clamp: bool = False) -> None:
        self.clamp = clamp
        super().__init__()

    def per_image(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real, fake = real.double(), fake.double()
        if self.clamp:
            real, fake = real.clamp(-1, 1), fake.clamp(-1, 1)
        return (fake - real).square().mean(dim=(1, 2, 3))

    def protocol(self) -> dict[str, Any]:
        return {"range": "[-1, 1]", "clamp": self.clamp, "reduction": "mean over C,H,W"}
