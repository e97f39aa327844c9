"""rosinality's equalised convolution and scaled activation, as the released SDIC and HFGI
compensation networks use them (weights drawn N(0, 1), scaled by 1/sqrt(fan_in) at run time)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


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
