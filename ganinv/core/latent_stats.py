"""Statistics of a generator's latent distributions, estimated by sampling its mapping network."""

from __future__ import annotations

import torch

from ganinv.core.generator import Generator


@torch.no_grad()
def sample_w(
    generator: Generator, num_samples: int, seed: int = 0, chunk: int = 1000
) -> torch.Tensor:
    """W codes [num_samples, w_dim] of random z (a seeded CPU generator, so results repeat)."""
    device = generator.w_avg.device
    rng = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, num_samples, chunk):
        n = min(chunk, num_samples - start)
        z = torch.randn(n, generator.z_dim, generator=rng).to(device)
        out.append(generator.mapping(z)[:, 0])
    return torch.cat(out)


def w_std(generator: Generator, num_samples: int = 10000, seed: int = 0) -> float:
    """Root-mean-square distance of W samples from their mean (the StyleGAN2 projector's ``w_std``).

    A scalar over all dimensions: ``sqrt(sum ||w_i - mean||^2 / N)``.
    """
    ws = sample_w(generator, num_samples, seed).double()
    return float(((ws - ws.mean(0, keepdim=True)).square().sum() / len(ws)).sqrt())
