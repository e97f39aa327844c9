"""`idx` and `fashion_mnist`: IDX files (MNIST, Fashion-MNIST) with their official split.

Files looked up in `path` (each plain or ``.gz``; ``-`` or ``.`` before ``idx``):
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte`` (the 60,000 training images) and
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (the 10,000 test images).
``split: all`` is train followed by test.

Images are 8-bit grayscale (0 = black background), repeated to RGB. By default they are padded
by 2 pixels of black to 32 x 32 (``pad: 2``, the demo resolution; set ``pad: 0`` for 28 x 28).

Reading stays constant-memory: an uncompressed file is memory-mapped; a ``.gz`` file is
decompressed once into the cache (``$GANINV_CACHE/idx`` or the per-user cache directory
``ganinv/idx``, written atomically) and that copy is memory-mapped. Each process maps the file
on first read. Labels (one byte each) are read whole: 60 kB.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write
from ganinv.core.registry import DATASETS
from ganinv.data.base import ImageDataset

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
SPLIT_PREFIXES = {"train": "train", "test": "t10k"}
CACHE_ENV = "GANINV_CACHE"
MAX_IDX_BYTES = 8 << 30  # largest decompressed IDX file (MNIST's training images: 47 MB)


def idx_cache_dir() -> Path:
    """Where decompressed IDX files are kept (not created here)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser() / "idx"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ganinv")) / "idx"


def find_idx_file(root: Path, prefix: str, kind: str) -> Path | None:
    """``{prefix}-{kind}-idx?-ubyte[.gz]`` (or with ``.idx``) in `root`; plain file preferred."""
    dims = "3" if kind == "images" else "1"
    for sep in ("-", "."):
        for suffix in ("", ".gz"):
            candidate = root / f"{prefix}-{kind}{sep}idx{dims}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
    return None


def uncompressed_path(path: Path) -> Path:
    """`path` itself, or for ``.gz`` its decompressed copy in the cache (made once, atomically)."""
    if path.suffix != ".gz":
        return path
    stat = path.stat()
    key = hashlib.blake2b(
        f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode(), digest_size=8
    ).hexdigest()
    target = idx_cache_dir() / f"{path.stem}.{key}"
    if target.is_file():
        return target

    def write(tmp: Path) -> None:
        with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
            _bounded_copy(src, dst, str(path))

    try:
        atomic_write(target, write)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise GanInvError(
            f"cannot decompress {str(path)!r} into the cache {str(target.parent)!r} ({exc}); "
            f"check the file, or point {CACHE_ENV} at a writable directory"
        ) from exc
    return target


def _expected_size(head: bytes, where: str) -> int:
    """Bytes of an IDX file of unsigned bytes as its header says (magic 0x000008NN, N dims)."""
    if len(head) < 4 or head[:3] != b"\x00\x00\x08" or not 1 <= head[3] <= 4:
        magic = head[:4].hex() or "missing"
        raise GanInvError(f"{where!r} is not an IDX file of unsigned bytes (magic {magic})")
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        raise GanInvError(f"{where!r}: the IDX header is truncated")
    dims = [int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return 4 + 4 * ndim + math.prod(dims)


def _bounded_copy(src: BinaryIO, dst: BinaryIO, where: str) -> None:
    """Decompress an IDX file, at most the size its header states and at most
    `MAX_IDX_BYTES`: a small .gz that inflates without end is refused, not written out."""
    head = src.read(4)
    head += src.read(4 * head[3]) if len(head) == 4 else b""
    expected = _expected_size(head, where)
    if expected > MAX_IDX_BYTES:
        raise GanInvError(
            f"{where!r}: its IDX header describes {expected} bytes (limit {MAX_IDX_BYTES}); "
            "a damaged file or a decompression bomb"
        )
    dst.write(head)
    left = expected - len(head)
    while left > 0:
        chunk = src.read(min(left, 1 << 20))
        if not chunk:
            break  # shorter than the header says: read_idx_header reports it
        dst.write(chunk)
        left -= len(chunk)
    if src.read(1):
        raise GanInvError(
            f"{where!r} decompresses to more than the {expected} bytes its IDX header states "
            "(a decompression bomb?); replace the file"
        )


def read_idx_header(path: Path, magic: int, ndim: int) -> tuple[int, ...]:
    """The dimensions of an (uncompressed) IDX file, checking its magic number and size."""
    with open(path, "rb") as f:
        head = f.read(4 + 4 * ndim)
    if len(head) < 4 + 4 * ndim or int.from_bytes(head[:4], "big") != magic:
        raise GanInvError(
            f"{str(path)!r} is not an IDX file of {ndim}-d unsigned bytes (magic number "
            f"{head[:4].hex() or 'missing'}, expected {magic:08x})"
        )
    dims = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = 4 + 4 * ndim + math.prod(dims)  # Python ints: no overflow
    actual = path.stat().st_size
    if actual != expected:
        raise GanInvError(
            f"IDX file {str(path)!r} has {actual} bytes but its header {dims} needs {expected}: "
            "the file is truncated or damaged"
        )
    return dims


@DATASETS.register("idx")
class IdxDataset(ImageDataset):
    """MNIST-style IDX files (see the module docstring; `ImageDataset` for the arguments)."""

    FORMAT = "idx"
    DEFAULT_PAD = 2
    OFFICIAL_SPLIT = True
    PER_ENTRY_CHECK = False  # headers and sizes of the IDX files are checked in `_index`

    def _index(self) -> int:
        if not self.path.is_dir():
            raise GanInvError(f"IDX folder {str(self.path)!r} does not exist or is not a folder")
        # parts: (name, image file, label file or None, count, offset in the concatenation)
        self._parts: list[dict[str, Any]] = []
        offset = 0
        for split, prefix in SPLIT_PREFIXES.items():
            images = find_idx_file(self.path, prefix, "images")
            if images is None:
                continue
            data_file = uncompressed_path(images)
            count, rows, cols = read_idx_header(data_file, IMAGES_MAGIC, 3)
            labels_file = find_idx_file(self.path, prefix, "labels")
            self._parts.append(
                {
                    "split": split,
                    "name": images.name,
                    "file": data_file,
                    "labels": labels_file,
                    "count": count,
                    "shape": (rows, cols),
                    "offset": offset,
                }
            )
            offset += count
        return offset

    def _empty_hint(self) -> str:
        return (
            "expected train-images-idx3-ubyte[.gz] and/or t10k-images-idx3-ubyte[.gz], "
            "with the matching *-labels-idx1-ubyte[.gz]"
        )

    def _official_split(self, split: str) -> np.ndarray:
        wanted = list(SPLIT_PREFIXES) if split == "all" else [split]
        if split not in ("all", *SPLIT_PREFIXES):
            raise GanInvError(f"unknown split {split!r}: use one of ['all', 'train', 'test']")
        found = {p["split"]: p for p in self._parts}
        missing = [s for s in wanted if s not in found]
        if missing:
            names = ", ".join(f"{SPLIT_PREFIXES[s]}-images-idx3-ubyte[.gz]" for s in missing)
            raise GanInvError(f"split {split!r} needs {names} in {str(self.path)!r}")
        ranges = [
            np.arange(found[s]["offset"], found[s]["offset"] + found[s]["count"]) for s in wanted
        ]
        return np.concatenate(ranges).astype(np.int64)

    def _locate(self, position: int) -> tuple[dict[str, Any], int]:
        for part in self._parts:
            if position < part["offset"] + part["count"]:
                return part, position - part["offset"]
        raise IndexError(position)

    def _entry_name(self, position: int) -> str:
        part, item = self._locate(position)
        return f"{part['name']}#{item}"

    def _open(self) -> Any:
        return [np.memmap(p["file"], dtype=np.uint8, mode="r") for p in self._parts]

    def _close(self, handle: Any) -> None:
        pass  # a memory map is released when its last reference goes

    def _decode(self, position: int) -> torch.Tensor:
        part, item = self._locate(position)
        rows, cols = part["shape"]
        mapped = self.handle()[self._parts.index(part)]
        start = 16 + item * rows * cols
        gray = torch.from_numpy(np.array(mapped[start : start + rows * cols]).reshape(rows, cols))
        return gray.unsqueeze(0).expand(3, rows, cols).contiguous()

    def describe(self, index: int) -> dict[str, Any]:
        base, _ = self._split_index(index)
        part, _ = self._locate(int(self._positions[base]))
        rows, cols = part["shape"]
        return {"format": "idx", "size": (cols, rows), "mode": "L"}

    def _all_labels(self) -> np.ndarray | None:
        labels = []
        for part in self._parts:
            if part["labels"] is None:
                return None
            opener = gzip.open if part["labels"].suffix == ".gz" else open
            with opener(part["labels"], "rb") as f:
                # One byte per image: never read more than the images need (plus the header).
                raw = f.read(8 + part["count"] + 1)
            if len(raw) < 8 or int.from_bytes(raw[:4], "big") != LABELS_MAGIC:
                raise GanInvError(f"{str(part['labels'])!r} is not an IDX label file")
            count = int.from_bytes(raw[4:8], "big")
            if count != part["count"] or len(raw) != 8 + count:
                raise GanInvError(
                    f"{str(part['labels'])!r} holds {count} labels in {len(raw) - 8} bytes for "
                    f"{part['count']} images: the file is damaged or does not belong to them"
                )
            labels.append(np.frombuffer(raw, dtype=np.uint8, offset=8).astype(np.int64))
        return np.concatenate(labels)


@DATASETS.register("fashion_mnist")
class FashionMnistDataset(IdxDataset):
    """Fashion-MNIST from the Debian package ``dataset-fashion-mnist`` (or the same files in
    `path`): 60,000 train / 10,000 test images of 28 x 28, padded to 32 x 32 by default."""

    FORMAT = "fashion_mnist"
    DEFAULT_PATH = "/usr/share/datasets/fashion-mnist"
    CLASS_NAMES = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )
