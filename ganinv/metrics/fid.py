"""FID between the real and the reconstructed images (pytorch-fid's features and formula).

Streaming: per set, the count, feature sum and sum of outer products in float64 (2048 + 2048^2
numbers), so memory is flat and the state sums across processes; the Frechet distance is computed
once at the end with scipy's sqrtm, as pytorch-fid does.
"""

from __future__ import annotations

from typing import Any

import torch

from ganinv.core.registry import METRICS
from ganinv.metrics import inception_features
from ganinv.metrics.base import MetricResult
from ganinv.metrics.feature_stats import FeatureMoments, frechet_distance


@METRICS.register("fid")
class FIDMetric(inception_features.FeatureSetsMetric):
    """`feature_extractor`: images [B, 3, H, W] in [-1, 1] -> [B, feature_dim] (default: the
    FID Inception with the installed ``inception_fid`` weights)."""

    name = "fid"
    higher_is_better = False

    def __init__(
        self, feature_extractor: Any = None, feature_dim: int = 2048, quantize: bool = False
    ) -> None:
        super().__init__(feature_extractor, quantize)
        self.feature_dim = feature_dim
        self.reset()

    def reset(self) -> None:
        self.real = FeatureMoments(self.feature_dim)
        self.fake = FeatureMoments(self.feature_dim)

    def state(self) -> dict[str, torch.Tensor]:
        return {**self.real.state("real_"), **self.fake.state("fake_")}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.real.load_state(state, "real_")
        self.fake.load_state(state, "fake_")

    def compute(self) -> MetricResult:
        mu1, sigma1 = self.real.mean_and_covariance()
        mu2, sigma2 = self.fake.mean_and_covariance()
        value = frechet_distance(mu1, sigma1, mu2, sigma2)
        return MetricResult(self.name, value, self.protocol(), self.higher_is_better)

    def protocol(self) -> dict[str, Any]:
        return {
            **inception_features.protocol(self.quantize, self.custom),
            "statistics": "float64 streaming mean / unbiased covariance per set",
            "sets": "real images vs their reconstructions",
            "images": int(self.real.count),
        }
