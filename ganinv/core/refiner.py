"""The `Refiner` interface: an optimisation stage that improves codes for given images."""

from __future__ import annotations

import torch

from ganinv.core.space import Code, InversionSpace


class Refiner:
    """Improves `code` so that `space.render(code)` matches `images` ([B, 3, R, R] in [-1, 1]).

    Starts from whatever code it is given (the space's neutral code or an encoder's output), so
    any space that exposes trainable tensors works with any refiner. Returns a detached code.
    """

    def refine(self, space: InversionSpace, code: Code, images: torch.Tensor) -> Code:
        raise NotImplementedError
