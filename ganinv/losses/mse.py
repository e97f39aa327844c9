"""Pixel MSE on [-1, 1] images (``nn.MSELoss``: mean over every element of the batch)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganinv.core.registry import LOSSES
from ganinv.losses.base import Loss, LossInputs


@LOSSES.register("mse")
class MSELoss(Loss):
    """mean((fake - real)^2) over B, C, H, W; images in [-1, 1] of the same size."""

    protocol = {"range": "[-1, 1]", "reduction": "mean over all elements"}

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        return F.mse_loss(inputs.fake, inputs.real)
