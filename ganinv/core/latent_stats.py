"""Statistics of a generator's latent distributions, estimated by sampling its mapping network.

Samples are drawn and mapped in chunks of `chunk` z from one seeded CPU generator, so the draws
(and so the results) do not depend on how many chunks there are; `w_std` also reduces chunk by
chunk, so its memory is one chunk of codes whatever `num_samples` a config or a file names.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator


@torch.no_grad()
def w_chunks(
    generator: Generator, num_samples: int, seed: int = 0, chunk: int = 1000
) -> Iterator[torch.Tensor]:
    """W codes [<= chunk, w_dim] of random z, chunk after chunk, `num_samples` in all."""
    device = generator.w_avg.device
    rng = torch.Generator().manual_seed(seed)
    for start in range(0, num_samples, chunk):
        n = min(chunk, num_samples - start)
        z = torch.randn(n, generator.z_dim, generator=rng).to(device)
        yield generator.mapping(z)[:, 0]


@torch.no_grad()
def sample_w(
    generator: Generator, num_samples: int, seed: int = 0, chunk: int = 1000
) -> torch.Tensor:
    """W codes [num_samples, w_dim] of random z (a seeded CPU generator, so results repeat)."""
    return torch.cat(list(w_chunks(generator, num_samples, seed, chunk)))


@torch.no_grad()
def w_std(
    generator: Generator, num_samples: int = 10000, seed: int = 0, chunk: int = 1000
) -> float:
    """Root-mean-square distance of W samples from their mean (the StyleGAN2 projector's ``w_std``).

    A scalar over all dimensions: ``sqrt(sum ||w_i - mean||^2 / N)``, in float64. The chunks'
    means and sums of squared deviations are merged pairwise (Chan, Golub and LeVeque 1979), so
    only one chunk is held: with one chunk this is exactly the direct formula, with more it agrees
    with it to float64 rounding (the samples are the same).
    """
    if num_samples < 1:
        raise GanInvError(f"w_std needs at least one sample, got num_samples={num_samples}")
    count = 0
    mean = total = torch.zeros((), dtype=torch.float64)
    for ws in w_chunks(generator, num_samples, seed, chunk):
        ws = ws.double()
        n = len(ws)
        part_mean = ws.mean(0, keepdim=True)
        part = (ws - part_mean).square().sum()
        if count == 0:
            mean, total = part_mean, part
        else:
            delta = part_mean - mean
            mean = mean + delta * (n / (count + n))
            total = total + part + delta.square().sum() * (count * n / (count + n))
        count += n
    return float((total / count).sqrt())
