"""ReStyle-pSp: ReStyle's ``BackboneEncoder`` (IR-SE on 6 channels, map2style heads) iterated."""

from __future__ import annotations

import torch

from ganinv.core.encoder import Encoder
from ganinv.core.space import InversionSpace
from ganinv_restyle.iterative import ReStyleIterations


class ReStylePSPEncoder(ReStyleIterations, Encoder):
    """ReStyle with the pSp-style encoder for the 'wplus' space: each step predicts one offset per
    code from the last backbone stage.

    input_resolution: input size in px (ReStyle: 256), divisible by 16.
    num_layers / units / widths: IR-SE depth (50 = ReStyle on faces) or per-stage block counts and
        the four stage widths for a small CPU-sized network.
    backbone_weights: start the stem's image channels and the body from an ArcFace IR-SE50 state
        dict (a path or ``arcface_ir_se50``), as ReStyle does; needs ``num_layers: 50``.
    train_steps: steps per training batch, each with its own loss (ReStyle: 5).
    inference_steps: steps at inversion (ReStyle: 5); may differ from the trained number.
    """

    encoder_name = "restyle_psp"

    def __init__(
        self,
        space: InversionSpace,
        input_resolution: int = 256,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | None = None,
        backbone_weights: str | None = None,
        train_steps: int = 5,
        inference_steps: int = 5,
    ) -> None:
        super().__init__(space)
        self.init_network(
            input_resolution,
            num_layers,
            units,
            widths,
            backbone_weights,
            train_steps,
            inference_steps,
        )

    def predict_delta(self, inputs: torch.Tensor) -> torch.Tensor:
        features = self.backbone(inputs)
        return torch.stack([head(features) for head in self.styles], dim=1)
