"""SFE's Fuser: a 1x1 convolution from two concatenated features to one, then residual blocks.

Used twice with the same layout (released ``FeatureEditor`` / fuser code,
docs/research/methods-2.md 6.2, 6.3):
- in the inverter, on concat(F_pred, F_w) -> F_k (the predicted and the generator's feature);
- as the feature editor H, on concat(F_k, Delta) -> F_k' (the inverted feature and the change an
  edit makes to the generator's feature).
Each residual block is x + [BN, conv3x3, BN, PReLU, conv3x3, BN](x).
"""

from __future__ import annotations

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """x + BN -> conv3x3 -> BN -> PReLU -> conv3x3 -> BN (x)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Fuser(nn.Module):
    """(a [B, C, R, R], b [B, C, R, R]) -> [B, C, R, R]: 1x1 conv on the concatenation, then
    `blocks` residual blocks (the paper: 5)."""

    def __init__(self, channels: int, blocks: int = 5) -> None:
        super().__init__()
        self.merge = nn.Conv2d(2 * channels, channels, kernel_size=1)
        self.blocks = nn.Sequential(*[ResidualBlock(channels) for _ in range(blocks)])

    def identity_init_(self) -> Fuser:
        """Start as (a, b) -> a exactly: the 1x1 conv passes `a` through and ignores `b`, and each
        residual block's last BatchNorm scale is zero (its branch adds nothing)."""
        channels = self.merge.out_channels
        with torch.no_grad():
            self.merge.weight.zero_()
            self.merge.weight[:, :channels, 0, 0] = torch.eye(channels)
            self.merge.bias.zero_()
            for block in self.blocks:
                block.body[-1].weight.zero_()
        return self

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.merge(torch.cat([a, b], dim=1)))
