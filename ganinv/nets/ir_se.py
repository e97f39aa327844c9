"""IR-SE residual blocks (ArcFace IR-SE-50 and the pSp / PadInv encoder backbones).

Module and attribute names follow pSp's ``models/encoders/helpers.py`` (from TreB1eN's
InsightFace_Pytorch) so that the public ``model_ir_se50.pth`` state dict loads with strict key
matching: ``input_layer.*``, ``body.<i>.shortcut_layer.*``, ``body.<i>.res_layer.<j>.*`` and, in the
SE module, ``fc1`` / ``fc2``. Encoders built on these blocks tap the flat ``body`` at the ends of
stages (`stage_end_indices`), as pSp's GradualStyleEncoder does (indices 6, 20, 23 for depth 50).

For CPU-sized encoders (tests, demos) `stage_specs` takes smaller per-stage block counts and widths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ganinv.core.errors import GanInvError

# Blocks per stage for the standard depths (pSp/TreB1eN `get_blocks`).
STAGE_UNITS: dict[int, tuple[int, int, int, int]] = {
    50: (3, 4, 14, 3),
    100: (3, 13, 30, 3),
    152: (3, 8, 36, 3),
}
STAGE_WIDTHS: tuple[int, int, int, int] = (64, 128, 256, 512)
SE_REDUCTION = 16


@dataclass(frozen=True)
class BlockSpec:
    """One bottleneck: input channels, output channels (pSp calls it ``depth``) and stride."""

    in_channel: int
    depth: int
    stride: int


def stage_specs(
    num_layers: int | None = 50,
    units: tuple[int, ...] | None = None,
    widths: tuple[int, ...] = STAGE_WIDTHS,
    stem_channels: int | None = None,
) -> list[list[BlockSpec]]:
    """Per-stage block specs; the first block of each stage has stride 2.

    Give `num_layers` (50, 100, 152) for the standard layouts, or `units` (blocks per stage, e.g.
    ``(1, 1, 1, 1)``) with optional smaller `widths` for a small encoder. The first stage takes
    `stem_channels` inputs (default: the first width, as the 64-channel stem of IR-SE-50).
    """
    if units is None:
        if num_layers not in STAGE_UNITS:
            raise ValueError(
                f"IR-SE depth {num_layers} is not one of {sorted(STAGE_UNITS)}; pass `units` for a "
                "custom depth"
            )
        units = STAGE_UNITS[num_layers]
    if len(units) != len(widths) or any(u < 1 for u in units):
        raise ValueError(f"units {units} and widths {widths} must have the same length, units >= 1")
    in_channel = widths[0] if stem_channels is None else stem_channels
    stages = []
    for count, width in zip(units, widths):
        blocks = [BlockSpec(in_channel, width, 2)]
        blocks += [BlockSpec(width, width, 1) for _ in range(count - 1)]
        stages.append(blocks)
        in_channel = width
    return stages


def encoder_stages(
    num_layers: int | None,
    units: Sequence[int] | None,
    widths: Sequence[int],
    owner: str,
    settings: str = "IR-SE backbone settings",
) -> list[list[BlockSpec]]:
    """`stage_specs` from an encoder's config arguments: `num_layers` or `units` (a list, or
    None) and four `widths`. A mistake raises a `GanInvError`: "<owner> needs 4 stage widths" or
    "<settings>: <what stage_specs refused>"."""
    widths = tuple(widths)
    if len(widths) != 4:
        raise GanInvError(f"{owner} needs 4 stage widths, got {list(widths)}")
    try:
        return stage_specs(num_layers, tuple(units) if units else None, widths)
    except ValueError as exc:
        raise GanInvError(f"{settings}: {exc}") from exc


def stage_end_indices(stages: list[list[BlockSpec]]) -> list[int]:
    """Index in the flat body of the last block of each stage ([2, 6, 20, 23] for depth 50)."""
    ends, total = [], 0
    for blocks in stages:
        total += len(blocks)
        ends.append(total - 1)
    return ends


class SEModule(nn.Module):
    """Squeeze-and-excitation: channel gates from global average pooling (1x1 convs, no bias)."""

    def __init__(self, channels: int, reduction: int = SE_REDUCTION) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, kernel_size=1, padding=0, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, kernel_size=1, padding=0, bias=False)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))
        return x * gate


def _shortcut(in_channel: int, depth: int, stride: int) -> nn.Module:
    # Same width: identity (a 1x1 max-pool only subsamples). Else a strided 1x1 conv + BN.
    if in_channel == depth:
        return nn.MaxPool2d(1, stride)
    return nn.Sequential(
        nn.Conv2d(in_channel, depth, (1, 1), stride, bias=False),
        nn.BatchNorm2d(depth),
    )


def _residual(in_channel: int, depth: int, stride: int, squeeze_excite: bool) -> nn.Sequential:
    """BN -> conv3x3 -> PReLU -> conv3x3 (stride) -> BN [-> SE], as ``res_layer.<i>``."""
    layers: list[nn.Module] = [
        nn.BatchNorm2d(in_channel),
        nn.Conv2d(in_channel, depth, (3, 3), (1, 1), 1, bias=False),
        nn.PReLU(depth),
        nn.Conv2d(depth, depth, (3, 3), stride, 1, bias=False),
        nn.BatchNorm2d(depth),
    ]
    if squeeze_excite:
        layers.append(SEModule(depth, SE_REDUCTION))
    return nn.Sequential(*layers)


class bottleneck_IR(nn.Module):  # pSp/TreB1eN class name
    """IR block: BN -> conv3x3 -> PReLU -> conv3x3 (stride) -> BN, plus the shortcut."""

    def __init__(self, in_channel: int, depth: int, stride: int) -> None:
        super().__init__()
        self.shortcut_layer = _shortcut(in_channel, depth, stride)
        self.res_layer = _residual(in_channel, depth, stride, squeeze_excite=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


class bottleneck_IR_SE(nn.Module):  # pSp/TreB1eN class name
    """IR-SE block: the IR block followed by squeeze-and-excitation (reduction 16).

    [B, in_channel, H, W] -> [B, depth, ceil(H / stride), ceil(W / stride)].
    """

    def __init__(self, in_channel: int, depth: int, stride: int) -> None:
        super().__init__()
        self.shortcut_layer = _shortcut(in_channel, depth, stride)
        self.res_layer = _residual(in_channel, depth, stride, squeeze_excite=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


def input_layer(out_channels: int = 64, in_channels: int = 3) -> nn.Sequential:
    """The stem: conv3x3 (no bias) -> BN -> PReLU (``input_layer.{0,1,2}``)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, (3, 3), 1, 1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.PReLU(out_channels),
    )


def build_body(stages: list[list[BlockSpec]], use_se: bool = True) -> nn.Sequential:
    """The flat ``body`` Sequential of all blocks, in stage order (pSp's layout)."""
    block = bottleneck_IR_SE if use_se else bottleneck_IR
    return nn.Sequential(*[block(b.in_channel, b.depth, b.stride) for s in stages for b in s])


class Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], -1)


class IRSEBackbone(nn.Module):
    """The ArcFace recognition network (TreB1eN / pSp ``Backbone``), 112x112 input.

    Input: aligned face crops [B, 3, 112, 112] in [-1, 1]. Output: L2-normalised embeddings
    [B, 512]. Keys match ``model_ir_se50.pth`` for ``num_layers=50, mode="ir_se"``.
    """

    def __init__(
        self,
        num_layers: int = 50,
        mode: str = "ir_se",
        drop_ratio: float = 0.6,
        input_size: int = 112,
        embedding_dim: int = 512,
    ) -> None:
        super().__init__()
        if mode not in ("ir", "ir_se"):
            raise ValueError(f"mode must be 'ir' or 'ir_se', got {mode!r}")
        if input_size not in (112, 224):
            raise ValueError(f"input_size must be 112 or 224, got {input_size}")
        stages = stage_specs(num_layers)
        self.input_layer = input_layer(64)
        self.body = build_body(stages, use_se=mode == "ir_se")
        spatial = input_size // 16  # four stride-2 stages
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512),
            nn.Dropout(drop_ratio),
            Flatten(),
            nn.Linear(512 * spatial * spatial, embedding_dim),
            nn.BatchNorm1d(embedding_dim, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.output_layer(self.body(self.input_layer(x)))
        return nn.functional.normalize(x, p=2, dim=1)
