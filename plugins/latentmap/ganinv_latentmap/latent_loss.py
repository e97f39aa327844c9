"""Loss ``latent_mse``: MSE between the predicted code and the target code carried by the batch.

``mean((space.to_wplus(code) - extra["wplus"])^2)`` over B, num_ws, w_dim. For a W code the
prediction is broadcast to every layer, so against targets from the mapping network (one w
repeated) this equals the MSE in W. The targets come from a dataset whose items hold a
``wplus`` tensor (``synthetic_pairs``), passed on by `ganinv train` in ``LossInputs.extra``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.losses.base import Loss, LossInputs


class LatentMSELoss(Loss):
    """Code-space MSE against ``inputs.extra[key]`` ([B, num_ws, w_dim])."""

    protocol = {"space": "W+ (W broadcast)", "reduction": "mean over all elements"}

    def __init__(self, key: str = "wplus") -> None:
        super().__init__()
        self.key = key

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        target = (inputs.extra or {}).get(self.key)
        if target is None:
            raise GanInvError(
                f"the 'latent_mse' loss needs target codes {self.key!r} in the batch; train on a "
                "dataset that provides them (e.g. synthetic_pairs)"
            )
        if inputs.code is None or inputs.space is None:
            raise GanInvError("the 'latent_mse' loss needs the predicted code and its space")
        predicted = inputs.space.to_wplus(inputs.code)
        if predicted.shape != target.shape:
            raise GanInvError(
                f"latent_mse: predicted codes {list(predicted.shape)} and targets "
                f"{list(target.shape)} differ; were the pairs made by this generator?"
            )
        return F.mse_loss(predicted, target.to(predicted))
