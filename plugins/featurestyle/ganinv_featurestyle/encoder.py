"""The Feature-Style encoder (Yao et al., ECCV 2022; InterDigitalInc/FeatureStyleEncoder).

Forward: the backbone's four stage outputs feed
- the style branch: W+ = w_avg + one linear layer per code on the 3x3-pooled stages;
- the feature branch (on stage `feature_stage`, FSE: the third): F at the space's layer.
The code is ``{wplus, feature}`` of space ``fspace``.

While training, the feature put into the code is ``(1 - s) G_k(w) + s F`` with
``s = min(1, step / blend_steps)`` (FSE's ``feature_scale = min(1, 1e-4 * iteration)``, a ramp
over 10 000 steps), so training starts from the W+ image and hands over to F; G_k(w) keeps its
graph, as in FSE where the generator computes it in the same forward. In eval mode s = 1. The step
count is saved through `auxiliary_state`, so a resumed run continues the ramp exactly.

Training term (`extra_losses`, weight ``extra_loss_weights.f_recon``, FSE 0.01): ``f_recon`` =
MSE(F, G_k(w) detached), the raw predicted F against the generator's own feature of the predicted w.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from ganinv_baselines.encoder_common import check_input, load_backbone_weights, require_own_space

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.nets.ir_se import STAGE_WIDTHS
from ganinv_featurestyle.branches import FeatureBranch, StageBackbone, StyleBranch


class FeatureStyleEncoder(Encoder):
    """Images [B, 3, R, R] in [-1, 1] -> codes of space ``fspace`` (encoder ``feature_style``).

    input_resolution: input size (FSE: 256, the 1024 image halved twice); divisible by 16.
    num_layers / units / widths: IR-SE backbone as for ``psp`` (FSE: ArcFace iResNet-50; here
        IR-SE-50, whose stages have the same sizes); backbone_weights as for ``psp``.
    feature_stage: which stage (0-3, at R/2 .. R/16) feeds the feature branch (FSE: 2, the
        32 px stage of a 256 px input); its size must be the feature layer's or twice it (the
        branch's last conv then has stride 2, as FSE's ``fs_stride = 2``).
    pool_size: pooled size of every stage for the style branch (FSE: 3).
    blend_steps: training steps over which F replaces G_k(w) (FSE: 10 000).
    """

    def __init__(
        self,
        space: InversionSpace,
        input_resolution: int = 256,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | None = None,
        backbone_weights: str | None = None,
        feature_stage: int = 2,
        pool_size: int = 3,
        blend_steps: int = 10000,
    ) -> None:
        super().__init__(space)
        require_own_space(space, "fspace", "generator_feature", "feature_style")
        if input_resolution < 16 or input_resolution % 16:
            raise GanInvError(
                f"feature_style: input_resolution must be a multiple of 16, got {input_resolution}"
            )
        if not 0 <= feature_stage <= 3:
            raise GanInvError(f"feature_style: feature_stage must be 0-3, got {feature_stage}")
        if blend_steps < 0:
            raise GanInvError(f"feature_style: blend_steps must be >= 0, got {blend_steps}")
        g = space.generator
        self.input_resolution = input_resolution
        self.backbone = StageBackbone(num_layers, units, widths or list(STAGE_WIDTHS))
        if backbone_weights:
            load_backbone_weights(self.backbone, backbone_weights)
        self.style = StyleBranch(self.backbone.widths, g.num_ws, g.w_dim, pool_size)
        channels, size, _ = space.feature_shape()
        stage_size = input_resolution >> (feature_stage + 1)
        if stage_size not in (size, 2 * size):
            raise GanInvError(
                f"feature_style: stage {feature_stage} is {stage_size} px for a {input_resolution} "
                f"px input, but the fspace layer {space.layer.name} is {size} px; pick a "
                f"feature_stage whose size is {size} or {2 * size} px"
            )
        self.feature = FeatureBranch(
            self.backbone.widths[feature_stage], channels, stage_size // size
        )
        self.feature_stage = feature_stage
        self.blend_steps = blend_steps
        self.steps_seen = 0  # training forwards so far (the blend ramp); in auxiliary_state
        self._last: dict[str, torch.Tensor] = {}

    def blend_scale(self) -> float:
        """s of the blend (1 outside training and once the ramp is over)."""
        if not self.training or self.blend_steps == 0:
            return 1.0
        return min(1.0, self.steps_seen / self.blend_steps)

    def forward(self, images: torch.Tensor) -> Code:
        check_input(images, self.input_resolution, "feature_style")
        stages = self.backbone(images)
        wplus = self.style(stages) + self.space.generator.w_avg.to(images)
        predicted = self.feature(stages[self.feature_stage])
        scale = self.blend_scale()
        if self.training:
            if scale < 1.0:
                own = self.space.generator_feature(wplus)
            else:  # only the f_recon target: no graph needed
                with torch.no_grad():
                    own = self.space.generator_feature(wplus)
            feature = predicted if scale >= 1.0 else (1 - scale) * own + scale * predicted
            self._last = {"predicted": predicted, "own": own.detach(), "wplus": wplus}
            self.steps_seen += 1
        else:
            feature = predicted
            self._last = {}
        return self.space.make_code(wplus, feature)

    def extra_losses(self, code: Code) -> dict[str, torch.Tensor]:
        last = self._last
        if not last or code["wplus"] is not last["wplus"]:
            raise GanInvError(
                "feature_style extra_losses needs the code of the encoder's latest training forward"
            )
        return {"f_recon": F.mse_loss(last["predicted"], last["own"])}

    def auxiliary_state(self) -> dict[str, Any]:
        return {"steps_seen": self.steps_seen}

    def load_auxiliary_state(self, state: dict[str, Any]) -> None:
        steps = state.get("steps_seen", 0)
        if not isinstance(steps, int) or steps < 0:
            raise GanInvError(
                f"feature_style auxiliary state: steps_seen must be a count, got {steps!r}"
            )
        self.steps_seen = steps
