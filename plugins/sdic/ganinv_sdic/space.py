"""The ``sdic`` space: W+ plus a residual added to one synthesis feature.

A code holds
- ``wplus``    [B, num_ws, w_dim]: the (compensated) W+ codes w';
- ``residual`` [B, C, R, R]: the feature compensation F' - F at the compensation layer (SDIC: the
  first 64 px conv, rosinality's ``convs[6]``; here the first conv at ``feature_resolution``).

Rendering synthesises w' and adds the residual to that layer's output feature (a feature hook).
Editing moves w' and keeps the residual, so the edited image renders with
``F'_e = F_e + (F' - F)``: SDIC's transfer of the compensation to the edited feature
(``scripts/inference.py``: ``F'_e = F' - G7 + G7_e``). A zero residual renders exactly what W+
renders.
"""

from __future__ import annotations

import torch
from ganinv_baselines.noise import is_noise_key, noise_override
from ganinv_baselines.wplus_space import WPlusSpace

from ganinv.core.generator import (
    Generator,
    LayerInfo,
    NoiseMode,
    SynthesisHooks,
    first_feature_layer,
)
from ganinv.core.space import Code

RESIDUAL_KEY = "residual"


class AddResidual(SynthesisHooks):
    """Adds `residual` [B, C, R, R] to the output feature of layer `layer_name`."""

    def __init__(self, layer_name: str, residual: torch.Tensor) -> None:
        self.layer_name = layer_name
        self.residual = residual

    def feature(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor:
        return x + self.residual if layer.name == self.layer_name else x


class CaptureFeature(SynthesisHooks):
    """Keeps the output feature of layer `layer_name` (``self.captured``), changing nothing."""

    def __init__(self, layer_name: str) -> None:
        self.layer_name = layer_name
        self.captured: torch.Tensor | None = None

    def feature(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor:
        if layer.name == self.layer_name:
            self.captured = x
        return x


class SDICSpace(WPlusSpace):
    """W+ plus a feature residual (registered as space ``sdic``).

    feature_resolution: output size of the compensated layer (SDIC at 1024 px: 64, the first conv
        of the 64 px block); for small generators e.g. 16 or 32.
    blend_crossover, w_std_samples: as for ``wplus``. Blending keeps the structure image's
        residual (it is spatially aligned with that image).
    """

    name = "sdic"

    def __init__(
        self,
        generator: Generator,
        feature_resolution: int = 64,
        blend_crossover: int | None = None,
        w_std_samples: int = 10000,
    ) -> None:
        super().__init__(generator, blend_crossover, w_std_samples)
        self.feature_resolution = feature_resolution
        self.layer = first_feature_layer(generator, feature_resolution, "for SDIC's compensation")

    # -- parts ----------------------------------------------------------------------------------
    def residual_shape(self) -> tuple[int, int, int]:
        return (self.layer.out_channels, self.layer.resolution, self.layer.resolution)

    def make_code(self, latent: torch.Tensor, residual: torch.Tensor | None = None) -> Code:
        """A code from W+ [B, num_ws, w_dim] and a residual [B, C, R, R] (zeros when None)."""
        code = super().make_code(latent)
        if residual is None:
            residual = latent.new_zeros((latent.shape[0], *self.residual_shape()))
        where = f" (layer {self.layer.name})"
        self.add_part(code, RESIDUAL_KEY, residual, self.residual_shape(), "sdic residual", where)
        code.meta = {"feature_layer": self.layer.name}
        return code

    def residual(self, code: Code) -> torch.Tensor:
        shape = ", ".join(map(str, self.residual_shape()))
        mismatch = (
            f"this space compensates layer {self.layer.name} of shape [B, {shape}]; set "
            "feature_resolution as when the code was made"
        )
        return self.required_part(code, RESIDUAL_KEY, self.residual_shape(), "residual", mismatch)

    def init_code(self, batch_size: int) -> Code:
        """w_avg in every layer and no compensation."""
        g = self.generator
        return self.make_code(g.w_avg.detach().expand(batch_size, g.num_ws, g.w_dim).clone())

    # -- rendering ------------------------------------------------------------------------------
    def render(self, code: Code, noise_mode: NoiseMode = "const") -> torch.Tensor:
        """G(w', F(w') + residual): images [B, 3, R, R]; noise parts as in the baseline spaces."""
        wplus = self.latent(code)
        hooks = AddResidual(self.layer.name, self.residual(code))
        noises = {k: v for k, v in code.tensors.items() if is_noise_key(k)}
        with noise_override(self.generator, noises if noise_mode == "const" else {}):
            return self.generator.synthesize(wplus, hooks=hooks, noise_mode=noise_mode)

    def render_with_feature(
        self, wplus: torch.Tensor, noise_mode: NoiseMode = "const"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(G(wplus) [B, 3, R, R], its feature at the compensation layer [B, C, r, r])."""
        hooks = CaptureFeature(self.layer.name)
        image = self.generator.synthesize(wplus, hooks=hooks, noise_mode=noise_mode)
        assert hooks.captured is not None
        return image, hooks.captured
