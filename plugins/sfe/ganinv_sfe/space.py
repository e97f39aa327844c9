"""The ``sfe`` space: the F space plus the base encoder's W+ codes, edited by a feature editor.

A code holds the F space's parts (ganinv_featurestyle ``fspace``: ``wplus`` [B, num_ws, w_dim]
and ``feature`` [B, C, R, R], the feature F_k that replaces layer k's output) and
- ``wbase`` [B, num_ws, w_dim]: the base encoder's (e4e's) W+ codes of the same image. Rendering
  ignores them; an edit reads them, because SFE computes the feature change from e4e's codes
  (docs/research/methods-2.md 6.3: at inference Delta comes from the e4e latents of the real input).

Editing (`apply_direction`, hence ``ganinv edit apply`` and every direction file ganinv makes:
learned, GANSpace, SeFa): with n the direction and s the strength,
  w' = w + s n,  w_E' = w_E + s n,  Delta = G_k(w_E) - G_k(w_E'),  F_k' = H(F_k, Delta),
and the edited code is (w', F_k', w_E'). H is the feature editor the ``sfe`` encoder attaches
(`attach_feature_editor`) when it is built from a phase-2 (``phase: editor``) file; editing a
code with no editor attached is refused rather than silently done another way. An edit of
strength 0 (or along a zero direction) returns the code unchanged.
"""

from __future__ import annotations

import torch
from ganinv_baselines.wplus_space import WPlusSpace
from ganinv_featurestyle.space import FEATURE_KEY, FSpace
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.space import Code

WBASE_KEY = "wbase"


class SFESpace(FSpace):
    """F space codes plus the base encoder's W+ codes (registered as space ``sfe``).

    feature_resolution, layer, blend_crossover, w_std_samples: as for ``fspace`` (SFE at 1024
    px: the 64 px block's output, k = 9).
    """

    name = "sfe"

    def __init__(
        self,
        generator: Generator,
        feature_resolution: int = 64,
        layer: str | None = None,
        blend_crossover: int | None = None,
        w_std_samples: int = 10000,
    ) -> None:
        super().__init__(generator, feature_resolution, layer, blend_crossover, w_std_samples)
        self.feature_editor: nn.Module | None = None

    def attach_feature_editor(self, editor: nn.Module | None) -> None:
        """The trained feature editor H edits run through (None detaches it)."""
        self.feature_editor = editor

    # -- parts ----------------------------------------------------------------------------------
    def make_code(
        self,
        latent: torch.Tensor,
        feature: torch.Tensor | None = None,
        wbase: torch.Tensor | None = None,
    ) -> Code:
        """A code from W+, F (G's own when None) and the base codes (a copy of W+ when None)."""
        code = super().make_code(latent, feature)
        if wbase is None:
            wbase = latent.detach().clone()
        if wbase.shape != latent.shape:
            raise GanInvError(
                f"the sfe base codes must have the W+ shape {list(latent.shape)}, got "
                f"{list(wbase.shape)}"
            )
        code.tensors[WBASE_KEY] = wbase
        return code

    def base_latent(self, code: Code) -> torch.Tensor:
        self.check(code)
        if WBASE_KEY not in code.tensors:
            raise GanInvError(
                f"code of space 'sfe' has no {WBASE_KEY!r} part (parts: {list(code.tensors)}); "
                "invert again with an sfe method"
            )
        wbase = code[WBASE_KEY]
        if wbase.shape != self.latent(code).shape:
            raise GanInvError(
                f"the code's {WBASE_KEY!r} part has shape {list(wbase.shape)}, unlike its W+ "
                f"{list(self.latent(code).shape)}"
            )
        return wbase

    def code_part_roles(self) -> dict[str, str]:
        return {**super().code_part_roles(), WBASE_KEY: "fixed"}

    def trainable(self, code: Code) -> list[torch.Tensor]:
        """W+, F and any noise maps; the base codes are data for edits, not rendered."""
        out = []
        for key, value in list(code.tensors.items()):
            if key == WBASE_KEY:
                continue
            leaf = value.detach().clone().requires_grad_(True)
            code.tensors[key] = leaf
            out.append(leaf)
        return out

    # -- editing --------------------------------------------------------------------------------
    def apply_direction(self, code: Code, direction: torch.Tensor, strength: float) -> Code:
        """(w + s n, H(F_k, G_k(w_E) - G_k(w_E + s n)), w_E + s n); see the module docstring."""
        wplus = self.latent(code)
        step = self._direction_wplus(direction.to(wplus))
        wbase = self.base_latent(code)
        feature = self.feature(code)
        if strength == 0 or not bool(step.any()):
            return Code(code.space, dict(code.tensors), dict(code.meta))
        if self.feature_editor is None:
            raise GanInvError(
                "space 'sfe' edits through the feature editor, and none is attached: edit with a "
                "method whose encoder is a phase-2 sfe encoder (phase: editor)"
            )
        edited_base = wbase + strength * step
        delta = self.generator_feature(wbase) - self.generator_feature(edited_base)
        out = WPlusSpace.apply_direction(self, code, direction, strength)
        out.tensors[FEATURE_KEY] = self.feature_editor(feature, delta)
        out.tensors[WBASE_KEY] = edited_base
        return out

    def blend(self, structure: Code, appearance: Code) -> Code:
        """As ``fspace``; the base codes are mixed at the same crossover as W+."""
        a, b = self.base_latent(structure), self.base_latent(appearance)
        out = super().blend(structure, appearance)
        a, b = torch.broadcast_tensors(a, b)
        c = self.blend_crossover
        out.tensors[WBASE_KEY] = torch.cat([a[:, :c], b[:, c:]], dim=1)
        return out
