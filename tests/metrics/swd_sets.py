"""The SWD reference image sets and the original ProGAN implementation's values for them.

Grey sets (`tests/data/swd/README.md`): Fashion-MNIST 28 px images zero-padded to 32 px and repeated
to three channels; C is A made blocky. Colour sets: the same images tinted per image and channel,
stored compactly as a per-image, per-channel linear model of the grey image plus an int8 residual
(`fashion_mnist_rgb_tint.npz`); the rebuild is checked byte for byte against the sha256 of the
original files (`../shared/refs/swd/swd_sets.npz`, `swd_rgb_sets.npz`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

DATA = Path(__file__).resolve().parents[1] / "data" / "swd"

# sha256 of the uint8 [1024, 3, 32, 32] arrays in ../shared/refs/swd
SHA256 = {
    ("grey", "A"): "1760914b984cc3fdf8b3ea0510d5937d0eaddc65fda7c46ead382a5eb7c7ec7a",
    ("grey", "B"): "689fba2f21123c6aceb3c3cdd8f28b77dfb86b55eefcfacc1622458364825ffc",
    ("grey", "C"): "89c1d7504046fca569d4dfe8c59377afc020db7ecfb775d643c6cc9ea232ecfe",
    ("colour", "A"): "0f7522b2ff2dd343091a8de774665feeb43ca70132f4a1de09e25209f5921393",
    ("colour", "B"): "8b8e3479e9a38a3f5b88c91c0ef35882adcb13744366802d7c8f8f21b074c06d",
}

# The original's values (1,024 images, minibatches of 256, first set as reals, 20 seeds, every
# descriptor): (mean, std) for the 32 px level, the 16 px level and their average.
REFERENCE = {
    ("grey", "A", "A"): ((5.26, 0.33), (3.92, 0.38), (4.59, 0.30)),
    ("grey", "A", "B"): ((8.52, 0.58), (12.28, 0.64), (10.40, 0.47)),
    ("grey", "A", "C"): ((36.17, 0.93), (11.11, 0.34), (23.64, 0.53)),
    ("colour", "A", "A"): ((5.35, 0.33), (3.95, 0.35), (4.65, 0.28)),
    ("colour", "A", "B"): ((8.71, 0.57), (13.18, 0.54), (10.94, 0.41)),
}


def _padded_grey(raw: np.ndarray) -> np.ndarray:
    padded = np.zeros((raw.shape[0], 32, 32), np.uint8)
    padded[:, 2:30, 2:30] = raw
    return padded


def grey_sets() -> dict[str, np.ndarray]:
    """A, B, C as uint8 [1024, 3, 32, 32]."""
    raw = np.load(DATA / "fashion_mnist_1024_28px.npz")
    sets = {key: _padded_grey(raw[key])[:, None].repeat(3, axis=1) for key in ("A", "B")}
    t = sets["A"].astype(np.float32)
    blocky = t[:, :, 0::2, 0::2] + t[:, :, 0::2, 1::2] + t[:, :, 1::2, 0::2] + t[:, :, 1::2, 1::2]
    blocky = np.round(blocky * 0.25).clip(0, 255).astype(np.uint8)
    sets["C"] = blocky.repeat(2, axis=2).repeat(2, axis=3)
    return sets


def colour_sets() -> dict[str, np.ndarray]:
    """A, B as uint8 [1024, 3, 32, 32]: round(clip(gain * grey + offset)) + residual."""
    raw = np.load(DATA / "fashion_mnist_1024_28px.npz")
    tint = np.load(DATA / "fashion_mnist_rgb_tint.npz")
    sets = {}
    for key in ("A", "B"):
        grey = _padded_grey(raw[key]).astype(np.float64)[:, None]
        params = tint[f"{key}_params"].astype(np.float64)  # [N, 3, (gain, offset)]
        model = np.round(grey * params[:, :, 0, None, None] + params[:, :, 1, None, None])
        rebuilt = np.clip(model, 0, 255).astype(np.int16) + tint[f"{key}_residual"]
        sets[key] = rebuilt.astype(np.uint8)
    return sets


def sets(kind: str) -> dict[str, np.ndarray]:
    return grey_sets() if kind == "grey" else colour_sets()


def sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def to_images(array: np.ndarray) -> torch.Tensor:
    """uint8 NCHW -> float [-1, 1] (the metric rounds back to the same 8-bit values)."""
    return torch.from_numpy(array).float() / 127.5 - 1
