"""HFGI's Adaptive Distortion Alignment network (ADA; released class ``ResidualAligner``).

A U-Net of IR bottlenecks. Input: the distortion map D [B, 3, S, S] concatenated with the image
it should be aligned to (the rendered, clamped G(w) resized to S), 6 channels. Encoder (widths
[16, 32, 48, 64] in the paper, S = 256): a stem at S, then three stages of three IR blocks, each
halving the size. Decoder: upsample bilinearly to the skip's size, concatenate it, three IR blocks
(64 + 48 -> 64 -> 32 -> 32, then 32 + 32 -> 32 -> 16 -> 16, then 16 + 16 -> 16 -> 3 -> 3). Output:
the aligned distortion map [B, 3, S, S] (unbounded).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv_hfgi.blocks import ir_stage, stem

PAPER_WIDTHS = (16, 32, 48, 64)


def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class ADA(nn.Module):
    """(distortion [B, 3, S, S], image [B, 3, S, S]) -> aligned distortion [B, 3, S, S]."""

    def __init__(self, widths: tuple[int, int, int, int] = PAPER_WIDTHS) -> None:
        super().__init__()
        if len(widths) != 4 or min(widths) < 1:
            raise GanInvError(f"alignment_widths must be 4 positive widths, got {list(widths)}")
        c1, c2, c3, c4 = (int(w) for w in widths)
        self.conv_layer1 = stem(6, c1)
        self.conv_layer2 = ir_stage([c1, c2, c2, c2], stride=2)
        self.conv_layer3 = ir_stage([c2, c3, c3, c3], stride=2)
        self.conv_layer4 = ir_stage([c3, c4, c4, c4], stride=2)
        self.dconv_layer1 = ir_stage([c4 + c3, c4, c2, c2])
        self.dconv_layer2 = ir_stage([2 * c2, c2, c1, c1])
        self.dconv_layer3 = ir_stage([2 * c1, c1, 3, 3])

    def forward(self, distortion: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        feat1 = self.conv_layer1(torch.cat([distortion, image], dim=1))
        feat2 = self.conv_layer2(feat1)
        feat3 = self.conv_layer3(feat2)
        feat4 = self.conv_layer4(feat3)
        d1 = self.dconv_layer1(torch.cat([_up(feat4, feat3), feat3], dim=1))
        d2 = self.dconv_layer2(torch.cat([_up(d1, feat2), feat2], dim=1))
        return self.dconv_layer3(torch.cat([_up(d2, feat1), feat1], dim=1))
