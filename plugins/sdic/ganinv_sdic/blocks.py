"""Building blocks of SDIC's networks, as in its released code (CGI-Stereo helpers).

`BasicConv`: convolution (2D or 3D, optionally transposed) without bias, BatchNorm, LeakyReLU
(slope 0.01, PyTorch's default). `Conv2x`: a stride-2 (transposed) `BasicConv`, the skip feature
concatenated, then a 3x3 `BasicConv`. `EqualConv2d` / `ScaledLeakyReLU`: rosinality's equalised
convolution and scaled activation (used by the latent branch of the compensation network).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.nets.equalized import EqualConv2d, ScaledLeakyReLU  # noqa: F401 (re-exported)


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
