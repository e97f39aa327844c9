"""Synthesis hooks of the F space: replace one layer's output feature, or read it and stop."""

from __future__ import annotations

import torch

from ganinv.core.generator import LayerInfo, SynthesisHooks


class ReplaceFeature(SynthesisHooks):
    """The output feature of layer `layer_name` becomes `feature` [B, C, R, R]; every later layer
    (including that block's toRGB) reads it instead of what the generator computed."""

    def __init__(self, layer_name: str, feature: torch.Tensor) -> None:
        self.layer_name = layer_name
        self.replacement = feature

    def feature(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor:
        return self.replacement if layer.name == self.layer_name else x


class FeatureReached(Exception):
    """Raised by `CaptureAndStop` to end synthesis once the wanted feature exists (the layers
    after it would be wasted work: at 1024 px the 16 px feature is a tiny part of the cost)."""

    def __init__(self, feature: torch.Tensor) -> None:
        super().__init__("feature reached")
        self.captured = feature


class CaptureAndStop(SynthesisHooks):
    """Raises `FeatureReached` with the output feature of layer `layer_name` (graph kept)."""

    def __init__(self, layer_name: str) -> None:
        self.layer_name = layer_name

    def feature(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor:
        if layer.name == self.layer_name:
            raise FeatureReached(x)
        return x
