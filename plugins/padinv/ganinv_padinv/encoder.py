"""PadInv's encoder: pSp's IR-SE pyramid and W+ heads plus the padding branch.

Released code (EzioBy/padinv, `models/padinv_encoder.py`): the W+ heads are pSp's (3 codes from the
1/16 level, 4 from 1/8, the rest from 1/4; offsets from w_avg). The padding branch runs two IR-SE
bottlenecks (stride 1) on the 1/8 level (32x32 for a 256 px input), upsamples bicubically
(align_corners=True) to the map size 2^(pad_layers+1) + 2 (34), and gives one base map whose centre
4x4 replaces the constant input; one 1x1 conv head per padded layer (``use_pad_mod_head``, set in
all released training scripts) turns it into that layer's map.

Generalisation (exact for the released 512-channel configuration): the branch outputs as many
channels as the generator's constant input and each head outputs its layer's input channels, so
the encoder fits any StyleGAN2 the library loads.

Option ``residual_maps`` (ours, off by default; not in the released code): a 1x1 head predicts the
constant input as an offset from the generator's learned constant, and every map head starts at
zero, so the untrained encoder renders exactly what its W+ heads alone render (pSp). The released
form predicts the constant input from scratch, which a short training budget pays for.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from ganinv_baselines.encoder_common import check_input, require_own_space
from ganinv_baselines.psp_parts import FeaturePyramid, style_heads
from ganinv_baselines.psp_parts import style_split as split_codes
from torch import nn

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.nets.ir_se import STAGE_WIDTHS, bottleneck_IR_SE


class PadInvEncoder(Encoder):
    """Images [B, 3, R, R] in [-1, 1] -> codes of the ``padinv`` space.

    input_resolution: input size in px (PadInv: 256), divisible by 16.
    num_layers / units / widths: IR-SE depth (50 as released) or per-stage block counts and the
        four stage widths for a CPU-sized network.
    style_split: (coarse, middle) code split over the pyramid levels (released: (3, 7)).
    pad_mod_heads: one 1x1 head per padded layer (released: true).
    residual_maps: start from W+ exactly (see the module docstring); needs pad_mod_heads.
    """

    def __init__(
        self,
        space: InversionSpace,
        input_resolution: int = 256,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | None = None,
        style_split: list[int] | None = None,
        pad_mod_heads: bool = True,
        residual_maps: bool = False,
    ) -> None:
        super().__init__(space)
        require_own_space(space, "padinv", "from_maps", "padinv")
        g = space.generator
        self.input_resolution = input_resolution
        self.pyramid = FeaturePyramid(num_layers, units, widths or STAGE_WIDTHS)
        self.split = split_codes(g.num_ws, style_split)
        self.styles = style_heads(
            g.num_ws, self.pyramid.out_channels, g.w_dim, input_resolution, self.split
        )
        const_channels = g.layers[0].out_channels
        self.padding_extractor = nn.Sequential(
            bottleneck_IR_SE(self.pyramid.out_channels, const_channels, 1),
            bottleneck_IR_SE(const_channels, const_channels, 1),
        )
        layer_channels = [info.in_channels for info in space.layers.values()]
        if not pad_mod_heads and any(c != const_channels for c in layer_channels):
            raise GanInvError(
                "pad_mod_heads=false shares one map across layers, which needs every padded "
                f"layer to have {const_channels} input channels (got {layer_channels})"
            )
        if residual_maps and not pad_mod_heads:
            raise GanInvError("residual_maps needs pad_mod_heads (its heads start at zero)")
        self.pad_mod_heads = pad_mod_heads
        self.pad_heads = nn.ModuleList(
            nn.Conv2d(const_channels, c, 1) for c in (layer_channels if pad_mod_heads else [])
        )
        self.residual_maps = residual_maps
        if residual_maps:
            self.const_head = nn.Conv2d(const_channels, const_channels, 1)
            for head in [self.const_head, *self.pad_heads]:
                nn.init.zeros_(head.weight)
                nn.init.zeros_(head.bias)

    def forward(self, images: torch.Tensor) -> Code:
        check_input(images, self.input_resolution, "padinv")
        c3, p2, p1 = self.pyramid(images)
        coarse, middle = self.split
        levels = [c3 if i < coarse else p2 if i < middle else p1 for i in range(len(self.styles))]
        wplus = torch.stack([head(f) for head, f in zip(self.styles, levels)], dim=1)
        wplus = wplus + self.space.generator.w_avg.to(wplus)
        base = self.padding_extractor(p2)
        size = self.space.map_size
        base = F.interpolate(base, size=(size, size), mode="bicubic", align_corners=True)
        if self.pad_mod_heads:
            maps = [head(base) for head in self.pad_heads]
        else:
            maps = [base] * len(self.space.layers)
        if not self.residual_maps:
            return self.space.from_maps(wplus, base, maps)
        code = self.space.from_maps(wplus, self.const_head(base), maps)
        code.tensors["const"] = code["const"] + self.space.learned_const().to(base)
        return code
