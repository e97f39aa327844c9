"""ReStyle's encoder network: an IR-SE backbone on 6 channels and one map2style head per code.

As ReStyle's ``BackboneEncoder`` / ``ProgressiveBackboneEncoder``
(``models/encoders/restyle_{psp,e4e}_encoders.py``): the stem (conv3x3 6->width, BN, PReLU), the
IR-SE body, and every head reading the last stage's map (R/16 px; no feature pyramid), each head
being pSp's ``GradualStyleBlock`` (log2(R/16) stride-2 convs + LeakyReLU, then an equalised
linear layer). Module names follow ReStyle (``input_layer``, ``body``, ``styles.<i>``).
"""

from __future__ import annotations

import torch
from ganinv_baselines.encoder_common import load_backbone_weights
from ganinv_baselines.psp_parts import GradualStyleBlock
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.nets.ir_se import STAGE_WIDTHS, build_body, encoder_stages, input_layer

# The image and the current reconstruction, concatenated.
INPUT_CHANNELS = 6


class ReStyleBackbone(nn.Module):
    """[B, 6, R, R] -> the last IR-SE stage's map [B, widths[3], R/16, R/16]."""

    def __init__(
        self,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | None = None,
    ) -> None:
        super().__init__()
        widths = list(widths or STAGE_WIDTHS)
        stages = encoder_stages(num_layers, units, widths, "the ReStyle backbone")
        self.input_layer = input_layer(widths[0], INPUT_CHANNELS)
        self.body = build_body(stages, use_se=True)
        self.out_channels = widths[3]
        self.widths = widths

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.input_layer(x))

    def load_ir_se(self, source: str) -> None:
        """Start from an ArcFace IR-SE state dict (a path or ``arcface_ir_se50``), as ReStyle does:
        the body as is, the stem's first 3 input channels from the file's 3-channel stem and the
        3 reconstruction channels left at their random initialisation."""
        holder = nn.Module()  # the 3-channel network the file describes, sharing our body
        holder.input_layer = input_layer(self.widths[0], 3)
        holder.body = self.body
        load_backbone_weights(holder, source)  # safe reader, shapes checked, one-line errors
        with torch.no_grad():
            self.input_layer[0].weight[:, :3].copy_(holder.input_layer[0].weight)
        self.input_layer[1].load_state_dict(holder.input_layer[1].state_dict())
        self.input_layer[2].load_state_dict(holder.input_layer[2].state_dict())


def map2style_heads(num_ws: int, in_channels: int, w_dim: int, resolution: int) -> nn.ModuleList:
    """One head per code, all reading the R/16 map."""
    if resolution % 16:
        raise GanInvError(
            f"ReStyle encoders need an input_resolution divisible by 16, got {resolution}"
        )
    return nn.ModuleList(
        [GradualStyleBlock(in_channels, w_dim, resolution // 16) for _ in range(num_ws)]
    )
