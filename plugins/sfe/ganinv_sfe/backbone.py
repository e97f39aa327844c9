"""SFE's backbone: four stages of IR blocks whose third stage keeps its resolution.

SFE takes ArcFace's iResNet-50 and sets the stride of stage 3's first block to 1, so that for a
256 px input the stage outputs are 128, 64, 64 and 32 px (docs/research/methods-2.md 6.2). Here
the stages are ganinv's IR blocks (`ganinv.nets.ir_se.bottleneck_IR`, pSp's layout) with
per-stage block counts, widths and strides as arguments: the pretrained ArcFace iResNet-50 is not
among the offline weights, so the backbone trains from scratch (a documented deviation).
"""

from __future__ import annotations

import torch
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.nets.ir_se import bottleneck_IR, input_layer

PAPER_UNITS = (3, 4, 14, 3)  # iResNet-50
PAPER_WIDTHS = (64, 128, 256, 512)
PAPER_STRIDES = (2, 2, 1, 2)


class Backbone(nn.Module):
    """[B, 3, H, W] -> the four stage outputs (stem conv, then one stage per width)."""

    def __init__(
        self,
        units: tuple[int, ...] = PAPER_UNITS,
        widths: tuple[int, ...] = PAPER_WIDTHS,
        strides: tuple[int, ...] = PAPER_STRIDES,
    ) -> None:
        super().__init__()
        if not len(units) == len(widths) == len(strides) == 4:
            raise GanInvError(
                f"sfe backbone: units {list(units)}, widths {list(widths)} and strides "
                f"{list(strides)} must each name 4 stages"
            )
        if any(u < 1 for u in units) or any(s not in (1, 2) for s in strides):
            raise GanInvError("sfe backbone: units must be >= 1 and strides 1 or 2")
        self.input_layer = input_layer(widths[0])
        stages = []
        in_channel = widths[0]
        for count, width, stride in zip(units, widths, strides):
            blocks = [bottleneck_IR(in_channel, width, stride)]
            blocks += [bottleneck_IR(width, width, 1) for _ in range(count - 1)]
            stages.append(nn.Sequential(*blocks))
            in_channel = width
        self.stages = nn.ModuleList(stages)
        self.widths = tuple(widths)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.input_layer(x)
        outs = []
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        return outs
