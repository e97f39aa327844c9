"""The two resizes the harness applies, named so the protocol record can say which one ran."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

# The encoder-input resize lives with the Encoder interface (components use it too).
from ganinv.core.encoder import ENCODER_INPUT_RESIZE, to_encoder_input

__all__ = [
    "COMPARE_RESIZE",
    "COMPARE_RESIZE_MODES",
    "ENCODER_INPUT_RESIZE",
    "CompareResize",
    "to_encoder_input",
    "to_size_of",
]

COMPARE_RESIZE = "area (average pooling) when shrinking, bilinear when enlarging"
# How reconstructions larger or smaller than the targets are brought to their size for metrics.
# "area" suits losses and most papers; PadInv's released metric code uses "nearest" (1024 -> 256).
CompareResize = Literal["area", "nearest", "bilinear"]
COMPARE_RESIZE_MODES = {
    "area": COMPARE_RESIZE,
    "nearest": "nearest (F.interpolate default), as PadInv's released metric code",
    "bilinear": "bilinear, align_corners=False, antialias when shrinking",
}


def to_size_of(images: torch.Tensor, target: torch.Tensor, mode: str = "area") -> torch.Tensor:
    """Resize reconstructions to the targets' spatial size, to compare them pixel by pixel."""
    size = tuple(target.shape[-2:])
    if tuple(images.shape[-2:]) == size:
        return images
    shrinking = images.shape[-1] > size[-1]
    if mode == "nearest":
        return F.interpolate(images, size=size, mode="nearest")
    if mode == "bilinear":
        return F.interpolate(
            images, size=size, mode="bilinear", align_corners=False, antialias=shrinking
        )
    if shrinking:
        return F.interpolate(images, size=size, mode="area")
    return F.interpolate(images, size=size, mode="bilinear", align_corners=False)
