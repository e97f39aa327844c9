"""The `Encoder` interface: images to codes of one inversion space."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.space import Code, InversionSpace

__all__ = ["ENCODER_INPUT_RESIZE", "Encoder", "to_encoder_input"]

# Named in the protocol record, so a result says how images reached the encoder.
ENCODER_INPUT_RESIZE = "bilinear, antialias, align_corners=False"


def to_encoder_input(images: torch.Tensor, resolution: int | None) -> torch.Tensor:
    """Resize [B, 3, H, W] to an encoder's input resolution (no-op when it already matches).

    The one resize the harness applies before every encoder call; a component that feeds an
    encoder itself (e.g. a refiner through a frozen encoder) uses it to see what the harness sees.
    """
    if resolution is None or images.shape[-1] == resolution and images.shape[-2] == resolution:
        return images
    return F.interpolate(
        images, size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False
    )


class Encoder(nn.Module):
    """An `nn.Module` from images [B, 3, H, W] in [-1, 1] to a `Code` of `space`.

    The encoder is built for one space (and so one generator) and lives on the same device.
    Subclasses implement `forward`; `input_resolution` says what size it expects (inputs of
    another size are resized by the harness, the mode being part of the protocol record).
    """

    input_resolution: int

    def __init__(self, space: InversionSpace) -> None:
        super().__init__()
        # Not a submodule: the generator is frozen and saved separately from the encoder.
        object.__setattr__(self, "space", space)

    def forward(self, images: torch.Tensor) -> Code:
        raise NotImplementedError

    def training_codes(self, images: torch.Tensor) -> list[Code]:
        """The codes one training step scores, last one last: the trainer applies its losses (and
        `extra_losses`) to each and sums them. Default ``[self(images)]``; an iterative encoder
        (ReStyle) returns one code per refinement step, as its paper puts a loss on every step."""
        return [self(images)]

    def extra_losses(self, code: Code) -> dict[str, torch.Tensor]:
        """Method-specific training terms (e.g. e4e's offset regulariser); weights in the config."""
        return {}

    def auxiliary_step(self, code: Code, images: torch.Tensor) -> dict[str, float]:
        """Called by the trainer after each encoder step (e.g. e4e's latent-discriminator update).

        Owns its own networks and optimisers; returns figures to log. Default: nothing to do.
        """
        return {}

    def auxiliary_state(self) -> dict[str, Any]:
        """What `auxiliary_step` keeps outside `state_dict()` (side optimisers, sample pools, RNG
        states), saved in training checkpoints for an exact resume. Tensors, numbers, strings,
        lists and dicts only (checkpoints load with ``weights_only=True``). Default: nothing."""
        return {}

    def load_auxiliary_state(self, state: dict[str, Any]) -> None:
        """Restore what `auxiliary_state` returned."""
