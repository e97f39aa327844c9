"""The choices the data commands offer, in a module that imports nothing heavy (the CLI builds
its help from them without importing torch or numpy)."""

from __future__ import annotations

# Resize modes of `ImageTransform` / `resize_images`.
RESIZE_MODES: tuple[str, ...] = ("antialias", "bilinear", "bicubic", "nearest", "area")
# Deterministic splits of a source (`ganinv.data.split`).
SPLITS: tuple[str, ...] = ("all", "train", "test")
# Image encodings `convert_dataset` writes.
ENCODINGS: tuple[str, ...] = ("png", "jpeg", "webp")
