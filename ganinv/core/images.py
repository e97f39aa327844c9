"""Conversions at the edges: library tensors ([-1, 1], NCHW, RGB) to and from uint8 files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganinv.core.io import atomic_write


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[B, C, H, W] in [-1, 1] -> uint8 [B, H, W, C] (rounded, clipped)."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def from_uint8(array: np.ndarray) -> torch.Tensor:
    """uint8 [H, W, C] or [B, H, W, C] -> float [(B,) C, H, W] in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(array)).float() / 127.5 - 1
    return t.permute(2, 0, 1) if t.ndim == 3 else t.permute(0, 3, 1, 2)


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> np.ndarray:
    """Tile [B, C, H, W] in [-1, 1] into one uint8 [H', W', 3] image (grayscale repeated)."""
    arr = to_uint8(images)
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    b, h, w, c = arr.shape
    ncol = min(nrow, b)
    nrows = (b + ncol - 1) // ncol
    grid = np.zeros((nrows * (h + padding) + padding, ncol * (w + padding) + padding, c), np.uint8)
    for i in range(b):
        r, col = divmod(i, ncol)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y : y + h, x : x + w] = arr[i]
    return grid


def save_image(array: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write a uint8 [H, W, 3] array atomically; the format follows the suffix."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower(), "PNG")
    return atomic_write(path, lambda p: Image.fromarray(array).save(p, format=fmt))


def save_grid(images: torch.Tensor, path: str | os.PathLike[str], nrow: int = 8) -> Path:
    return save_image(make_grid(images, nrow=nrow), path)
