"""The Z space: the generator's input latent, rendered through its mapping network."""

from __future__ import annotations

from typing import Literal

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.space import Code
from ganinv_baselines.latent_stats import check_sample_count, medoid_z
from ganinv_baselines.style_space import StyleSpace


class ZSpace(StyleSpace):
    """Code ``{"z": [B, z_dim]}`` (+ optional noise maps); renders ``synthesize(mapping(z))``
    without truncation.

    init: ``"medoid"`` (default) starts from the one of `init_samples` seeded draws whose W is
        closest to w_avg (a "mean z": the mean of z itself is 0, which the mapping's pixel-norm
        cannot use, as its gradient there is 1/sqrt(eps)); ``"zeros"`` starts at z = 0 as written
        in some papers and is kept for comparison.
    Edits and blends need per-layer W codes, which a z cannot hold: use 'w' or 'wplus' for them.
    The projector's perturbation for z is the RMS distance of N(0, I) samples, sqrt(z_dim).
    """

    name = "z"
    latent_key = "z"

    def __init__(
        self,
        generator: Generator,
        init: Literal["medoid", "zeros"] = "medoid",
        init_samples: int = 10000,
        w_std_samples: int = 10000,
    ) -> None:
        super().__init__(generator, w_std_samples)
        if init not in ("medoid", "zeros"):
            raise GanInvError(f"z space init must be 'medoid' or 'zeros', got {init!r}")
        self.init = init
        self.init_samples = check_sample_count(init_samples, "init_samples")
        self._z_init: torch.Tensor | None = None

    def latent_shape(self) -> tuple[int, ...]:
        return (self.generator.z_dim,)

    def init_code(self, batch_size: int) -> Code:
        g = self.generator
        if self.init == "zeros":
            z = torch.zeros(g.z_dim, device=g.w_avg.device)
        else:
            if self._z_init is None:
                self._z_init = medoid_z(g, self.init_samples)
            z = self._z_init
        return self.make_code(z.expand(batch_size, g.z_dim).clone())

    def to_wplus(self, code: Code) -> torch.Tensor:
        return self.generator.mapping(self.latent(code))

    def latent_noise_std(self, key: str) -> float | None:
        if key == self.latent_key:
            return float(self.generator.z_dim) ** 0.5
        return None

    def apply_direction(self, code: Code, direction: torch.Tensor, strength: float) -> Code:
        raise GanInvError(
            "space 'z' cannot hold an edit made in W; invert in 'w' or 'wplus' to edit (or give "
            "the W+ codes of space.to_wplus(code) to the 'wplus' space)"
        )

    def blend(self, structure: Code, appearance: Code) -> Code:
        raise GanInvError(
            "space 'z' cannot take structure and appearance from different images; blend in 'wplus'"
        )
