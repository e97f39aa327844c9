"""Statistics of a generator's latent distributions, estimated by sampling its mapping network."""

from __future__ import annotations

from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.latent_stats import sample_w, w_std

__all__ = ["MAX_SAMPLES", "check_sample_count", "medoid_z", "sample_w", "w_std"]

# The most seeded draws a space may ask for (`w_std_samples`, `init_samples`): 100 x the
# projector's 10 000. Draws are made in chunks of 1,000, so memory never depends on the count;
# the cap bounds the time a config, or an exported encoder's header, can make ganinv spend.
MAX_SAMPLES = 1_000_000


def check_sample_count(value: Any, key: str) -> int:
    """`value` as a count of draws in [1, MAX_SAMPLES], or a GanInvError naming `key`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SAMPLES:
        raise GanInvError(f"{key} must be an integer in [1, {MAX_SAMPLES}], got {value!r}")
    return value


@torch.no_grad()
def medoid_z(generator: Generator, num_samples: int = 10000, seed: int = 0) -> torch.Tensor:
    """The sampled z [z_dim] whose W lies closest to ``w_avg``: a "mean z" that maps near w_avg.

    Averaging z is no use (E[z] = 0, and z = 0 sits on the singular point of the mapping's
    pixel-norm), so this picks the best of `num_samples` draws instead.
    """
    check_sample_count(num_samples, "init_samples")
    device = generator.w_avg.device
    rng = torch.Generator().manual_seed(seed)
    best_z, best_dist = None, float("inf")
    for start in range(0, num_samples, 1000):
        n = min(1000, num_samples - start)
        z = torch.randn(n, generator.z_dim, generator=rng).to(device)
        dist = (generator.mapping(z)[:, 0] - generator.w_avg).square().sum(1)
        i = int(dist.argmin())
        if float(dist[i]) < best_dist:
            best_z, best_dist = z[i].clone(), float(dist[i])
    assert best_z is not None
    return best_z
