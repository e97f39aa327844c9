"""An encoder for any inversion space: pSp's pyramid plus one head per code part, as residuals.

The space's code layout is read from ``space.init_code(1)`` (part names and shapes). Each part gets
a head chosen by its role (``InversionSpace.code_part_roles()`` where the space gives one, else
inferred from the shape):

- ``vector``    [D]:       one pSp style head on the 1/16 level;
- ``layers``    [N, D]:    N pSp style heads, split over the 1/16, 1/8 and 1/4 levels as pSp's are;
- ``spatial``   [C, H, W]: two 3x3 convs on the pyramid level closest in size (the smallest one at
  least as large, else the largest), their output resized (bilinear) to H x W;
- ``fixed``:               not predicted; the part keeps its initial value.

Every prediction is added to the space's initial code and every head's last layer starts at zero,
so the untrained encoder outputs exactly ``init_code``: training starts from the space's neutral
code, as pSp starts from w_avg.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import CODE_PART_ROLES, Code, InversionSpace
from ganinv.nets.ir_se import STAGE_WIDTHS
from ganinv_baselines.encoder_common import check_input, load_backbone_weights
from ganinv_baselines.psp_parts import EqualLinear, FeaturePyramid, GradualStyleBlock, style_split

# The pyramid's levels, coarse to fine: (c3, p2, p1) at R/16, R/8, R/4.
LEVEL_DIVISORS = (16, 8, 4)


def infer_role(shape: tuple[int, ...]) -> str:
    """The head a code part of `shape` (no batch dimension) gets when the space gives no hint."""
    return {1: "vector", 2: "layers", 3: "spatial"}.get(len(shape), "")


def part_roles(space: InversionSpace, layout: Code) -> dict[str, str]:
    """Role of every part of `layout`: the space's hint where it gives one, else by shape."""
    hints = dict(space.code_part_roles())
    unknown = sorted(set(hints) - set(layout.tensors))
    if unknown:
        raise GanInvError(
            f"space {space.name!r}: code_part_roles() names part(s) {unknown} that init_code() "
            f"does not make (parts: {list(layout.tensors)})"
        )
    roles = {}
    for key, tensor in layout.tensors.items():
        shape = tuple(tensor.shape[1:])
        role = hints.get(key) or infer_role(shape)
        if role not in CODE_PART_ROLES:
            raise GanInvError(
                f"space {space.name!r}: code part {key!r} of shape {list(shape)} has no head in "
                f"the generic encoder (role {role!r}); give it one of {list(CODE_PART_ROLES)} "
                "through InversionSpace.code_part_roles()"
            )
        wanted = {"vector": 1, "layers": 2, "spatial": 3}.get(role)
        if wanted is not None and len(shape) != wanted:
            raise GanInvError(
                f"space {space.name!r}: code part {key!r} is declared {role!r} but has shape "
                f"{list(shape)} ({wanted} dimensions expected besides the batch)"
            )
        roles[key] = role
    return roles


def zero_last_layer(module: nn.Module) -> None:
    """Zero the weight and bias of the last layer that has them (so the head outputs 0)."""
    last = [m for m in module.modules() if getattr(m, "weight", None) is not None]
    nn.init.zeros_(last[-1].weight)
    nn.init.zeros_(last[-1].bias)


def zero_style_head(head: GradualStyleBlock, lr_mul: float | None) -> None:
    """Replace the head's last (equalised) linear layer by a zero one with `lr_mul`.

    A zero layer learns only as fast as its weights move; with equalised scaling (1/sqrt(in))
    that is sqrt(in) times slower than a plain layer, so the default `lr_mul` is sqrt(in)
    (measured on the demo domain, 150 steps: MSE 0.22 with 1, 0.14 with sqrt(128); pSp's random
    head 0.11).
    """
    lr_mul = math.sqrt(head.out_c) if lr_mul is None else lr_mul
    linear = EqualLinear(head.out_c, head.out_c, lr_mul=lr_mul)
    nn.init.zeros_(linear.weight)
    nn.init.zeros_(linear.bias)
    head.linear = linear


