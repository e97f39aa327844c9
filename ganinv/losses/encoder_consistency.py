"""IDInvert's domain regulariser: the code should be what the encoder predicts for its image.

``mean((W+(code) - W+(E(G(code))))^2)`` over the batch and the num_ws x w_dim entries (IDInvert's
``||z - E(G(z))||^2`` as a mean over 14 x 512, weight 2.0), with G(code) = ``inputs.fake``. The
encoder runs in eval mode (BatchNorm moving statistics) and gradients flow through it and the
generator back to the code; the encoder's own parameters are not the optimised quantity here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.core.registry import LOSSES
from ganinv.losses.base import Loss, LossInputs


def _to_encoder_size(images: torch.Tensor, size: int | None) -> torch.Tensor:
    if size is None or images.shape[-1] == size:
        return images
    if images.shape[-1] > size and images.shape[-1] % size == 0:
        return F.adaptive_avg_pool2d(images, (size, size))  # integer downsampling: area
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)


@LOSSES.register("encoder_consistency")
class EncoderConsistencyLoss(Loss):
    """Needs `inputs.code`, `inputs.space` and `inputs.encoder`; `inputs.fake` = render(code)."""

    protocol = {
        "form": "mean over batch and W+ entries of (W+ - W+(E(G(code))))^2",
        "encoder_mode": "eval",
        "resize": "area (integer factor) or bilinear to the encoder's input_resolution",
    }

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        if inputs.encoder is None or inputs.code is None or inputs.space is None:
            raise GanInvError(
                "the 'encoder_consistency' loss needs an encoder, a code and its space; use it "
                "with a method that has an encoder (e.g. IDInvert's refinement)"
            )
        encoder = inputs.encoder
        was_training = encoder.training
        encoder.eval()
        try:
            size = getattr(encoder, "input_resolution", None)
            reencoded = encoder(_to_encoder_size(inputs.fake, size))
        finally:
            encoder.train(was_training)
        target = inputs.space.to_wplus(inputs.code)
        return F.mse_loss(inputs.space.to_wplus(reencoded), target)
