"""Random masks for training and testing inversion of masked images (inpainting).

A mask is [B, 1, H, W] with 1 where the image is known and 0 in the holes; `apply_mask` sets
the holes to a fill value (in [-1, 1]; 0 = mid grey). Masks are drawn from the given
`torch.Generator` (default: torch's global one, which the trainer saves and restores on resume).

- ``rect``: 1 to `max_shapes` axis-aligned rectangles, each side 1/8 to `max_side` of the image;
- ``freeform``: 1 to `max_shapes` brush strokes (random walks of 2 to 5 segments drawn with a round
  brush whose diameter is 1/16 to 1/6 of the image), as in free-form inpainting masks;
- ``mixed``: each image draws one of the two at random.
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from ganinv.core.errors import GanInvError

MaskKind = Literal["rect", "freeform", "mixed"]
MASK_KINDS = ("rect", "freeform", "mixed")


def _uniform(low: float, high: float, rng: torch.Generator | None) -> float:
    return low + (high - low) * float(torch.rand((), generator=rng))


def _int(low: int, high: int, rng: torch.Generator | None) -> int:
    """Uniform integer in [low, high]."""
    return int(torch.randint(low, high + 1, (), generator=rng))


def rectangle_mask(
    size: int, rng: torch.Generator | None = None, max_shapes: int = 2, max_side: float = 0.5
) -> torch.Tensor:
    """One [1, size, size] mask with rectangular holes."""
    mask = torch.ones(1, size, size)
    for _ in range(_int(1, max_shapes, rng)):
        h = max(1, round(size * _uniform(0.125, max_side, rng)))
        w = max(1, round(size * _uniform(0.125, max_side, rng)))
        top, left = _int(0, size - h, rng), _int(0, size - w, rng)
        mask[:, top : top + h, left : left + w] = 0
    return mask


def freeform_mask(
    size: int, rng: torch.Generator | None = None, max_shapes: int = 2
) -> torch.Tensor:
    """One [1, size, size] mask with brush-stroke holes."""
    ys, xs = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    grid = torch.stack([ys, xs], dim=-1).float() + 0.5  # pixel centres
    known = torch.ones(size, size, dtype=torch.bool)
    for _ in range(_int(1, max_shapes, rng)):
        radius = size * _uniform(1 / 32, 1 / 12, rng)
        point = torch.tensor([_uniform(0, size, rng), _uniform(0, size, rng)])
        for _ in range(_int(2, 5, rng)):
            angle = _uniform(0, 2 * math.pi, rng)
            length = size * _uniform(0.1, 0.4, rng)
            end = (point + length * torch.tensor([math.sin(angle), math.cos(angle)])).clamp(0, size)
            # Distance of every pixel centre to the segment point -> end.
            seg = end - point
            t = ((grid - point) @ seg / seg.dot(seg).clamp_min(1e-8)).clamp(0, 1)
            nearest = point + t.unsqueeze(-1) * seg
            known &= (grid - nearest).norm(dim=-1) > radius
            point = end
    return known.float().unsqueeze(0)


def random_masks(
    batch: int,
    size: int,
    kind: MaskKind = "mixed",
    rng: torch.Generator | None = None,
    max_shapes: int = 2,
) -> torch.Tensor:
    """[batch, 1, size, size] masks (1 = known, 0 = hole) of the given kind."""
    if kind not in MASK_KINDS:
        raise GanInvError(f"mask kind must be one of {MASK_KINDS}, got {kind!r}")
    masks = []
    for _ in range(batch):
        pick = kind if kind != "mixed" else ("rect", "freeform")[_int(0, 1, rng)]
        if pick == "rect":
            masks.append(rectangle_mask(size, rng, max_shapes))
        else:
            masks.append(freeform_mask(size, rng, max_shapes))
    return torch.stack(masks)


def apply_mask(images: torch.Tensor, masks: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """Images [B, 3, H, W] with the holes of `masks` [B or 1, 1, H, W] set to `fill`."""
    masks = masks.to(images)
    return images * masks + fill * (1 - masks)
