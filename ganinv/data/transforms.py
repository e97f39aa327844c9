"""Image transforms as the papers use them: centre crop -> resize -> pad -> flip -> [-1, 1].

The order is PadInv's (`datasets/image_dataset.py`: centre crop to square, resize, optional mirror,
normalise). Every setting that changes pixels is part of `ImageTransform.protocol()`, which is
recorded with every metric result.

Resize modes (`RESIZE_MODES`), all computed in float by `torch.nn.functional.interpolate`:
- ``antialias``: bilinear with an antialiasing filter when shrinking (matches Pillow's BILINEAR);
- ``bilinear``, ``bicubic``: plain interpolation without antialiasing (``align_corners=False``;
  bicubic overshoot is clamped to [-1, 1]);
- ``nearest``: PyTorch's ``nearest`` (the legacy rule ``src = floor(dst * in / out)``), the default
  of ``F.interpolate`` that PadInv's metric code uses;
- ``area``: average of each source block (exact box filter for integer factors).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.data.options import RESIZE_MODES

ResizeMode = Literal["antialias", "bilinear", "bicubic", "nearest", "area"]

# Padding value in [-1, 1]: black, the background of the data sets we pad (Fashion-MNIST).
PAD_VALUE = -1.0


def uint8_to_float(image: torch.Tensor) -> torch.Tensor:
    """uint8 [..., H, W] in [0, 255] -> float32 in [-1, 1] (0 -> -1, 255 -> 1)."""
    return image.to(torch.float32) / 127.5 - 1.0


def float_to_uint8(image: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] -> uint8 in [0, 255], rounded to nearest (inverse of `uint8_to_float`)."""
    return ((image.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch.uint8)


def center_crop_square(image: torch.Tensor) -> torch.Tensor:
    """Largest centred square of [..., H, W]; odd leftovers go to the bottom/right."""
    height, width = image.shape[-2:]
    side = min(height, width)
    top = (height - side) // 2
    left = (width - side) // 2
    return image[..., top : top + side, left : left + side]


def resize_images(images: torch.Tensor, size: int | tuple[int, int], mode: str) -> torch.Tensor:
    """Resize float images [N, C, H, W] (or [C, H, W]) to `size` with one of `RESIZE_MODES`.

    Values keep their range (bicubic overshoot is clamped to [-1, 1]); same device and dtype out.
    An image already at `size` is returned unchanged.
    """
    if mode not in RESIZE_MODES:
        raise GanInvError(f"unknown resize mode {mode!r}: use one of {list(RESIZE_MODES)}")
    if not images.is_floating_point():
        raise ValueError("resize_images expects float images; convert uint8 with uint8_to_float")
    target = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(images.shape[-2:]) == target:
        return images
    batched = images if images.ndim == 4 else images.unsqueeze(0)
    if mode == "antialias":
        out = F.interpolate(
            batched, size=target, mode="bilinear", align_corners=False, antialias=True
        )
    elif mode in ("bilinear", "bicubic"):
        out = F.interpolate(batched, size=target, mode=mode, align_corners=False)
        if mode == "bicubic":
            out = out.clamp(-1.0, 1.0)
    else:  # nearest, area
        out = F.interpolate(batched, size=target, mode=mode)
    return out if images.ndim == 4 else out.squeeze(0)


@dataclass(frozen=True)
class ImageTransform:
    """uint8 RGB [3, H, W] (or float in [-1, 1]) -> float32 [3, S, S] in [-1, 1].

    Steps: centre crop to a square (when `center_crop`), resize to `resolution` x `resolution`
    (when given) with `resize`, pad `pad` pixels of black (-1) on every side, random horizontal
    flip with probability 0.5 (when `flip`; uses torch's global RNG, which DataLoader seeds per
    worker). Output side S = (resolution or the cropped side) + 2 * pad.
    """

    resolution: int | None = None
    resize: ResizeMode = "antialias"
    center_crop: bool = True
    pad: int = 0
    flip: bool = False

    def __post_init__(self) -> None:
        if self.resolution is not None and self.resolution < 1:
            raise GanInvError(f"resolution must be a positive integer, got {self.resolution}")
        if self.pad < 0:
            raise GanInvError(f"pad must be >= 0, got {self.pad}")
        if self.resize not in RESIZE_MODES:
            raise GanInvError(
                f"unknown resize mode {self.resize!r}: use one of {list(RESIZE_MODES)}"
            )

    def geometry(self, image: torch.Tensor) -> torch.Tensor:
        """Crop and resize only: float in [-1, 1] out, no pad or flip (used by `data convert`)."""
        x = uint8_to_float(image) if image.dtype == torch.uint8 else image.to(torch.float32)
        if self.center_crop:
            x = center_crop_square(x)
        if self.resolution is not None:
            x = resize_images(x, self.resolution, self.resize)
        return x

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        x = self.geometry(image)
        if self.pad:
            x = F.pad(x, (self.pad,) * 4, value=PAD_VALUE)
        if self.flip and bool(torch.rand(()) < 0.5):
            x = x.flip(-1)
        return x.contiguous()

    def protocol(self) -> dict[str, Any]:
        """Every pixel-changing setting, as recorded with metric results."""
        record = asdict(self)
        record["pad_value"] = PAD_VALUE
        record["range"] = [-1.0, 1.0]
        record["order"] = "center_crop, resize, pad, flip"
        return record
