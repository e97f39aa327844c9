"""Inception pool3 features of [-1, 1] images, shared by FID and KID."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ganinv.losses.frozen import on_device_of
from ganinv.metrics.base import Metric
from ganinv.metrics.per_image import check_pair

FeatureExtractor = Callable[[torch.Tensor], torch.Tensor]


def default_extractor() -> torch.nn.Module:
    from ganinv.nets.fid_inception import fid_inception

    return fid_inception()


def extract(extractor: Any, images: torch.Tensor, quantize: bool) -> torch.Tensor:
    """Features [B, D]; `quantize` rounds to 8-bit levels first (as images saved to PNG)."""
    x = images.detach().float()
    if quantize:
        x = torch.round((x.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1
    if isinstance(extractor, torch.nn.Module):
        on_device_of(extractor, x)
    with torch.no_grad():
        return extractor(x)


def protocol(quantize: bool, custom: bool) -> dict[str, Any]:
    if custom:
        network = "custom feature extractor"
    else:
        network = "FID Inception-v3 pool3 2048-d (pytorch-fid pt_inception-2015-12-05)"
    return {
        "network": network,
        "resize": "bilinear to 299x299, align_corners=False (pytorch-fid)",
        "range": "[-1, 1] in, [0, 1] -> 2x - 1 inside the network",
        "quantize_uint8": quantize,
    }


class FeatureSetsMetric(Metric):
    """A metric over the feature sets of the real and the reconstructed images (FID, KID).

    Subclasses create ``self.real`` and ``self.fake`` in `reset` (objects with ``update(features)``)
    and compute the statistic from them.
    """

    def __init__(self, feature_extractor: Any, quantize: bool) -> None:
        self.custom = feature_extractor is not None
        self.extractor = feature_extractor or default_extractor()
        self.quantize = quantize

    def update(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        check_pair(self.name, real, fake)
        self.update_features(
            extract(self.extractor, real, self.quantize),
            extract(self.extractor, fake, self.quantize),
        )

    def update_features(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """Add precomputed features [N, feature_dim] of each set."""
        self.real.update(real)
        self.fake.update(fake)
