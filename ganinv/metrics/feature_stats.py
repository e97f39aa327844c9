"""Streaming Gaussian statistics of features and the Frechet distance between two of them.

`FeatureMoments` keeps the count, the sum and the sum of outer products in float64: fixed size
(D + D^2 numbers), sum-reducible, and exact (mean and covariance are recovered without keeping
features). The covariance is the unbiased one (ddof = 1), as numpy.cov in pytorch-fid.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from ganinv.core.errors import GanInvError


class FeatureMoments:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.count = torch.zeros((), dtype=torch.float64)
        self.sum = torch.zeros(dim, dtype=torch.float64)
        self.outer = torch.zeros(dim, dim, dtype=torch.float64)

    def update(self, features: torch.Tensor) -> None:
        """Add features [N, dim]."""
        f = features.detach().double().cpu()
        if f.ndim != 2 or f.shape[1] != self.dim:
            raise GanInvError(f"expected features [N, {self.dim}], got {tuple(f.shape)}")
        self.count += f.shape[0]
        self.sum += f.sum(dim=0)
        self.outer += f.T @ f

    def mean_and_covariance(self) -> tuple[np.ndarray, np.ndarray]:
        n = float(self.count)
        if n < 2:
            raise GanInvError(f"need at least 2 feature vectors for a covariance, got {int(n)}")
        mu = self.sum / n
        cov = (self.outer - n * torch.outer(mu, mu)) / (n - 1)
        return mu.numpy(), cov.numpy()

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        return {
            f"{prefix}count": self.count,
            f"{prefix}sum": self.sum,
            f"{prefix}outer": self.outer,
        }

    def load_state(self, state: dict[str, torch.Tensor], prefix: str) -> None:
        self.count = state[f"{prefix}count"].double().cpu().reshape(())
        self.sum = state[f"{prefix}sum"].double().cpu()
        self.outer = state[f"{prefix}outer"].double().cpu()


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), computed as pytorch-fid does.

    A singular product gets ``eps`` added to both diagonals; a matrix square root with a
    non-negligible imaginary part is an error.
    """
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise GanInvError(
                f"FID: the covariance square root has an imaginary part "
                f"{np.max(np.abs(covmean.imag)):.3g}; use more images than feature dimensions"
            )
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))
