"""Non-saturating GAN losses and the R1 penalty (StyleGAN2's formulation).

The registered ``adversarial`` loss is the generator term for encoder training.
Shared by `ganinv train-gan` and by encoder training with a discriminator (PadInv, IDInvert, e4e).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.core.registry import LOSSES
from ganinv.losses.base import Loss, LossInputs


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """mean softplus(-D(G(z))): the non-saturating generator loss."""
    return F.softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """mean softplus(D(fake)) + mean softplus(-D(real))."""
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def r1_penalty(discriminator: nn.Module, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean over the batch of ||grad_x D(x)||^2, D(x)); multiply by gamma / 2 for the loss."""
    real = real.detach().requires_grad_(True)
    logits = discriminator(real)
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.square().sum(dim=[1, 2, 3]).mean(), logits


@LOSSES.register("adversarial")
class AdversarialLoss(Loss):
    """Non-saturating generator term ``mean softplus(-D(fake))`` on ``inputs.discriminator``."""

    protocol = {"form": "non-saturating, mean softplus(-D(fake))"}

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        if inputs.discriminator is None:
            raise GanInvError(
                "the 'adversarial' loss needs a discriminator; enable one in the method's config "
                "or remove 'adversarial' from its losses"
            )
        return generator_loss(inputs.discriminator(inputs.fake))
