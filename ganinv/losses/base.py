"""The loss interface: every registered loss reads what it needs from one `LossInputs`.

A method's objective is a weighted sum of registered losses, named in its config
(``losses: {mse: 1.0, lpips_alex: 0.8, wnorm: 0.003}``); the harness fills `LossInputs` once per
step and calls each loss, so no loss needs its own call signature in the training loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn


@dataclass
class LossInputs:
    """Everything a loss may look at for one batch. Images are [B, 3, H, W] in [-1, 1].

    real:          target images
    fake:          reconstructions (differentiable w.r.t. the trained parameters)
    code:          the `Code` that rendered `fake` (None for pure image losses)
    space:         the `InversionSpace` of `code`
    encoder:       the encoder being trained or used (None when there is none)
    discriminator: the discriminator for adversarial terms (None when unused)
    extra:         method-specific tensors (e.g. e4e's per-layer offsets)
    """

    real: torch.Tensor
    fake: torch.Tensor
    code: Any = None
    space: Any = None
    encoder: Any = None
    discriminator: Any = None
    extra: dict[str, Any] | None = None


class Loss(nn.Module):
    """A scalar training term. Subclasses implement `forward(inputs) -> scalar tensor`.

    ``protocol`` describes exactly what is computed (network and version, input range, resize),
    and is recorded with every training run.
    """

    protocol: dict[str, Any] = {}

    def forward(self, inputs: LossInputs) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError
