"""Image data: streaming datasets (folder, zip, LMDB, IDX), transforms, robust decoding.

Public API:
    build_dataset(spec)          a registered dataset from ``{"name": ..., **arguments}``
    ImageDataset                 base class: splits, subsets, bad-input policy, protocol record
    FolderDataset, ZipDataset, LmdbDataset, IdxDataset, FashionMnistDataset
    ImageTransform               centre crop -> resize -> pad -> flip -> [-1, 1], with protocol()
    resize_images(x, size, mode) the resize modes on float NCHW tensors
    decode_image(data, name)     encoded bytes -> uint8 RGB [3, H, W] or ImageDecodeError
    convert_dataset, inspect_dataset, detect_format

Importing this package registers the built-in datasets (`ganinv.builtins` imports it).
See docs/data.md.
"""

from ganinv.data.base import ImageDataset
from ganinv.data.build import build_dataset, detect_format
from ganinv.data.convert import convert_dataset
from ganinv.data.decode import ImageDecodeError, decode_image
from ganinv.data.folder import FolderDataset
from ganinv.data.idx import FashionMnistDataset, IdxDataset
from ganinv.data.info import inspect_dataset
from ganinv.data.lmdb_dataset import LmdbDataset
from ganinv.data.transforms import ImageTransform, resize_images
from ganinv.data.zip_archive import ZipDataset

__all__ = [
    "FashionMnistDataset",
    "FolderDataset",
    "IdxDataset",
    "ImageDataset",
    "ImageDecodeError",
    "ImageTransform",
    "LmdbDataset",
    "ZipDataset",
    "build_dataset",
    "convert_dataset",
    "decode_image",
    "detect_format",
    "inspect_dataset",
    "resize_images",
]
