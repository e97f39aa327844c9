"""A plain encoder to one W code (pSp's ``BackboneEncoderUsingLastLayerIntoW``)."""

from __future__ import annotations

import torch
from torch import nn

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.nets.ir_se import STAGE_WIDTHS, build_body, input_layer, stage_specs
from ganinv_baselines.encoder_common import (
    check_input,
    load_backbone_weights,
    require_space,
    wplus_code,
)
from ganinv_baselines.psp_parts import EqualLinear


class WEncoder(Encoder):
    """IR-SE backbone -> global average pool -> equalised linear -> w [B, w_dim] (+ w_avg).

    For the 'w' space (code ``w``) or the 'wplus' space (the one code repeated in every layer).
    Settings: input_resolution, num_layers / units / widths (as `PSPEncoder`),
    start_from_latent_avg, backbone_weights (as `PSPEncoder`).
    """

    def __init__(
        self,
        space: InversionSpace,
        input_resolution: int = 256,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | None = None,
        start_from_latent_avg: bool = True,
        backbone_weights: str | None = None,
    ) -> None:
        super().__init__(space)
        require_space(space, ("w", "wplus"), "w_encoder")
        widths = tuple(widths or STAGE_WIDTHS)
        try:
            stages = stage_specs(num_layers, tuple(units) if units else None, widths)
        except ValueError as exc:
            raise GanInvError(f"IR-SE backbone settings: {exc}") from exc
        g = space.generator
        self.input_resolution = input_resolution
        self.start_from_latent_avg = start_from_latent_avg
        self.input_layer = input_layer(widths[0])
        self.body = build_body(stages, use_se=True)
        if backbone_weights:
            load_backbone_weights(self, backbone_weights)
        self.output_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear = EqualLinear(widths[-1], g.w_dim, lr_mul=1)

    def predict_w(self, images: torch.Tensor) -> torch.Tensor:
        """W codes [B, w_dim]."""
        check_input(images, self.input_resolution, "w_encoder")
        x = self.output_pool(self.body(self.input_layer(images)))
        w = self.linear(x.flatten(1))
        if self.start_from_latent_avg:
            w = w + self.space.generator.w_avg.to(w)
        return w

    def forward(self, images: torch.Tensor) -> Code:
        w = self.predict_w(images)
        return wplus_code(self.space, w.unsqueeze(1).expand(-1, self.space.generator.num_ws, -1))
