"""HFGI's distortion consultation encoder (E_c; released class ``ResidualEncoder``).

Input: the (aligned) distortion map [B, 3, S, S]. A stem (conv3x3 3 -> 32, BN, PReLU) at S, then
two stages of three IR blocks (32 -> 48, 48 -> 64; each first block halves the size), then two
heads, scale gamma and shift beta: EqualConv3x3 64 -> C, ScaledLeakyReLU(0.2), EqualConv3x3
C -> C (C = the modulated feature's channels: 512 in the paper), each resized bilinearly to the
feature's size (64 x 64 in the paper; S / 4 already).

`zero_init_` zeroes both heads' last convolution (weights and biases): gamma = beta = 0, so the
modulated feature is the plain one and the space renders exactly G(w) (the paper starts from the
default initialisation).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv_hfgi.blocks import EqualConv2d, ScaledLeakyReLU, ir_stage, stem

PAPER_WIDTHS = (32, 48, 64)


def _head(in_channels: int, hidden: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        EqualConv2d(in_channels, hidden, 3, padding=1),
        ScaledLeakyReLU(0.2),
        EqualConv2d(hidden, out_channels, 3, padding=1),
    )


class ConsultationEncoder(nn.Module):
    """distortion [B, 3, S, S] -> (scale, shift), each [B, C, r, r]."""

    def __init__(
        self,
        out_channels: int,
        widths: tuple[int, int, int] = PAPER_WIDTHS,
        head_hidden: int | None = None,
    ) -> None:
        super().__init__()
        if len(widths) != 3 or min(widths) < 1:
            raise GanInvError(f"consultation_widths must be 3 positive widths, got {list(widths)}")
        c1, c2, c3 = (int(w) for w in widths)
        hidden = out_channels if head_hidden is None else int(head_hidden)
        self.conv_layer1 = stem(3, c1)
        self.conv_layer2 = ir_stage([c1, c2, c2, c2], stride=2)
        self.conv_layer3 = ir_stage([c2, c3, c3, c3], stride=2)
        self.condition_scale3 = _head(c3, hidden, out_channels)
        self.condition_shift3 = _head(c3, hidden, out_channels)

    def zero_init_(self) -> ConsultationEncoder:
        """Start from 'no modulation': gamma = beta = 0 whatever the input."""
        with torch.no_grad():
            for head in (self.condition_scale3, self.condition_shift3):
                head[-1].weight.zero_()
                head[-1].bias.zero_()
        return self

    def forward(self, distortion: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        feat = self.conv_layer3(self.conv_layer2(self.conv_layer1(distortion)))
        out = []
        for head in (self.condition_scale3, self.condition_shift3):
            x = head(feat)
            if x.shape[-1] != size or x.shape[-2] != size:
                x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
            out.append(x)
        return out[0], out[1]
