"""Frozen networks inside losses, metrics and encoders: kept on the device of the images they
are given, in eval mode, without gradients. Public: plugins use it (see docs/plugins.md)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["FrozenNetworkLoss", "on_device_of"]


def on_device_of(network: nn.Module, x: torch.Tensor) -> nn.Module:
    """Move `network` to `x.device` if it is elsewhere (once; later calls are free)."""
    param = next(network.parameters(), None)
    if param is not None and param.device != x.device:
        network.to(x.device)
    return network


class FrozenNetworkLoss(nn.Module):
    """A loss module whose networks stay in eval mode and never receive gradients."""

    def train(self, mode: bool = True) -> FrozenNetworkLoss:
        super().train(mode)
        for module in self.children():
            module.eval()
        return self
