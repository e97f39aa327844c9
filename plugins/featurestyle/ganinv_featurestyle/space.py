"""The ``fspace`` space: W+ codes plus the feature of one generator layer, which replaces the
feature the generator computes there (Feature-Style encoder, ECCV 2022; StyleFeatureEditor's
F_k, CVPR 2024).

A code holds
- ``wplus``   [B, num_ws, w_dim]: the W+ codes w;
- ``feature`` [B, C, R, R]: the output feature F of the chosen layer (the layer's name is in the
  code's meta, ``feature_layer``).

Rendering synthesises w and returns F instead of the layer's own output, so every later layer
(the block's toRGB included) reads F; the codes of the layers before it then act only through
their toRGB skips. A code whose F equals what the generator computes from w renders exactly the
W+ image, so the space strictly extends W+ (`from_wplus` makes such codes).

Editing (FSE's ``inference.ipynb``, SFE without its feature editor): w' = w + s n and
F' = F + G_k(w') - G_k(w), the feature moved by the change the generator itself makes at that
layer. Blending keeps the structure image's F (it fixes the spatial layout) and mixes W+ as
``wplus`` does.
"""

from __future__ import annotations

import torch
from ganinv_baselines.noise import is_noise_key, noise_override
from ganinv_baselines.wplus_space import WPlusSpace

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator, LayerInfo, NoiseMode
from ganinv.core.space import Code
from ganinv_featurestyle.hooks import CaptureAndStop, FeatureReached, ReplaceFeature

FEATURE_KEY = "feature"


def feature_layer(generator: Generator, resolution: int, layer: str | None) -> LayerInfo:
    """The named layer, else the last feature layer at `resolution` px (the block's output:
    FSE's 16 px block output at 1024 px, SFE's 64 px one)."""
    candidates = [i for i in generator.layers if i.kind != "torgb"]
    if layer is not None:
        for info in candidates:
            if info.name == layer:
                return info
        raise GanInvError(
            f"fspace: the generator has no feature layer {layer!r}; set layer to one of "
            f"{[i.name for i in candidates]}"
        )
    at = [i for i in candidates if i.resolution == resolution]
    if not at:
        available = sorted({i.resolution for i in candidates})
        raise GanInvError(
            f"fspace: the generator has no synthesis layer at {resolution} px; set "
            f"feature_resolution to one of {available}"
        )
    return at[-1]


class FSpace(WPlusSpace):
    """W+ plus one generator feature that replaces the generator's own (space ``fspace``).

    feature_resolution: the layer is the last one at this size, the block's output (FSE at
        1024 px: 16, rosinality's idx_k = 5; SFE: 64, idx_k = 9).
    layer: a generator layer name (e.g. ``b8.conv0``) instead; overrides feature_resolution.
    blend_crossover, w_std_samples: as for ``wplus``.
    """

    name = "fspace"

    def __init__(
        self,
        generator: Generator,
        feature_resolution: int = 16,
        layer: str | None = None,
        blend_crossover: int | None = None,
        w_std_samples: int = 10000,
    ) -> None:
        super().__init__(generator, blend_crossover, w_std_samples)
        self.layer = feature_layer(generator, feature_resolution, layer)

    # -- parts ----------------------------------------------------------------------------------
    def feature_shape(self) -> tuple[int, int, int]:
        return (self.layer.out_channels, self.layer.resolution, self.layer.resolution)

    def make_code(self, latent: torch.Tensor, feature: torch.Tensor | None = None) -> Code:
        """A code from W+ [B, num_ws, w_dim] and F [B, C, R, R] (G's own feature when None)."""
        code = super().make_code(latent)
        if feature is None:
            feature = self.generator_feature(latent)
        where = f" (layer {self.layer.name})"
        self.add_part(code, FEATURE_KEY, feature, self.feature_shape(), "fspace feature", where)
        code.meta = {"feature_layer": self.layer.name}
        return code

    def from_wplus(self, wplus: torch.Tensor) -> Code:
        """The code that renders exactly what W+ codes [B, num_ws, w_dim] render."""
        return self.make_code(wplus)

    def feature(self, code: Code) -> torch.Tensor:
        shape = ", ".join(map(str, self.feature_shape()))
        mismatch = (
            f"this space replaces layer {self.layer.name} of shape [B, {shape}]; build the space "
            f"with the layer the code was made for "
            f"({code.meta.get('feature_layer', 'not recorded')!r})"
        )
        return self.required_part(code, FEATURE_KEY, self.feature_shape(), "feature", mismatch)

    def init_code(self, batch_size: int) -> Code:
        """w_avg in every layer and the feature the generator computes from it (computed once
        and repeated, so every batch size starts from bit-identical rows)."""
        g = self.generator
        wplus = g.w_avg.detach().expand(batch_size, g.num_ws, g.w_dim).clone()
        with torch.no_grad():
            feature = self.generator_feature(wplus[:1])
        return self.make_code(wplus, feature.expand(batch_size, *feature.shape[1:]).clone())

    def code_part_roles(self) -> dict[str, str]:
        return {"wplus": "layers", FEATURE_KEY: "spatial"}

    # -- rendering ------------------------------------------------------------------------------
    def generator_feature(
        self, wplus: torch.Tensor, noise_mode: NoiseMode = "const"
    ) -> torch.Tensor:
        """G_k(w): the feature [B, C, R, R] the generator computes at the layer (differentiable;
        synthesis stops there)."""
        try:
            self.generator.synthesize(
                wplus, hooks=CaptureAndStop(self.layer.name), noise_mode=noise_mode
            )
        except FeatureReached as reached:
            return reached.captured
        raise GanInvError(f"fspace: synthesis never reached layer {self.layer.name}")

    def render(self, code: Code, noise_mode: NoiseMode = "const") -> torch.Tensor:
        """G(w) with F in place of the layer's output: images [B, 3, R, R]; noise parts (the
        ``optimize`` refiner's) as in the baseline spaces."""
        wplus = self.latent(code)
        hooks = ReplaceFeature(self.layer.name, self.feature(code))
        noises = {k: v for k, v in code.tensors.items() if is_noise_key(k)}
        with noise_override(self.generator, noises if noise_mode == "const" else {}):
            return self.generator.synthesize(wplus, hooks=hooks, noise_mode=noise_mode)

    # -- editing --------------------------------------------------------------------------------
    def apply_direction(self, code: Code, direction: torch.Tensor, strength: float) -> Code:
        """w' = w + strength * direction; F' = F + G_k(w') - G_k(w) (FSE's feature edit)."""
        wplus = self.latent(code)
        edited = super().apply_direction(code, direction, strength)
        new_wplus = self.latent(edited)
        shift = self.generator_feature(new_wplus) - self.generator_feature(wplus)
        edited.tensors[FEATURE_KEY] = self.feature(code) + shift
        return edited

    def blend(self, structure: Code, appearance: Code) -> Code:
        """W+ blended as ``wplus`` does; F of `structure` (its layout) broadcast to the batch."""
        feature = self.feature(structure)
        out = super().blend(structure, appearance)
        rows = out[self.latent_key].shape[0]
        out.tensors[FEATURE_KEY] = feature.expand(rows, *feature.shape[1:]).contiguous()
        return out
