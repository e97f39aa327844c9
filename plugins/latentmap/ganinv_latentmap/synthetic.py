"""Dataset ``synthetic_pairs``: images rendered by the generator with the codes that made them.

Item i: z_i ~ N(0, I) from a generator seeded with a hash of (seed, i),
``w_i = mapping(z_i)`` (with optional truncation), image ``G(w_i)`` clamped to [-1, 1], rendered
when the item is read (no files).
Returns ``{"image": [3, R, R], "wplus": [num_ws, w_dim]}``; `ganinv train` hands the extra
``wplus`` to the losses as ``LossInputs.extra["wplus"]`` (the ``latent_mse`` loss reads it), and
evaluation uses the image only. `count` is the epoch length; items are deterministic, so two
datasets with different seeds are disjoint train / test sets.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ganinv.core.errors import GanInvError


class SyntheticPairs(Dataset):
    """(G(w), w) pairs from the generator `generator` (checkpoint path or card name)."""

    def __init__(
        self,
        generator: str,
        count: int = 100000,
        seed: int = 0,
        truncation_psi: float = 1.0,
        noise_mode: str = "const",
    ) -> None:
        from ganinv import load_generator

        if count < 1:
            raise GanInvError(f"synthetic_pairs needs count >= 1, got {count}")
        if noise_mode not in ("const", "random", "none"):
            raise GanInvError(f"noise_mode must be 'const', 'random' or 'none', got {noise_mode!r}")
        self.generator = load_generator(generator).eval().requires_grad_(False)
        self.count = count
        self.seed = seed
        self.truncation_psi = truncation_psi
        self.noise_mode = noise_mode

    def __len__(self) -> int:
        return self.count

    def latent(self, index: int) -> torch.Tensor:
        """The W+ code [num_ws, w_dim] of item `index`."""
        if not 0 <= index < self.count:
            raise IndexError(index)
        # torch seeds its CPU generator with 32 bits: mix (seed, index) into them, so that
        # datasets with different seeds never share items.
        mixed = int(np.random.SeedSequence([self.seed, index]).generate_state(1)[0])
        rng = torch.Generator().manual_seed(mixed)
        z = torch.randn(1, self.generator.z_dim, generator=rng)
        with torch.no_grad():
            return self.generator.mapping(z, self.truncation_psi)[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        wplus = self.latent(index)
        with torch.no_grad():
            image = self.generator.synthesize(wplus[None], noise_mode=self.noise_mode)[0]
        return {"image": image.clamp(-1, 1), "wplus": wplus}