class LayerHeads(nn.Module):
    """N pSp style heads for a per-layer part [N, D]: codes [0, coarse) from the 1/16 level,
    [coarse, middle) from 1/8, the rest from 1/4 (a vector part is the case N = 1 on 1/16)."""

    def __init__(
        self,
        count: int,
        dim: int,
        channels: int,
        resolution: int,
        vector: bool,
        lr_mul: float | None,
    ) -> None:
        super().__init__()
        self.vector = vector
        self.split = (count, count) if vector else style_split(count)
        sizes = FeaturePyramid.spatial(resolution)
        coarse, middle = self.split
        self.levels = [0 if i < coarse else 1 if i < middle else 2 for i in range(count)]
        self.heads = nn.ModuleList(
            GradualStyleBlock(channels, dim, sizes[level]) for level in self.levels
        )
        for head in self.heads:
            zero_style_head(head, lr_mul)

    def forward(self, levels: tuple[torch.Tensor, ...]) -> torch.Tensor:
        out = torch.stack([h(levels[i]) for h, i in zip(self.heads, self.levels)], dim=1)
        return out[:, 0] if self.vector else out


class SpatialHead(nn.Module):
    """[C, H, W] from the pyramid level closest in size: conv3x3 + LeakyReLU + conv3x3 at that
    level's size, then resized (bilinear) to H x W where the sizes differ, as PadInv's padding
    branch upsamples its 1/8-level maps (the convs stay at pyramid size, so they stay cheap)."""

    def __init__(self, shape: tuple[int, int, int], channels: int, resolution: int) -> None:
        super().__init__()
        self.size = (shape[1], shape[2])
        sizes = FeaturePyramid.spatial(resolution)
        larger = [i for i, s in enumerate(sizes) if s >= max(self.size)]
        self.level = larger[0] if larger else len(sizes) - 1
        self.convs = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, shape[0], 3, 1, 1),
        )
        zero_last_layer(self.convs)

    def forward(self, levels: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x = self.convs(levels[self.level])
        if tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=True)
        return x


class GenericEncoder(Encoder):
    """Images [B, 3, R, R] in [-1, 1] -> codes of any space (registered as encoder ``generic``).

    input_resolution, num_layers, units, widths, backbone_weights: the backbone, as for ``psp``.
    head_lr_mul: learning-rate multiplier of the style heads' zero-initialised last layers
        (default sqrt of their width, so they learn as fast as a plain linear layer).
    style_split: not an argument: per-layer parts use pSp's default split for their length.
    The initial code is read from the space when the encoder is built (not saved with its
    weights), so an exported encoder starts from the same code as long as the space is the same.
    """

    def __init__(
        self,
        space: InversionSpace,
        input_resolution: int = 256,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | None = None,
        backbone_weights: str | None = None,
        head_lr_mul: float | None = None,
    ) -> None:
        super().__init__(space)
        self.input_resolution = input_resolution
        self.pyramid = FeaturePyramid(num_layers, units, widths or STAGE_WIDTHS)
        if backbone_weights:
            load_backbone_weights(self.pyramid, backbone_weights)
        FeaturePyramid.spatial(input_resolution)  # a clear error for sizes not divisible by 16
        with torch.no_grad():
            layout = space.init_code(1).detach()
        self.roles = part_roles(space, layout)
        self.meta = dict(layout.meta)
        self.keys = list(layout.tensors)
        channels = self.pyramid.out_channels
        lr_mul = head_lr_mul
        heads: list[nn.Module] = []
        for i, key in enumerate(self.keys):
            init = layout.tensors[key]
            # Not saved: rebuilt from the space, so the output is exactly init_code at step 0.
            self.register_buffer(f"init_{i}", init.clone(), persistent=False)
            shape = tuple(init.shape[1:])
            role = self.roles[key]
            if role == "vector":
                heads.append(LayerHeads(1, shape[0], channels, input_resolution, True, lr_mul))
            elif role == "layers":
                heads.append(
                    LayerHeads(shape[0], shape[1], channels, input_resolution, False, lr_mul)
                )
            elif role == "spatial":
                heads.append(SpatialHead(shape, channels, input_resolution))  # type: ignore[arg-type]
            else:
                heads.append(nn.Identity())  # "fixed": kept at its initial value
        self.heads = nn.ModuleList(heads)

    def forward(self, images: torch.Tensor) -> Code:
        check_input(images, self.input_resolution, "generic")
        levels = self.pyramid(images)
        batch = images.shape[0]
        tensors = {}
        for i, (key, head) in enumerate(zip(self.keys, self.heads)):
            init = getattr(self, f"init_{i}")
            base = init.expand(batch, *init.shape[1:])
            if self.roles[key] == "fixed":
                tensors[key] = base.clone()
            else:
                tensors[key] = base + head(levels).to(base.dtype)
        return Code(self.space.name, tensors, dict(self.meta))
