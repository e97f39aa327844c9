"""The `Generator` interface and the synthesis hooks through which inversion methods plug in.

A generator is frozen and pretrained. Spaces address its synthesis layers through `layers`
(a list of `LayerInfo`) and change what it computes only through a `SynthesisHooks` object passed
to `synthesize`, so `Generator.forward` never grows method-specific arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ganinv.core.errors import GanInvError

LayerKind = Literal["const", "conv", "conv_up", "torgb"]
NoiseMode = Literal["const", "random", "none"]


@dataclass(frozen=True)
class LayerInfo:
    """One synthesis layer, described independently of the implementation.

    index:        position in `Generator.layers` (const input first)
    name:         the implementation's module name (e.g. ``b16.conv1``)
    resolution:   spatial size of the layer's output
    in_channels:  channels of the layer's input feature
    out_channels: channels of the layer's output feature
    kind:         ``const`` (learned 4x4 input), ``conv`` (3x3, no resampling),
                  ``conv_up`` (3x3 with 2x upsampling), ``torgb`` (1x1 to image)
    w_index:      which of the ``num_ws`` codes styles this layer (-1 for ``const``)
    """

    index: int
    name: str
    resolution: int
    in_channels: int
    out_channels: int
    kind: LayerKind
    w_index: int


class SynthesisHooks:
    """Called by `Generator.synthesize` at fixed points; the defaults change nothing.

    Subclass and override only what you need. Passing ``hooks=None`` takes the plain path, which
    costs nothing; a `SynthesisHooks()` with no overrides gives bit-identical output. Maps given
    to a hook may be channels-last (the StyleGAN2 synthesis runs so on CPU): reshape them rather
    than `view`; any layout may be returned.
    """

    def const_input(self, const: torch.Tensor) -> torch.Tensor:
        """The constant input [B, C, 4, 4] (broadcast over the batch); return a replacement."""
        return const

    def padding(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor | None:
        """Border for a ``conv`` layer (3x3, no resampling) instead of zero padding.

        `x` is the layer's input after style modulation, [B, C_in, R, R]. Return None for zero
        padding, or a map [B, C_in, S, S] with S >= R + 2: the generator centre-crops it to R + 2,
        puts `x` inside and uses only the outer one-pixel ring, which is NOT multiplied by the
        style; the convolution runs without padding and is then demodulated (PadInv's semantics).
        """
        return None

    def feature(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor:
        """Each layer's output feature (after noise, bias and activation); read or replace it.

        For ``torgb`` layers `x` is the accumulated image at that resolution.
        """
        return x

    def weight_offset(self, layer: LayerInfo) -> torch.Tensor | None:
        """An offset added to the layer's weight for this synthesis, or None (shared weight).

        Asked for ``conv``, ``conv_up`` and ``torgb`` layers. Return [B, *W.shape] (one tuned
        weight per image: image b uses ``W + offset[b]``) or [1, *W.shape] (one for the batch),
        W being `Generator.weight_parameters()[layer.name]`, before the style modulation.
        Codes carry such offsets as parts (`ganinv.core.weight_offsets`).
        """
        return None


class Generator(nn.Module):
    """A pretrained generator behind one API. Images are [B, 3, R, R] in [-1, 1].

    Attributes every implementation sets: ``z_dim``, ``w_dim``, ``num_ws``, ``resolution``,
    ``img_channels``, ``layers`` (list of `LayerInfo`) and the buffer ``w_avg`` [w_dim].
    """

    z_dim: int
    w_dim: int
    num_ws: int
    resolution: int
    img_channels: int
    layers: list[LayerInfo]
    w_avg: torch.Tensor

    def mapping(
        self,
        z: torch.Tensor,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor:
        """[B, z_dim] -> ws [B, num_ws, w_dim]; truncation pulls toward `w_avg`
        (only the first `truncation_cutoff` codes when given)."""
        raise NotImplementedError

    def synthesize(
        self,
        ws: torch.Tensor,
        hooks: SynthesisHooks | None = None,
        noise_mode: NoiseMode = "const",
    ) -> torch.Tensor:
        """ws [B, num_ws, w_dim] -> images [B, img_channels, resolution, resolution]."""
        raise NotImplementedError

    def forward(
        self,
        z: torch.Tensor,
        truncation_psi: float = 1.0,
        noise_mode: NoiseMode = "const",
    ) -> torch.Tensor:
        return self.synthesize(self.mapping(z, truncation_psi), noise_mode=noise_mode)

    def weight_parameters(self) -> dict[str, nn.Parameter]:
        """Layer name -> the weight a `SynthesisHooks.weight_offset` adds to (the layers whose
        weights a code may offset). Default: none, so codes with weight offsets are refused."""
        return {}

    def layer(self, name: str) -> LayerInfo:
        """Look a layer up by its name."""
        for info in self.layers:
            if info.name == name:
                return info
        raise KeyError(f"no synthesis layer {name!r}; layers: {[i.name for i in self.layers]}")


def first_feature_layer(generator: Generator, resolution: int, purpose: str) -> LayerInfo:
    """The first feature layer (const, conv_up or conv: not toRGB) whose output is `resolution`
    px, where SDIC adds its residual and HFGI modulates. A generator without one raises a
    `GanInvError` that names `purpose` (e.g. "for SDIC's compensation") and the sizes it has."""
    for info in generator.layers:
        if info.resolution == resolution and info.kind != "torgb":
            return info
    available = sorted({i.resolution for i in generator.layers})
    raise GanInvError(
        f"the generator has no synthesis layer at {resolution} px {purpose}; set "
        f"feature_resolution to one of {available}"
    )
