"""The W+ space: one style code per synthesis input, [B, num_ws, w_dim] (Image2StyleGAN)."""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.space import Code
from ganinv_baselines.style_space import StyleSpace


class WPlusSpace(StyleSpace):
    """Code ``{"wplus": [B, num_ws, w_dim]}`` (+ optional noise maps), rendered directly.

    blend_crossover: blending takes codes ``[0, crossover)`` (coarse layers: pose, shape, layout)
        from the structure image and ``[crossover, num_ws)`` (fine layers: colour, texture) from the
        appearance image, as in StyleGAN's style mixing. Default ``num_ws // 2`` (9 of 18 at
        1024 px: structure up to the first 64 px conv; 4 of 8 at 32 px).
    """

    name = "wplus"
    latent_key = "wplus"

    def __init__(
        self,
        generator: Generator,
        blend_crossover: int | None = None,
        w_std_samples: int = 10000,
    ) -> None:
        super().__init__(generator, w_std_samples)
        crossover = generator.num_ws // 2 if blend_crossover is None else blend_crossover
        if not 0 <= crossover <= generator.num_ws:
            raise GanInvError(
                f"blend_crossover must be in [0, {generator.num_ws}] for this generator, got "
                f"{crossover}"
            )
        self.blend_crossover = crossover

    def latent_shape(self) -> tuple[int, ...]:
        return (self.generator.num_ws, self.generator.w_dim)

    def init_code(self, batch_size: int) -> Code:
        """w_avg in every layer."""
        g = self.generator
        wplus = g.w_avg.detach().expand(batch_size, g.num_ws, g.w_dim).clone()
        return self.make_code(wplus)

    def to_wplus(self, code: Code) -> torch.Tensor:
        return self.latent(code)

    def apply_direction(self, code: Code, direction: torch.Tensor, strength: float) -> Code:
        wplus = self.latent(code)
        step = self._direction_wplus(direction.to(wplus))
        return self._with_latent(code, wplus + strength * step)

    def blend(self, structure: Code, appearance: Code) -> Code:
        """Coarse codes of `structure`, fine codes of `appearance`; noise maps of `structure`."""
        a, b = self.latent(structure), self.latent(appearance)
        if a.shape[0] != b.shape[0] and b.shape[0] != 1 and a.shape[0] != 1:
            raise GanInvError(
                f"cannot blend batches of {a.shape[0]} and {b.shape[0]} codes; give equal batch "
                "sizes or a single code on one side"
            )
        a, b = torch.broadcast_tensors(a, b)
        c = self.blend_crossover
        return self._with_latent(structure, torch.cat([a[:, :c], b[:, c:]], dim=1))
