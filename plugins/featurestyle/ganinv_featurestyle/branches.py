"""The Feature-Style encoder's networks (``nets/feature_style_encoder.py`` of
InterDigitalInc/FeatureStyleEncoder): an IR-SE backbone returning all four stage outputs, the
style branch (3x3 pooling of every stage, one linear layer per W+ code) and the feature branch."""

from __future__ import annotations

import torch
from torch import nn

from ganinv.nets.ir_se import (
    STAGE_WIDTHS,
    build_body,
    encoder_stages,
    input_layer,
    stage_end_indices,
)


class StageBackbone(nn.Module):
    """IR-SE stem + body; returns the four stage outputs at R/2, R/4, R/8, R/16 (for 256 px
    input and depth 50: 128x64, 64x128, 32x256, 16x512, FSE's iResNet-50 stages)."""

    def __init__(
        self,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | tuple[int, ...] = STAGE_WIDTHS,
    ) -> None:
        super().__init__()
        widths = tuple(widths)
        stages = encoder_stages(
            num_layers, units, widths, "feature_style", "feature_style backbone settings"
        )
        # Names as pSp's (input_layer, body), so an ArcFace IR-SE50 state dict loads into them.
        self.input_layer = input_layer(widths[0])
        self.body = build_body(stages, use_se=True)
        self.ends = set(stage_end_indices(stages))
        self.widths = widths

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.input_layer(x)
        out = []
        for i, block in enumerate(self.body):
            x = block(x)
            if i in self.ends:
                out.append(x)
        return out


class StyleBranch(nn.Module):
    """Every stage output average-pooled to pool x pool and concatenated; one linear layer per
    W+ code (FSE: 960 x 9 = 8640 -> 512, 18 layers). Output: offsets [B, num_ws, w_dim]."""

    def __init__(self, widths: tuple[int, ...], num_ws: int, w_dim: int, pool: int = 3) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(pool)
        features = sum(widths) * pool * pool
        self.linears = nn.ModuleList(nn.Linear(features, w_dim) for _ in range(num_ws))

    def forward(self, stages: list[torch.Tensor]) -> torch.Tensor:
        pooled = torch.cat([self.pool(s).flatten(1) for s in stages], dim=1)
        return torch.stack([linear(pooled) for linear in self.linears], dim=1)


class FeatureBranch(nn.Module):
    """BN, conv3x3 in->C, BN, PReLU, conv3x3 C->C (stride 1 or 2), BN: the predicted feature
    [B, C, R, R] (FSE: 256 -> 512 channels, stride 2, 32 -> 16 px)."""

    def __init__(self, in_channels: int, channels: int, stride: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, stride, 1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
