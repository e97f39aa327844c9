"""Frozen networks inside losses, metrics and encoders: kept on the device of the images they
are given, in eval mode, without gradients. Public: plugins use it (see docs/plugins.md)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["FrozenNetworkLoss", "attach_frozen", "frozen_forward", "on_device_of"]


def on_device_of(network: nn.Module, x: torch.Tensor) -> nn.Module:
    """Move `network` to `x.device` if it is elsewhere (once; later calls are free)."""
    param = next(network.parameters(), None)
    if param is not None and param.device != x.device:
        network.to(x.device)
    return network


def attach_frozen(owner: nn.Module, name: str, network: nn.Module | None) -> None:
    """Set ``owner.<name> = network`` without making it a submodule: its weights stay out of
    `owner`'s state dict and parameters (they live in their own file), and `owner`'s ``train()``
    and ``to()`` leave it alone (a frozen base encoder, a frozen feature extractor). A submodule
    already registered under `name` stops being one."""
    owner._modules.pop(name, None)
    object.__setattr__(owner, name, network)


def frozen_forward(network: nn.Module, x: torch.Tensor) -> Any:
    """``network(x)`` without gradients, `network` moved to `x`'s device first if need be."""
    with torch.no_grad():
        return on_device_of(network, x)(x)


class FrozenNetworkLoss(nn.Module):
    """A loss module whose networks stay in eval mode and never receive gradients."""

    def train(self, mode: bool = True) -> FrozenNetworkLoss:
        super().train(mode)
        for module in self.children():
            module.eval()
        return self
