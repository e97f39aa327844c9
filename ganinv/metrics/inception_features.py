"""Inception pool3 features of [-1, 1] images, shared by FID and KID."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ganinv.losses._device import on_device_of

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
