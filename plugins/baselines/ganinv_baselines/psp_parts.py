"""pSp's feature pyramid and map-to-style heads, shared by the psp and e4e encoders (and PadInv).

Public, importable by other plugins::

    from ganinv_baselines.psp_parts import FeaturePyramid, GradualStyleBlock, style_split

`FeaturePyramid` is the IR-SE stem + body (from `ganinv.nets.ir_se`) with pSp's top-down path: for
an input of R px it returns ``(c3, p2, p1)`` at R/16, R/8 and R/4 px, all with the last stage's
width (512 for IR-SE-50). `GradualStyleBlock` maps one pyramid level to one style code with
log2(spatial) stride-2 convs + LeakyReLU(0.01) and an equalised linear layer, as in pSp
(``models/encoders/psp_encoders.py``). Parameter names follow pSp inside each module
(``input_layer``, ``body``, ``latlayer1``, ``latlayer2``, ``styles.<i>.convs``/``linear``), so an
official pSp/e4e encoder state dict loads after renaming ``encoder.input_layer`` ->
``pyramid.input_layer`` (same for ``body``, ``latlayer1``, ``latlayer2``) and ``encoder.styles`` ->
``styles``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.nets.ir_se import (
    STAGE_WIDTHS,
    build_body,
    encoder_stages,
    input_layer,
    stage_end_indices,
)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate (rosinality's ``EqualLinear``, no activation).

    weight ~ N(0, 1) / lr_mul, applied as ``weight * lr_mul / sqrt(in_dim)``; bias starts at 0.
    """

    def __init__(self, in_dim: int, out_dim: int, lr_mul: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class GradualStyleBlock(nn.Module):
    """[B, in_c, S, S] -> [B, out_c]: log2(S) x (conv3x3 stride 2 + LeakyReLU), then linear."""

    def __init__(self, in_c: int, out_c: int, spatial: int) -> None:
        super().__init__()
        self.out_c = out_c
        self.spatial = spatial
        num_pools = max(int(math.log2(spatial)), 1)
        modules: list[nn.Module] = [nn.Conv2d(in_c, out_c, 3, 2, 1), nn.LeakyReLU()]
        for _ in range(num_pools - 1):
            modules += [nn.Conv2d(out_c, out_c, 3, 2, 1), nn.LeakyReLU()]
        self.convs = nn.Sequential(*modules)
        self.linear = EqualLinear(out_c, out_c, lr_mul=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.convs(x)
        return self.linear(x.reshape(-1, self.out_c))


def upsample_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Bilinear (align_corners) upsampling of `x` to `y`'s size, plus `y` (pSp's FPN step)."""
    return F.interpolate(x, size=y.shape[-2:], mode="bilinear", align_corners=True) + y


def style_split(num_ws: int, split: tuple[int, int] | list[int] | None = None) -> tuple[int, int]:
    """(coarse_end, middle_end): codes [0, coarse_end) read c3, [coarse_end, middle_end) p2, the
    rest p1. pSp uses (3, 7) for 18 and 14 codes; by default it is clipped so that every group
    keeps at least one code (e.g. (3, 7) for 8 codes gives 3 coarse, 4 middle, 1 fine)."""
    if split is None:
        coarse = min(3, max(num_ws - 2, 1))
        middle = min(7, max(num_ws - 1, coarse))
        return coarse, middle
    coarse, middle = int(split[0]), int(split[1])
    if not 0 < coarse <= middle <= num_ws:
        raise GanInvError(
            f"style_split {list(split)} must satisfy 0 < coarse <= middle <= num_ws ({num_ws})"
        )
    return coarse, middle


class FeaturePyramid(nn.Module):
    """IR-SE backbone + pSp FPN. Input [B, 3, R, R] in [-1, 1], R divisible by 16.

    num_layers: IR-SE depth (50, 100, 152) or None with `units` (blocks per stage) for a small
    network; widths: the four stage widths. Output ``(c3, p2, p1)`` with ``widths[3]`` channels at
    R/16, R/8, R/4 px; `spatial(R)` gives those sizes.
    """

    def __init__(
        self,
        num_layers: int | None = 50,
        units: tuple[int, ...] | list[int] | None = None,
        widths: tuple[int, ...] | list[int] = STAGE_WIDTHS,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        widths = tuple(widths)
        stages = encoder_stages(num_layers, units, widths, "the pSp pyramid")
        self.input_layer = input_layer(widths[0], in_channels)
        self.body = build_body(stages, use_se=True)
        ends = stage_end_indices(stages)
        self.tap_c1, self.tap_c2, self.tap_c3 = ends[1], ends[2], ends[3]
        self.out_channels = widths[3]
        self.latlayer1 = nn.Conv2d(widths[2], widths[3], 1, 1, 0)
        self.latlayer2 = nn.Conv2d(widths[1], widths[3], 1, 1, 0)

    @staticmethod
    def spatial(resolution: int) -> tuple[int, int, int]:
        """Sizes of (c3, p2, p1) for an input of `resolution` px."""
        if resolution % 16:
            raise GanInvError(
                f"pSp encoders need an input resolution divisible by 16, got {resolution}"
            )
        return resolution // 16, resolution // 8, resolution // 4

    def backbone(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Stage outputs (c1, c2, c3) at R/4, R/8, R/16."""
        x = self.input_layer(x)
        c1 = c2 = None
        for i, block in enumerate(self.body):
            x = block(x)
            if i == self.tap_c1:
                c1 = x
            elif i == self.tap_c2:
                c2 = x
        assert c1 is not None and c2 is not None
        return c1, c2, x

    def top_down(
        self, c1: torch.Tensor, c2: torch.Tensor, c3: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        p2 = upsample_add(c3, self.latlayer1(c2))
        p1 = upsample_add(p2, self.latlayer2(c1))
        return c3, p2, p1

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.top_down(*self.backbone(x))


def style_heads(
    num_ws: int, in_channels: int, w_dim: int, resolution: int, split: tuple[int, int]
) -> nn.ModuleList:
    """One `GradualStyleBlock` per code, sized for the pyramid level it reads."""
    s3, s2, s1 = FeaturePyramid.spatial(resolution)
    coarse, middle = split
    heads = []
    for i in range(num_ws):
        spatial = s3 if i < coarse else s2 if i < middle else s1
        heads.append(GradualStyleBlock(in_channels, w_dim, spatial))
    return nn.ModuleList(heads)
