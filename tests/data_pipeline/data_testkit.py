"""Helpers for the data pipeline tests: small images written with Pillow."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def random_rgb(seed: int, height: int = 12, width: int = 12) -> np.ndarray:
    """A reproducible uint8 RGB image [H, W, 3]."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def png_bytes(array: np.ndarray, **save_args) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", **save_args)
    return buffer.getvalue()


def encode(image: Image.Image, fmt: str, **save_args) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save_args)
    return buffer.getvalue()


def chw(array: np.ndarray) -> np.ndarray:
    """[H, W, 3] -> [3, H, W] for comparison with decoded tensors."""
    return np.ascontiguousarray(array.transpose(2, 0, 1))
