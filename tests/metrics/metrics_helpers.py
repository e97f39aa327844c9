"""Helpers shared by tests/metrics (pytest puts this folder on sys.path)."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image

DATA = Path(__file__).resolve().parents[1] / "data"


def load_example(name: str) -> torch.Tensor:
    """LPIPS example image as [1, 3, 64, 64] in [-1, 1]."""
    array = np.asarray(Image.open(DATA / "lpips" / f"{name}.png").convert("RGB")).copy()
    return torch.from_numpy(array).permute(2, 0, 1)[None].float() / 127.5 - 1
