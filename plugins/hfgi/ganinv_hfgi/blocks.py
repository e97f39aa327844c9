"""Building blocks of HFGI's networks, as in its released code (`psp_encoders.py`).

`ir_stage`: IR bottlenecks (pSp's ``bottleneck_IR``), the first with the stage's stride.
`EqualConv2d` / `ScaledLeakyReLU`: rosinality's equalised convolution and scaled activation (the
consultation encoder's scale and shift heads).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.nets.ir_se import bottleneck_IR


def stem(in_channels: int, out_channels: int) -> nn.Sequential:
    """conv3x3 (no bias, stride 1) -> BN -> PReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.PReLU(out_channels),
    )


def ir_stage(channels: list[int], stride: int = 1) -> nn.Sequential:
    """IR bottlenecks channels[0] -> channels[1] -> ...; the first block has `stride`."""
    blocks = [
        bottleneck_IR(cin, cout, stride if i == 0 else 1)
        for i, (cin, cout) in enumerate(zip(channels[:-1], channels[1:]))
    ]
    return nn.Sequential(*blocks)


class EqualConv2d(nn.Module):
    """Conv2d with weights ~ N(0, 1) scaled by 1/sqrt(fan_in) at run time; bias starts at 0."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, padding: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = 1 / math.sqrt(in_channels * kernel_size**2)
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class ScaledLeakyReLU(nn.Module):
    """leaky_relu(x, slope) * sqrt(2)."""

    def __init__(self, negative_slope: float = 0.2) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope) * math.sqrt(2)
