"""SFE's inverter I (phase 1): images -> W+ codes and the feature F_k (methods-2.md 6.2 in
docs/research/).

- W+ head (as the Feature-Style encoder's): each of the four stage outputs is average-pooled to
  ``pool x pool`` (3 x 3), all are concatenated and flattened, and one Linear layer per W+ row
  gives the offset added to the generator's w_avg.
- Feature head on stage 3: BN, conv3x3 -> C, BN, PReLU, conv3x3 (stride 1), BN: F_pred. When
  stage 3's size differs from the feature's (not in the paper's setting: 256 px input, 64 px F),
  F_pred is resized bilinearly to it.
- Fuser on concat(F_pred, F_w) -> F_k, F_w = G_k(w) the generator's own feature (computed by the
  caller, which owns the generator).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganinv_sfe.backbone import Backbone
from ganinv_sfe.fuser import Fuser


class Inverter(nn.Module):
    """Images [B, 3, S, S] -> (W+ [B, num_ws, w_dim], F_pred [B, C, R, R]); `fuse` gives F_k."""

    def __init__(
        self,
        num_ws: int,
        w_dim: int,
        feature_shape: tuple[int, int, int],
        units: tuple[int, ...],
        widths: tuple[int, ...],
        strides: tuple[int, ...],
        fuser_blocks: int = 5,
        pool: int = 3,
    ) -> None:
        super().__init__()
        channels = feature_shape[0]
        self.feature_size = tuple(feature_shape[1:])
        self.backbone = Backbone(units, widths, strides)
        self.pool = pool
        pooled = sum(widths) * pool * pool
        self.w_heads = nn.ModuleList([nn.Linear(pooled, w_dim) for _ in range(num_ws)])
        self.feature_head = nn.Sequential(
            nn.BatchNorm2d(widths[2]),
            nn.Conv2d(widths[2], channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.fuser = Fuser(channels, fuser_blocks)

    def forward(
        self, images: torch.Tensor, w_avg: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        stages = self.backbone(images)
        pooled = torch.cat([F.adaptive_avg_pool2d(s, self.pool).flatten(1) for s in stages], 1)
        offsets = torch.stack([head(pooled) for head in self.w_heads], dim=1)
        wplus = offsets + w_avg.reshape(1, 1, -1)
        predicted = self.feature_head(stages[2])
        if tuple(predicted.shape[-2:]) != self.feature_size:
            predicted = F.interpolate(
                predicted, size=self.feature_size, mode="bilinear", align_corners=False
            )
        return wplus, predicted

    def fuse(self, predicted: torch.Tensor, generator_feature: torch.Tensor) -> torch.Tensor:
        """F_k = Fuser(F_pred, F_w)."""
        return self.fuser(predicted, generator_feature)
