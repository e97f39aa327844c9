"""Helpers for the data pipeline tests: small images written with Pillow."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
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


@pytest.fixture
def png_folder(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    """Five RGB PNGs of different sizes in a folder tree (sorted order = a, b/c, b/d, e, f)."""
    root = tmp_path / "pngs"
    names = ["a.png", "b/c.png", "b/d.png", "e.png", "f.png"]
    arrays = [random_rgb(i, 8 + 2 * i, 10 + i) for i in range(len(names))]
    for name, array in zip(names, arrays):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(png_bytes(array))
    (root / "notes.txt").write_text("not an image, ignored by extension")
    (root / ".hidden.png").write_bytes(b"ignored: hidden")
    return root, arrays
