"""StyleGAN2 discriminator, residual ("resnet") architecture with minibatch standard deviation.

Numerically equivalent to NVlabs stylegan2-ada-pytorch `Discriminator` (c_dim 0, fp32) and to
rosinality's `Discriminator`; module names follow NVlabs (``b64.conv0``, ``b4.fc``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.stylegan2.generator import channel_table
from ganinv.stylegan2.layers import Conv2dLayer, EqualLinear, MinibatchStdLayer


class DiscriminatorBlock(nn.Module):
    """Resolution r -> r/2: conv0 (3x3), conv1 (3x3, down), 1x1 skip (down, no bias), both
    branches scaled by sqrt(0.5). The top block also has `fromrgb`."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        img_channels: int,
        first: bool,
        conv_clamp: float | None,
    ) -> None:
        super().__init__()
        if first:
            self.fromrgb = Conv2dLayer(img_channels, in_channels, 1, conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(in_channels, in_channels, 3, conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(in_channels, out_channels, 3, down=True, conv_clamp=conv_clamp)
        self.skip = Conv2dLayer(
            in_channels, out_channels, 1, bias=False, activation="linear", down=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "fromrgb"):
            x = self.fromrgb(x)
        y = self.skip(x)
        x = self.conv1(self.conv0(x))
        return (x + y) * math.sqrt(0.5)


class DiscriminatorEpilogue(nn.Module):
    """4x4: minibatch std, 3x3 conv, fully connected (lrelu), output logit."""

    def __init__(
        self,
        channels: int,
        *,
        mbstd_group_size: int,
        mbstd_num_channels: int,
        conv_clamp: float | None,
    ) -> None:
        super().__init__()
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels)
        self.conv = Conv2dLayer(channels + mbstd_num_channels, channels, 3, conv_clamp=conv_clamp)
        self.fc = EqualLinear(channels * 16, channels, activation="lrelu")
        self.out = EqualLinear(channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.mbstd(x))
        return self.out(self.fc(x.flatten(1)))


class StyleGAN2Discriminator(nn.Module):
    """img [B, img_channels, R, R] in [-1, 1] -> logits [B, 1]. B must be divisible by
    min(mbstd_group_size, B). Double backward (R1 penalty) works."""

    def __init__(
        self,
        *,
        resolution: int = 1024,  # Input resolution, a power of two >= 4.
        channels: dict[int, int] | None = None,  # Channels per resolution; overrides base/max.
        channel_base: int = 32768,  # Channels at resolution r: min(channel_base // r, ...
        channel_max: int = 512,  # ... channel_max).
        mbstd_group_size: int = 4,  # Group size of the minibatch standard deviation layer.
        mbstd_num_channels: int = 1,  # Feature maps it appends.
        img_channels: int = 3,  # Image channels (3 = RGB).
        conv_clamp: float | None = None,  # Clamp activations to +-conv_clamp (NVlabs); None = off.
    ) -> None:
        super().__init__()
        table = channel_table(resolution, channels, channel_base, channel_max)
        self.resolution = resolution
        self.img_channels = img_channels
        self.channels = table
        self.config: dict[str, Any] = {
            "resolution": resolution,
            "channels": dict(table),
            "channel_base": channel_base,
            "channel_max": channel_max,
            "mbstd_group_size": mbstd_group_size,
            "mbstd_num_channels": mbstd_num_channels,
            "img_channels": img_channels,
            "conv_clamp": conv_clamp,
        }
        self.blocks = nn.ModuleDict()
        for res in sorted(table, reverse=True)[:-1]:
            self.blocks[f"b{res}"] = DiscriminatorBlock(
                table[res],
                table[res // 2],
                img_channels=img_channels,
                first=res == resolution,
                conv_clamp=conv_clamp,
            )
        self.blocks["b4"] = DiscriminatorEpilogue(
            table[4],
            mbstd_group_size=mbstd_group_size,
            mbstd_num_channels=mbstd_num_channels,
            conv_clamp=conv_clamp,
        )
        if resolution == 4:
            self.fromrgb = Conv2dLayer(img_channels, table[4], 1, conv_clamp=conv_clamp)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        expected = (self.img_channels, self.resolution, self.resolution)
        if img.ndim != 4 or tuple(img.shape[1:]) != expected:
            raise GanInvError(
                f"discriminator input must be [B, {', '.join(map(str, expected))}], "
                f"got {list(img.shape)}"
            )
        x = img
        if self.resolution == 4:
            x = self.fromrgb(x)
        for block in self.blocks.values():
            x = block(x)
        return x
