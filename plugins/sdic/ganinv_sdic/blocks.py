"""Building blocks of SDIC's networks, as in its released code (CGI-Stereo helpers).

`BasicConv`: convolution (2D or 3D, optionally transposed) without bias, BatchNorm, LeakyReLU
(slope 0.01, PyTorch's default). `Conv2x`: a stride-2 (transposed) `BasicConv`, the skip feature
concatenated, then a 3x3 `BasicConv`. `EqualConv2d` / `ScaledLeakyReLU`: rosinality's equalised
convolution and scaled activation (used by the latent branch of the compensation network).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class BasicConv(nn.Module):
    """conv(bias=False) -> [BN] -> [LeakyReLU(0.01)]; `is_3d` / `deconv` pick the conv type."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        deconv: bool = False,
        is_3d: bool = False,
        bn: bool = True,
        relu: bool = True,
        **conv_kwargs: object,
    ) -> None:
        super().__init__()
        if is_3d:
            conv = nn.ConvTranspose3d if deconv else nn.Conv3d
            norm: nn.Module = nn.BatchNorm3d(out_channels)
        else:
            conv = nn.ConvTranspose2d if deconv else nn.Conv2d
            norm = nn.BatchNorm2d(out_channels)
        self.conv = conv(in_channels, out_channels, bias=False, **conv_kwargs)
        self.bn = norm if bn else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.relu:
            x = F.leaky_relu(x)
        return x


class Conv2x(nn.Module):
    """Upsample (4x4 transposed conv, stride 2) to the skip's size, concatenate, 3x3 conv.

    Output channels: ``2 * out_channels`` (``keep_concat`` in the released code).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = BasicConv(
            in_channels, out_channels, deconv=True, kernel_size=4, stride=2, padding=1
        )
        self.conv2 = BasicConv(2 * out_channels, 2 * out_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        if x.shape[-2:] != skip.shape[-2:]:
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
        return self.conv2(torch.cat([x, skip], dim=1))


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
