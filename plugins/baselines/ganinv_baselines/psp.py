"""pSp (Richardson et al., CVPR 2021): IR-SE backbone, feature pyramid, one style head per code."""

from __future__ import annotations

import torch

from ganinv.core.encoder import Encoder
from ganinv.core.space import Code, InversionSpace
from ganinv.nets.ir_se import STAGE_WIDTHS
from ganinv_baselines.encoder_common import check_input, load_backbone_weights, require_space
from ganinv_baselines.psp_parts import FeaturePyramid, style_heads
from ganinv_baselines.psp_parts import style_split as split_codes


class PSPEncoder(Encoder):
    """pSp's GradualStyleEncoder for the 'wplus' space: images -> W+ codes [B, num_ws, w_dim].

    Codes [0, coarse) come from the 1/16-scale level c3, [coarse, middle) from p2 (1/8), the rest
    from p1 (1/4); `style_split` sets (coarse, middle) (pSp: (3, 7)). With
    `start_from_latent_avg` (pSp's setting for inversion) the heads predict offsets from w_avg.

    input_resolution: input size in px (pSp: 256), divisible by 16.
    num_layers / units / widths: IR-SE depth (50 = pSp) or per-stage block counts and the four
        stage widths for a small CPU-sized network (e.g. ``units: [1, 1, 1, 1], widths: [16, 16,
        32, 32]``).
    backbone_weights: start the stem and IR-SE body from an ArcFace IR-SE50 state dict (a path or
        the weights-catalogue name ``arcface_ir_se50``), as pSp does; needs ``num_layers: 50``.
        The file is read whenever the encoder is built from its spec (also when an exported
        encoder is rebuilt; its own weights then replace these).
    """

    def __init__(
        self,
        space: InversionSpace,
        input_resolution: int = 256,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | None = None,
        style_split: list[int] | None = None,
        start_from_latent_avg: bool = True,
        backbone_weights: str | None = None,
    ) -> None:
        super().__init__(space)
        require_space(space, ("wplus",), "psp")
        g = space.generator
        self.input_resolution = input_resolution
        self.start_from_latent_avg = start_from_latent_avg
        self.pyramid = FeaturePyramid(num_layers, units, widths or STAGE_WIDTHS)
        if backbone_weights:
            load_backbone_weights(self.pyramid, backbone_weights)
        self.split = split_codes(g.num_ws, style_split)
        self.styles = style_heads(
            g.num_ws, self.pyramid.out_channels, g.w_dim, input_resolution, self.split
        )

    def predict_wplus(self, images: torch.Tensor) -> torch.Tensor:
        """W+ codes [B, num_ws, w_dim] (w_avg added when `start_from_latent_avg`)."""
        check_input(images, self.input_resolution, "psp")
        c3, p2, p1 = self.pyramid(images)
        coarse, middle = self.split
        levels = [c3 if i < coarse else p2 if i < middle else p1 for i in range(len(self.styles))]
        codes = torch.stack([head(f) for head, f in zip(self.styles, levels)], dim=1)
        if self.start_from_latent_avg:
            codes = codes + self.space.generator.w_avg.to(codes)
        return codes

    def forward(self, images: torch.Tensor) -> Code:
        return Code(self.space.name, {"wplus": self.predict_wplus(images)})
