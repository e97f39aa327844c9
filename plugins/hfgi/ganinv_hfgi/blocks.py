"""Building blocks of HFGI's networks, as in its released code (`psp_encoders.py`).

`ir_stage`: IR bottlenecks (pSp's ``bottleneck_IR``), the first with the stage's stride.
`EqualConv2d` / `ScaledLeakyReLU`: rosinality's equalised convolution and scaled activation (the
consultation encoder's scale and shift heads).
"""

from __future__ import annotations

from torch import nn

from ganinv.nets.equalized import EqualConv2d, ScaledLeakyReLU  # noqa: F401 (re-exported)
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
