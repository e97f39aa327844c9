"""GANSpace (Härkönen et al., NeurIPS 2020): principal components of sampled W as edit directions.

As the reference (harskish/ganspace, StyleGAN2 with ``--use_w``): z ~ N(0, I) from a seeded RNG,
w = mapping(z) with no truncation, PCA of the w samples (mean-centred, no whitening), components
unit norm and ordered by explained variance. σ_i is the standard deviation of the projections of
5,000 fresh samples onto u_i (the reference's ``lat_stdev``), and the edit E(u_i, j-k) moves rows
j .. k-1 of W+ by x·σ_i·u_i (end exclusive, x in units of σ).

The PCA here is exact (eigendecomposition of the float64 covariance accumulated in batches); the
reference's default IncrementalPCA approximates the same components.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.editing.rows import eigenvectors_descending, layer_range, layered

# The reference's sample counts: `-n` defaults to 300,000; σ from 5,000 fresh samples.
DEFAULT_SAMPLES = 300_000
SIGMA_SAMPLES = 5_000
BATCH = 10_000


@dataclass
class PCAResult:
    """components [K, w_dim] (rows unit norm, by explained variance, descending), mean [w_dim],
    variances [K] (eigenvalues of the covariance), sigma [K] (std of fresh projections),
    total_variance (trace of the covariance)."""

    components: torch.Tensor
    mean: torch.Tensor
    variances: torch.Tensor
    sigma: torch.Tensor
    total_variance: float
    samples: int
    seed: int


def sample_w(generator: Generator, count: int, rng: torch.Generator) -> torch.Tensor:
    """`count` w codes [count, w_dim] (float64, CPU) of z ~ N(0, I) from `rng`, no truncation."""
    device = generator.w_avg.device
    out = []
    with torch.no_grad():
        for start in range(0, count, BATCH):
            n = min(BATCH, count - start)
            z = torch.randn(n, generator.z_dim, generator=rng)
            out.append(generator.mapping(z.to(device))[:, 0].double().cpu())
    return torch.cat(out)


def ganspace_pca(
    generator: Generator, samples: int = DEFAULT_SAMPLES, seed: int = 0, components: int = 80
) -> PCAResult:
    """GANSpace's PCA of W: `samples` codes, the top `components` (at most w_dim)."""
    if samples < 2:
        raise GanInvError(f"GANSpace needs at least 2 samples of W, got {samples}")
    rng = torch.Generator().manual_seed(seed)
    # Running sums in float64 (exact PCA; no N x w_dim matrix kept for a million samples).
    d = generator.w_dim
    total, outer, n = torch.zeros(d, dtype=torch.float64), torch.zeros(d, d, dtype=torch.float64), 0
    for start in range(0, samples, BATCH):
        w = sample_w(generator, min(BATCH, samples - start), rng)
        total += w.sum(0)
        outer += w.T @ w
        n += w.shape[0]
    mean = total / n
    cov = (outer - n * torch.outer(mean, mean)) / (n - 1)
    vectors, values = eigenvectors_descending(cov)
    k = min(components, d)
    fresh = sample_w(generator, SIGMA_SAMPLES, rng) - mean
    sigma = (fresh @ vectors[:k].T).std(dim=0)
    return PCAResult(
        components=vectors[:k],
        mean=mean,
        variances=values[:k].clamp_min(0),
        sigma=sigma,
        total_variance=float(values.clamp_min(0).sum()),
        samples=samples,
        seed=seed,
    )


def ganspace_direction(
    result: PCAResult, component: int, layers: tuple[int, int] | None, num_ws: int
) -> tuple[torch.Tensor, dict[str, object]]:
    """The edit E(u_i, start-end) as a direction file's tensor and protocol record.

    The rows hold σ_i·u_i, so a strength x moves them by x standard deviations, GANSpace's unit.
    """
    if not 0 <= component < result.components.shape[0]:
        raise GanInvError(
            f"component {component} is not among the {result.components.shape[0]} computed "
            f"(0 .. {result.components.shape[0] - 1})"
        )
    rows = layer_range(layers, num_ws)
    sigma = float(result.sigma[component])
    direction = layered((result.components[component] * sigma).float(), rows, num_ws)
    info: dict[str, object] = {
        "method": "ganspace",
        "part": "w" if direction.ndim == 1 else "wplus",
        "component": component,
        "layers": list(rows),
        "samples": result.samples,
        "seed": result.seed,
        "variance": float(result.variances[component]),
        "explained_variance_ratio": float(result.variances[component]) / result.total_variance,
        "sigma": sigma,
        "sigma_samples": SIGMA_SAMPLES,
        "strength_unit": "sigma (the direction's rows are sigma * unit component)",
        "estimator": "exact PCA (float64 covariance eigendecomposition)",
    }
    return direction, info
