"""Helpers for the data pipeline tests: small images written with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from data_testkit import png_bytes, random_rgb


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
