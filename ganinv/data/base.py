"""`ImageDataset`: the streaming, fork-safe base of every built-in image data set.

A subclass describes one storage format through a few hooks (list the entries, read the first
bytes of one, decode one, open/close a per-process handle). This class adds what every format
shares: splits, subsets, validation and the bad-input policy, the transform, mirroring, labels
and the protocol record.

When validation happens (`check`):
- at construction, after the split and `indices` are applied, the entries are checked in order
  until `limit` good ones are found (or all of them): ``header`` (default) reads the first bytes of
  each entry and rejects empty files and non-images; ``full`` decodes each entry (with a progress
  bar) so that every later read succeeds; ``none`` checks nothing;
- at read time, an entry that still fails to decode (e.g. a truncated body behind a valid header
  under ``check: header``) raises under ``on_error: raise``; under ``on_error: skip`` it is logged,
  remembered and replaced by the next readable entry (i + 1, i + 2, ... wrapping around), so the
  result is deterministic. Read-time skips that happen inside DataLoader worker processes appear
  in the log but not in the parent's `skipped` list; use ``check: full`` for evaluation sets,
  where the set of images must be exact.

Memory stays constant: entries are names or keys, images are decoded on demand and never cached.
File handles, archives and LMDB environments are opened lazily in the process that reads, so a
dataset built in the parent forks safely into DataLoader workers.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from ganinv.core.errors import GanInvError
from ganinv.data.decode import (
    DECODE_PROTOCOL,
    HEADER_BYTES,
    ImageDecodeError,
    check_header,
    decode_image,
    open_header,
)
from ganinv.data.split import Split, split_positions, take_indices
from ganinv.data.transforms import ImageTransform, ResizeMode

logger = logging.getLogger("ganinv.data")

OnError = Literal["raise", "skip"]
Check = Literal["none", "header", "full"]
DEFAULT_TEST_FRACTION = 0.1


class ImageDataset(Dataset):
    """A map-style dataset of images: ``dataset[i]`` is a float32 tensor [3, S, S] in [-1, 1].

    Arguments (all keyword except `path`; the same for every format):
        path: the source (folder, .zip file, LMDB directory, folder of IDX files).
        resolution, resize, center_crop, pad, flip: the `ImageTransform` (output side
            S = resolution + 2 * pad; resolution None keeps the cropped size).
        mirror: double the set with horizontally flipped copies (index n + i = mirror of i), as
            PadInv's FFHQ training does.
        split: ``all`` | ``train`` | ``test``; official split where the format has one (IDX),
            otherwise a deterministic split by index (`ganinv.data.split`) with `test_fraction`
            (default 0.1) and `seed`.
        indices: positions within the split to keep, in this order.
        limit: keep the first `limit` (good) images of the split.
        on_error: ``raise`` (GanInvError naming the file) or ``skip`` (left out, listed in
            `skipped` and logged).
        check: validation at construction: ``header`` | ``full`` | ``none`` (module docstring).

    Attributes: `skipped` (list of (name, problem)), `labels` (None or int64 array [len(self)]),
    `transform`, `path`.
    """

    # Per-format constants, overridden by subclasses.
    FORMAT = ""
    DEFAULT_PATH: str | None = None
    DEFAULT_PAD = 0
    OFFICIAL_SPLIT = False
    PER_ENTRY_CHECK = True  # False where the whole source was validated by `_index`

    def __init__(
        self,
        path: str | None = None,
        *,
        resolution: int | None = None,
        resize: ResizeMode = "antialias",
        center_crop: bool = True,
        pad: int | None = None,
        flip: bool = False,
        mirror: bool = False,
        split: Split = "all",
        test_fraction: float | None = None,
        seed: int = 0,
        indices: list[int] | None = None,
        limit: int | None = None,
        on_error: OnError = "raise",
        check: Check = "header",
    ) -> None:
        if path is None:
            if self.DEFAULT_PATH is None:
                raise GanInvError(f"dataset {self.FORMAT!r} needs a path")
            path = self.DEFAULT_PATH
        if on_error not in ("raise", "skip"):
            raise GanInvError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        if check not in ("none", "header", "full"):
            raise GanInvError(f"check must be 'none', 'header' or 'full', got {check!r}")
        if self.OFFICIAL_SPLIT and test_fraction is not None:
            raise GanInvError(
                f"dataset {self.FORMAT!r} has an official train/test split; remove test_fraction"
            )
        self.path = Path(path).expanduser()
        self.transform = ImageTransform(
            resolution=resolution,
            resize=resize,
            center_crop=center_crop,
            pad=self.DEFAULT_PAD if pad is None else pad,
            flip=flip,
        )
        self.mirror = mirror
        self.on_error: str = on_error
        self.check: str = check
        self._settings = {
            "split": split,
            "test_fraction": None
            if self.OFFICIAL_SPLIT
            else (DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction),
            "seed": None if self.OFFICIAL_SPLIT else seed,
            "indices": indices,
            "limit": limit,
        }
        self.skipped: list[tuple[str, str]] = []
        self._handle: Any = None
        self._handle_pid: int | None = None
        self._bad_positions: set[int] = set()

        try:
            self._build_index(split, test_fraction, seed, indices, limit)
            all_labels = self._all_labels()
        finally:
            self._close_handle()  # the parent holds no handle when DataLoader forks workers
        self._labels = None if all_labels is None else all_labels[self._positions]

    def _build_index(
        self,
        split: str,
        test_fraction: float | None,
        seed: int,
        indices: list[int] | None,
        limit: int | None,
    ) -> None:
        total = self._index()
        if total == 0:
            raise GanInvError(f"no images found in {str(self.path)!r} ({self._empty_hint()})")
        if self.OFFICIAL_SPLIT:
            positions = self._official_split(split)
        else:
            fraction = DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction
            positions = split_positions(total, split, fraction, seed)
        positions = take_indices(positions, indices)
        if limit is not None and limit < 1:
            raise GanInvError(f"limit must be a positive integer, got {limit}")
        self._positions = self._validate(positions, limit)

    # -- hooks for subclasses --------------------------------------------------------------------
    def _index(self) -> int:
        """List the entries (cheaply, no decoding); return how many there are."""
        raise NotImplementedError

    def _empty_hint(self) -> str:
        return "the source is empty"

    def _official_split(self, split: str) -> np.ndarray:
        raise NotImplementedError

    def _entry_name(self, position: int) -> str:
        """File name or key of one entry, for messages and `item_name`."""
        raise NotImplementedError

    def _read_bytes(self, position: int, size: int | None = None) -> bytes:
        """The stored (encoded) bytes of one entry, or only the first `size` of them."""
        raise NotImplementedError

    def _decode(self, position: int) -> torch.Tensor:
        """uint8 RGB [3, H, W] of one entry, or `ImageDecodeError`."""
        return self._decode_bytes(position)

    def _open(self) -> Any:
        """Open the per-process handle (archive, environment, memory map); None if not needed."""
        return None

    def _close(self, handle: Any) -> None:
        pass

    def _all_labels(self) -> np.ndarray | None:
        """Labels of every listed entry (int64, indexed by position), or None."""
        return None

    # -- shared machinery ------------------------------------------------------------------------
    def _decode_bytes(self, position: int) -> torch.Tensor:
        name = self._entry_name(position)
        try:
            data = self._read_bytes(position)
        except OSError as exc:
            raise ImageDecodeError(name, f"cannot be read ({exc})") from exc
        return decode_image(data, name)

    def _check_header(self, position: int) -> None:
        name = self._entry_name(position)
        try:
            head = self._read_bytes(position, HEADER_BYTES)
        except OSError as exc:
            raise ImageDecodeError(name, f"cannot be read ({exc})") from exc
        check_header(head, name)

    def handle(self) -> Any:
        """The handle of the current process, opened on first use (fork-safe)."""
        pid = os.getpid()
        if self._handle_pid != pid:
            if self._handle is not None:
                # Inherited through fork (the parent read before forking): close this process's
                # copy; libraries such as py-lmdb refuse to open a path twice in one process.
                try:
                    self._close(self._handle)
                except Exception:  # the copy is unusable anyway; never fail a read over it
                    pass
            self._handle = None
            self._handle = self._open()
            self._handle_pid = pid
        return self._handle

    def _close_handle(self) -> None:
        if self._handle is not None and self._handle_pid == os.getpid():
            self._close(self._handle)
        self._handle = None
        self._handle_pid = None

    def close(self) -> None:
        """Release this process's handle now (it reopens on the next read)."""
        self._close_handle()

    def __del__(self) -> None:
        try:
            self._close_handle()
        except Exception:  # at interpreter exit modules may already be gone
            pass

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handle"] = None
        state["_handle_pid"] = None
        return state

    def _record_skip(self, error: ImageDecodeError) -> None:
        self.skipped.append((error.name, error.problem))
        logger.warning("skipped image %r: %s", error.name, error.problem)

    def _validate(self, positions: np.ndarray, limit: int | None) -> np.ndarray:
        if self.check == "none" or not self.PER_ENTRY_CHECK:
            return positions if limit is None else positions[:limit]
        kept: list[int] = []
        wanted = len(positions) if limit is None else min(limit, len(positions))
        bar = tqdm(
            total=wanted,
            desc=f"checking {self.FORMAT} images ({self.check})",
            unit="img",
            disable=None,  # shown on a terminal only
            leave=False,
        )
        with bar:
            for position in positions.tolist():
                try:
                    if self.check == "full":
                        self._decode(position)
                    else:
                        self._check_header(position)
                except ImageDecodeError as exc:
                    if self.on_error == "raise":
                        raise
                    self._record_skip(exc)
                    continue
                kept.append(position)
                bar.update(1)
                if len(kept) == wanted:
                    break
        if not kept:
            problems = "; ".join(f"{n}: {p}" for n, p in self.skipped[:3])
            raise GanInvError(
                f"none of the {len(self.skipped)} candidate images in {str(self.path)!r} could be "
                f"read (first problems: {problems})"
            )
        if self.skipped:
            logger.warning(
                "%s: skipped %d unreadable image(s): %s",
                self.path,
                len(self.skipped),
                ", ".join(n for n, _ in self.skipped),
            )
        return np.asarray(kept, dtype=np.int64)

    # -- public API ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._positions) * (2 if self.mirror else 1)

    def _split_index(self, index: int) -> tuple[int, bool]:
        n = len(self._positions)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)} images")
        index %= len(self)
        return index % n, index >= n

    def __getitem__(self, index: int) -> torch.Tensor:
        base, mirrored = self._split_index(index)
        image = self.transform(self._read_with_policy(base))
        return image.flip(-1) if mirrored else image

    def _read_with_policy(self, base: int) -> torch.Tensor:
        n = len(self._positions)
        for step in range(n):
            position = int(self._positions[(base + step) % n])
            if position in self._bad_positions:
                continue
            try:
                return self._decode(position)
            except ImageDecodeError as exc:
                if self.on_error == "raise":
                    raise
                self._bad_positions.add(position)
                self._record_skip(exc)
        raise GanInvError(f"none of the {n} images of {str(self.path)!r} could be decoded")

    def read_uint8(self, index: int) -> torch.Tensor:
        """The decoded image at `index` (uint8 RGB [3, H, W], no transform); errors propagate."""
        base, mirrored = self._split_index(index)
        image = self._decode(int(self._positions[base]))
        return image.flip(-1) if mirrored else image

    def describe(self, index: int) -> dict[str, Any]:
        """Format, size (width, height) and Pillow mode from the stored header, no pixel decoding.

        Raises `ImageDecodeError` when the header cannot be read (used by `ganinv data info`).
        """
        base, _ = self._split_index(index)
        position = int(self._positions[base])
        name = self._entry_name(position)
        try:
            data = self._read_bytes(position)
        except OSError as exc:
            raise ImageDecodeError(name, f"cannot be read ({exc})") from exc
        return open_header(data, name)

    def read_item(self, index: int) -> torch.Tensor:
        """``self[index]`` without the skip policy: exactly item `index` or `ImageDecodeError`.

        For exact sets (inversion, evaluation), where replacing a bad item by the next one would
        pair a name with another image and count that image twice.
        """
        base, mirrored = self._split_index(index)
        image = self.transform(self._decode(int(self._positions[base])))
        return image.flip(-1) if mirrored else image

    def output_name(self, index: int) -> str:
        """A stable, unique relative name for outputs about item `index` (no extension).

        The entry's position in the whole source (zero-padded), which neither the split, a
        subset nor skipped items change; `#mirror` for mirrored copies. Folder datasets use the
        relative path instead.
        """
        base, mirrored = self._split_index(index)
        name = self._output_key(int(self._positions[base]))
        return name + "#mirror" if mirrored else name

    def _output_key(self, position: int) -> str:
        return f"{position:08d}"

    def item_name(self, index: int) -> str:
        """File name or key of the image at `index` (mirrored copies get a ``#mirror`` suffix)."""
        base, mirrored = self._split_index(index)
        name = self._entry_name(int(self._positions[base]))
        return name + "#mirror" if mirrored else name

    @property
    def labels(self) -> np.ndarray | None:
        """int64 labels aligned with the dataset indices, or None when the source has none."""
        if self._labels is None:
            return None
        return np.concatenate([self._labels, self._labels]) if self.mirror else self._labels

    def protocol(self) -> dict[str, Any]:
        """What this data is, as recorded with every metric result."""
        return {
            "dataset": self.FORMAT,
            "source": str(self.path),
            **self._settings,
            "official_split": self.OFFICIAL_SPLIT,
            "count": len(self),
            "mirror": self.mirror,
            "on_error": self.on_error,
            "check": self.check,
            "skipped": len(self.skipped),
            "transform": self.transform.protocol(),
            "decode": dict(DECODE_PROTOCOL),
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r}, {len(self)} images)"
