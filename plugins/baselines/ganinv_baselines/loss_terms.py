"""A weighted sum of registered losses named in a config: ``{mse: 1.0, lpips_vgg: {weight: 1}}``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.core.registry import build
from ganinv.losses.base import LossInputs


class WeightedLosses(nn.Module):
    """Builds each loss by registry name; a value is a weight or ``{weight: w, **init args}``.

    Terms with weight 0 are not built (so an unused loss never needs its weights file).
    `forward` returns the total and the unweighted value of every term (floats, for logging).
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        if not isinstance(spec, dict) or not spec:
            raise GanInvError(
                "losses must be a non-empty mapping of registered loss names to weights, "
                f"got {spec!r}"
            )
        self.weights: dict[str, float] = {}
        self.terms = nn.ModuleDict()
        for name, value in spec.items():
            args: dict[str, Any] = {}
            if isinstance(value, dict):
                args = {k: v for k, v in value.items() if k != "weight"}
                if "weight" not in value:
                    raise GanInvError(
                        f"loss {name!r}: a mapping needs a 'weight' key, got {value!r}"
                    )
                value = value["weight"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise GanInvError(f"loss {name!r}: weight must be a number, got {value!r}")
            if value == 0:
                continue
            self.weights[name] = float(value)
            self.terms[name] = build("losses", {"name": name, **args})
        if not self.weights:
            raise GanInvError(f"every loss weight in {spec!r} is zero; give at least one term")

    def forward(self, inputs: LossInputs) -> tuple[torch.Tensor, dict[str, float]]:
        total = torch.zeros((), device=inputs.fake.device)
        values = {}
        for name, weight in self.weights.items():
            value = self.terms[name](inputs)
            values[name] = float(value.detach())
            total = total + weight * value
        return total, values
