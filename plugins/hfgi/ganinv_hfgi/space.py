"""The ``hfgi`` space: W+ plus the distortion map of the base inversion, rendered through HFGI.

A code holds
- ``wplus``      [B, num_ws, w_dim]: the W+ codes w (e4e's, or moved by an edit);
- ``distortion`` [B, 3, S, S]: the distortion map D = x - G(w_0) of the original inversion, at the
  distortion resolution S (256 in the paper).

Rendering (released ``psp.forward`` and ``scripts/inference.py``): the plain image G(w), clamped
and resized bilinearly to S; ADA aligns D to it; the consultation encoder reads the aligned map
and gives a scale gamma and a shift beta; G is run again with the same w and the output feature
F of the modulated layer (the paper: the first, upsampling conv of the 64 px block) replaced by
``F * (1 + gamma) + beta``. Editing moves w only (`apply_direction` and `blend` from W+, the
distortion kept), so an edited code renders through ADA with G(w_edit), as HFGI edits.

The space owns ADA and the consultation encoder (`branch.HFGIBranch`, built from this space's
settings, in eval mode); the ``hfgi`` encoder trains them, and an exported ``hfgi`` encoder
carries their weights. A space built alone renders with untrained networks (with `zero_init`: the
plain G(w)); to render or edit real HFGI codes, build the method from the exported encoder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from ganinv_baselines.noise import is_noise_key, noise_override
from ganinv_baselines.wplus_space import WPlusSpace

from ganinv.core.errors import GanInvError
from ganinv.core.generator import (
    Generator,
    LayerInfo,
    NoiseMode,
    SynthesisHooks,
    first_feature_layer,
)
from ganinv.core.space import Code
from ganinv.core.weight_offsets import hooks_with_active_offsets
from ganinv_hfgi.alignment import PAPER_WIDTHS as ADA_WIDTHS
from ganinv_hfgi.branch import HFGIBranch
from ganinv_hfgi.consultation import PAPER_WIDTHS as CONSULTATION_WIDTHS

DISTORTION_KEY = "distortion"


class Modulate(SynthesisHooks):
    """``F * (1 + scale) + shift`` on the output feature of layer `layer_name`."""

    def __init__(self, layer_name: str, scale: torch.Tensor, shift: torch.Tensor) -> None:
        self.layer_name = layer_name
        self.scale = scale
        self.shift = shift

    def feature(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor:
        if layer.name != self.layer_name:
            return x
        return x * (1 + self.scale) + self.shift


class HFGISpace(WPlusSpace):
    """W+ plus a distortion map, rendered through ADA and the consultation branch (``hfgi``).

    feature_resolution: output size of the modulated layer (paper at 1024 px: 64); e.g. 16 at 32 px.
    distortion_resolution: size S of the distortion map and of ADA's input (paper: 256).
    alignment_widths: ADA's four widths (paper [16, 32, 48, 64]).
    consultation_widths: the consultation encoder's widths (paper [32, 48, 64]).
    head_hidden: hidden channels of the scale/shift heads (default: the layer's channels, as in
        the paper's 512).
    zero_init: start the heads at zero (the space then renders exactly G(w) until trained)
        instead of the paper's default initialisation.
    blend_crossover, w_std_samples: as for ``wplus``; blending keeps the structure image's
        distortion map (it is spatially aligned with that image).
    """

    name = "hfgi"

    def __init__(
        self,
        generator: Generator,
        feature_resolution: int = 64,
        distortion_resolution: int = 256,
        alignment_widths: list[int] | None = None,
        consultation_widths: list[int] | None = None,
        head_hidden: int | None = None,
        zero_init: bool = False,
        blend_crossover: int | None = None,
        w_std_samples: int = 10000,
    ) -> None:
        super().__init__(generator, blend_crossover, w_std_samples)
        if not 8 <= int(distortion_resolution) <= 4096:
            raise GanInvError(
                f"distortion_resolution must be in [8, 4096] (paper: 256), got "
                f"{distortion_resolution}"
            )
        if head_hidden is not None and not 1 <= int(head_hidden) <= 4096:
            raise GanInvError(f"head_hidden must be in [1, 4096] or null, got {head_hidden}")
        self.feature_resolution = int(feature_resolution)
        self.distortion_resolution = int(distortion_resolution)
        self.layer = first_feature_layer(
            generator, self.feature_resolution, "for HFGI's conditions"
        )
        self.branch = HFGIBranch(
            self.layer.out_channels,
            tuple(alignment_widths or ADA_WIDTHS),
            tuple(consultation_widths or CONSULTATION_WIDTHS),
            head_hidden,
        )
        if zero_init:
            self.branch.consultation.zero_init_()
        # Rendering alone uses BatchNorm's running statistics; the hfgi encoder switches the
        # branch to training mode while it trains.
        # Frozen unless the hfgi encoder adopts it (an optimiser of codes leaves it alone).
        self.branch.to(generator.w_avg.device).eval().requires_grad_(False)
        self._last_alignment: tuple[torch.Tensor, torch.Tensor] | None = None
        self._plain_cache: tuple[torch.Tensor, int, str, torch.Tensor] | None = None

    # -- parts ----------------------------------------------------------------------------------
    def distortion_shape(self) -> tuple[int, int, int]:
        s = self.distortion_resolution
        return (3, s, s)

    def make_code(self, latent: torch.Tensor, distortion: torch.Tensor | None = None) -> Code:
        """A code from W+ [B, num_ws, w_dim] and a distortion map [B, 3, S, S] (zeros: None)."""
        code = super().make_code(latent)
        if distortion is None:
            distortion = latent.new_zeros((latent.shape[0], *self.distortion_shape()))
        shape = self.distortion_shape()
        self.add_part(code, DISTORTION_KEY, distortion, shape, "hfgi distortion map")
        code.meta = {"feature_layer": self.layer.name}
        return code

    def distortion(self, code: Code) -> torch.Tensor:
        shape = self.distortion_shape()
        mismatch = (
            f"this space reads [B, {', '.join(map(str, shape))}]; set distortion_resolution as "
            "when the code was made"
        )
        return self.required_part(code, DISTORTION_KEY, shape, "distortion map", mismatch)

    def init_code(self, batch_size: int) -> Code:
        """w_avg in every layer and no distortion."""
        g = self.generator
        return self.make_code(g.w_avg.detach().expand(batch_size, g.num_ws, g.w_dim).clone())

    # -- rendering ------------------------------------------------------------------------------
    def plain_at_distortion_size(
        self, wplus: torch.Tensor, noise_mode: NoiseMode = "const", reuse: bool = False
    ) -> torch.Tensor:
        """G(wplus) without conditions, clamped to [-1, 1] and resized bilinearly to S.

        reuse: return the previous result when it was computed without gradients for the same
        memory, unchanged since (the hfgi encoder's first pass, rendered right after it, also
        after `Code.detach`).
        """
        # Weight offsets of the code being rendered change G itself: nothing is reused or kept.
        plain_generator = hooks_with_active_offsets(None) is None
        cached = self._plain_cache
        if reuse and plain_generator and cached is not None and not wplus.requires_grad:
            source, version, mode, image = cached
            same = (
                mode == noise_mode
                and wplus.data_ptr() == source.data_ptr()
                and wplus.shape == source.shape
                and wplus.stride() == source.stride()
                and wplus.dtype == source.dtype
                and wplus.device == source.device
                and wplus._version == source._version == version
            )
            if same:
                return image  # the encoder's first pass on these very codes
        image = self.generator.synthesize(wplus, noise_mode=noise_mode).clamp(-1, 1)
        s = self.distortion_resolution
        if image.shape[-1] != s or image.shape[-2] != s:
            image = F.interpolate(image, size=(s, s), mode="bilinear", align_corners=False)
        # Only a deterministic, gradient-free result is kept. Holding `wplus` keeps its memory
        # from being reused by another tensor; `detach()` shares memory and version counter, so
        # an in-place change through any view is seen.
        if plain_generator and not torch.is_grad_enabled() and noise_mode == "const":
            self._plain_cache = (wplus, wplus._version, noise_mode, image)
        else:
            self._plain_cache = None
        return image

    def render(self, code: Code, noise_mode: NoiseMode = "const") -> torch.Tensor:
        """G(w; gamma, beta) with (gamma, beta) = E_c(ADA(D, G(w) at S)): images [B, 3, R, R]."""
        wplus = self.latent(code)
        distortion = self.distortion(code)
        noises = {k: v for k, v in code.tensors.items() if is_noise_key(k)}
        with noise_override(self.generator, noises if noise_mode == "const" else {}):
            plain = self.plain_at_distortion_size(wplus, noise_mode, reuse=not noises)
            aligned, scale, shift = self.branch(distortion, plain, self.layer.resolution)
            hooks = Modulate(self.layer.name, scale, shift)
            image = self.generator.synthesize(wplus, hooks=hooks, noise_mode=noise_mode)
        # Kept for the encoder's alignment loss on this very render (training only).
        training = torch.is_grad_enabled() and self.branch.training
        self._last_alignment = (distortion, aligned) if training else None
        return image

    def last_alignment(self, distortion: torch.Tensor) -> torch.Tensor | None:
        """ADA's output of the latest training-mode render, if it read this very tensor."""
        last = self._last_alignment
        return last[1] if last is not None and last[0] is distortion else None
