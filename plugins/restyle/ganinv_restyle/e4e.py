"""ReStyle-e4e: ReStyle's ``ProgressiveBackboneEncoder`` iterated, trained as ReStyle-e4e.

Each step predicts w0 from head 0 and, for code i, w0 + delta_i once the progressive stage is
>= i (else w0); that offset is added to the current code. Training terms are e4e's, from
`E4EEncoder` (progressive schedule, ``delta_norm`` and ``w_discriminator`` extra losses, the
latent-discriminator update in `auxiliary_step`), applied as ReStyle's coach applies them: the
extra losses on every step's accumulated code. One difference: ReStyle updates the latent
discriminator before the encoder step, on the first step's raw output; here it is updated after
the encoder step, on the last step's codes (as ganinv's e4e does with its single step).
"""

from __future__ import annotations

import torch
from ganinv_baselines.e4e import E4EEncoder

from ganinv.core.encoder import Encoder
from ganinv.core.space import InversionSpace
from ganinv_restyle.iterative import ReStyleIterations


class ReStyleE4EEncoder(ReStyleIterations, E4EEncoder):
    """ReStyle with the e4e encoder for the 'wplus' space.

    Network settings as `ReStylePSPEncoder` (input_resolution, num_layers / units / widths,
    backbone_weights, train_steps, inference_steps); training settings as `E4EEncoder`
    (progressive_start, progressive_step_every or progressive_steps; w_discriminator,
    discriminator_layers, w_discriminator_lr, r1, d_reg_every, w_pool_size, seed).
    """

    encoder_name = "restyle_e4e"

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
        progressive_start: int | None = 20000,
        progressive_step_every: int = 2000,
        progressive_steps: list[int] | None = None,
        w_discriminator: bool = True,
        discriminator_layers: int = 4,
        w_discriminator_lr: float = 2e-5,
        r1: float = 10.0,
        d_reg_every: int = 16,
        w_pool_size: int = 50,
        seed: int = 0,
    ) -> None:
        # Not E4EEncoder.__init__: it builds e4e's feature pyramid, which ReStyle does not use.
        Encoder.__init__(self, space)
        self.start_from_latent_avg = True  # w_0 = w_avg, as ReStyle
        self.init_network(
            input_resolution,
            num_layers,
            units,
            widths,
            backbone_weights,
            train_steps,
            inference_steps,
        )
        self.init_training_terms(
            progressive_start,
            progressive_step_every,
            progressive_steps,
            w_discriminator,
            discriminator_layers,
            w_discriminator_lr,
            r1,
            d_reg_every,
            w_pool_size,
            seed,
        )

    def predict_delta(self, inputs: torch.Tensor) -> torch.Tensor:
        features = self.backbone(inputs)
        w0 = self.styles[0](features)
        stage = self.stage
        offsets = [w0]
        for i in range(1, self.num_ws):
            offsets.append(w0 + self.styles[i](features) if i <= stage else w0)
        return torch.stack(offsets, dim=1)
