"""PadInv's W-norm regulariser: ||W+ - w_avg||_F over (num_ws x w_dim), not squared, batch mean."""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.registry import LOSSES
from ganinv.losses.base import Loss, LossInputs


@LOSSES.register("wnorm")
class WNormLoss(Loss):
    """mean_b sqrt(sum_{i,j} (W+_b[i, j] - w_avg[j])^2), W+ = ``space.to_wplus(code)``."""

    protocol = {
        "norm": "Frobenius over (num_ws, w_dim), not squared",
        "reduction": "mean over images",
    }

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        if inputs.code is None or inputs.space is None:
            raise GanInvError("the 'wnorm' loss needs a code and its space (it regularises W+)")
        wplus = inputs.space.to_wplus(inputs.code)
        offset = wplus - inputs.space.generator.w_avg.to(wplus.dtype)
        return offset.flatten(1).norm(dim=1).mean()
