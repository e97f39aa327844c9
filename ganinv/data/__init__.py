"""Image data: streaming datasets (folder, zip, LMDB, IDX), transforms, robust decoding.

Public API:
    build_dataset(spec)          a registered dataset from ``{"name": ..., **arguments}``
    ImageDataset                 base class: splits, subsets, bad-input policy, protocol record
    FolderDataset, ZipDataset, LmdbDataset, IdxDataset, FashionMnistDataset
    ImageTransform               centre crop -> resize -> pad -> flip -> [-1, 1], with protocol()
    resize_images(x, size, mode) the resize modes on float NCHW tensors
    decode_image(data, name)     encoded bytes -> uint8 RGB [3, H, W] or ImageDecodeError
    convert_dataset, inspect_dataset, detect_format

The built-in datasets register when their modules are imported (`ganinv.builtins` imports
them); names here load lazily, so `import ganinv.data.<module>` stays light (the CLI's help).
See docs/data.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ImageDataset": "base",
    "build_dataset": "build",
    "detect_format": "build",
    "convert_dataset": "convert",
    "ImageDecodeError": "decode",
    "decode_image": "decode",
    "FolderDataset": "folder",
    "FashionMnistDataset": "idx",
    "IdxDataset": "idx",
    "inspect_dataset": "info",
    "LmdbDataset": "lmdb_dataset",
    "ImageTransform": "transforms",
    "resize_images": "transforms",
    "ZipDataset": "zip_archive",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'ganinv.data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ganinv.data.{_WHERE[name]}"), name)
