"""The W space: one style code [B, w_dim] repeated for every synthesis input."""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.space import Code
from ganinv_baselines.style_space import StyleSpace


class WSpace(StyleSpace):
    """Code ``{"w": [B, w_dim]}`` (+ optional noise maps); renders as W+ with the code broadcast."""

    name = "w"
    latent_key = "w"

    def latent_shape(self) -> tuple[int, ...]:
        return (self.generator.w_dim,)

    def init_code(self, batch_size: int) -> Code:
        """w_avg."""
        g = self.generator
        return self.make_code(g.w_avg.detach().clone().expand(batch_size, g.w_dim).clone())

    def to_wplus(self, code: Code) -> torch.Tensor:
        w = self.latent(code)
        return w.unsqueeze(1).expand(-1, self.generator.num_ws, -1)

    def apply_direction(self, code: Code, direction: torch.Tensor, strength: float) -> Code:
        """A [w_dim] direction, or a per-layer one whose layers are all equal."""
        step = self._direction_wplus(direction)
        if not torch.allclose(step, step[:1].expand_as(step)):
            raise GanInvError(
                "a per-layer edit direction cannot be applied to a W code (one code for all "
                "layers); invert in 'wplus' for layer-wise edits"
            )
        w = self.latent(code)
        return self._with_latent(code, w + strength * step[0].to(w))

    def blend(self, structure: Code, appearance: Code) -> Code:
        raise GanInvError(
            "space 'w' holds one code for all layers, so it cannot take structure and appearance "
            "from different images; blend in 'wplus'"
        )
