"""KID: unbiased MMD^2 with the cubic polynomial kernel, averaged over random subsets.

k(x, y) = (x.y / d + 1)^3; for each of `num_subsets` subsets of m = min(n, subset_size) features
per set, ``(sum_offdiag K_xx + sum_offdiag K_yy) / (m - 1) - 2 sum K_xy / m``, divided by m and
averaged (Binkowski et al. 2018; StyleGAN2-ADA's ``compute_kid``; 100 subsets of 1000).

KID needs the features themselves: each set keeps a reservoir of at most `max_features` (default
10,000) Inception features, i.e. all of them up to that many images and a uniform sample beyond.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.registry import METRICS
from ganinv.metrics import inception_features
from ganinv.metrics.base import MetricResult
from ganinv.metrics.reservoir import Reservoir


def kernel_inception_distance(
    real: np.ndarray,
    fake: np.ndarray,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """(mean, std over subsets) of the subset MMD^2 estimates; features [N, d] float64."""
    n = real.shape[1]
    m = min(real.shape[0], fake.shape[0], subset_size)
    if m < 2:
        raise GanInvError(f"KID needs at least 2 feature vectors per set, got {m}")
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(num_subsets):
        x = fake[rng.choice(fake.shape[0], m, replace=False)]
        y = real[rng.choice(real.shape[0], m, replace=False)]
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        estimates.append(((a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m) / m)
    values = np.asarray(estimates)
    return float(values.mean()), float(values.std())


@METRICS.register("kid")
class KIDMetric(inception_features.FeatureSetsMetric):
    name = "kid"
    higher_is_better = False
    state_reduction = "cat"  # reservoirs are gathered, not summed (see ganinv.metrics.reservoir)

    def __init__(
        self,
        feature_extractor: Any = None,
        max_features: int = 10_000,
        num_subsets: int = 100,
        subset_size: int = 1000,
        quantize: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(feature_extractor, quantize)
        self.max_features, self.num_subsets, self.subset_size = (
            max_features,
            num_subsets,
            subset_size,
        )
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.real = Reservoir(self.max_features, seed=self.seed)
        self.fake = Reservoir(self.max_features, seed=self.seed + 1)

    def state(self) -> dict[str, torch.Tensor]:
        return {
            "real_features": self.real.values().clone(),
            "fake_features": self.fake.values().clone(),
        }

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.reset()
        self.real.update(state["real_features"])
        self.fake.update(state["fake_features"])

    def compute(self) -> MetricResult:
        real = self.real.values().double().numpy()
        fake = self.fake.values().double().numpy()
        mean, std = kernel_inception_distance(
            real, fake, self.num_subsets, self.subset_size, self.seed
        )
        protocol = {**self.protocol(), "std_over_subsets": std}
        return MetricResult(self.name, mean, protocol, self.higher_is_better)

    def protocol(self) -> dict[str, Any]:
        return {
            **inception_features.protocol(self.quantize, self.custom),
            "kernel": "(x.y / d + 1)^3",
            "subsets": self.num_subsets,
            "subset_size": min(self.subset_size, self.real.size) or self.subset_size,
            "reservoir": f"at most {self.max_features} features per set (uniform sample beyond)",
            "images": self.real.seen,
            "seed": self.seed,
        }
