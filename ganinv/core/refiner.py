"""The `Refiner` interface: an optimisation stage that improves codes for given images."""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace


def check_targets(space: InversionSpace, code: Code, images: torch.Tensor) -> None:
    """Refuse targets a refiner cannot fit: images not [B, C, R, R] at the generator's size, or
    not one per starting code (a `GanInvError` saying which)."""
    g = space.generator
    if images.ndim != 4 or images.shape[1:] != (g.img_channels, g.resolution, g.resolution):
        raise GanInvError(
            f"targets must be [B, {g.img_channels}, {g.resolution}, {g.resolution}] for this "
            f"generator, got {list(images.shape)}; resize them first"
        )
    if images.shape[0] != code.batch_size:
        raise GanInvError(f"{images.shape[0]} target images but {code.batch_size} starting codes")


class Refiner:
    """Improves `code` so that `space.render(code)` matches `images` ([B, 3, R, R] in [-1, 1]).

    Starts from whatever code it is given (the space's neutral code or an encoder's output), so
    any space that exposes trainable tensors works with any refiner. Returns a detached code.
    """

    def refine(self, space: InversionSpace, code: Code, images: torch.Tensor) -> Code:
        raise NotImplementedError
