"""`zip`: images inside a zip archive (e.g. NVlabs' ``ffhq256.zip``), in sorted member order."""

from __future__ import annotations

import logging
import zipfile
import zlib
from typing import Any

import numpy as np

from ganinv.core.errors import GanInvError
from ganinv.core.registry import DATASETS
from ganinv.data.base import ImageDataset
from ganinv.data.decode import IMAGE_EXTENSIONS, MAX_FILE_BYTES, ImageDecodeError, is_image_name
from ganinv.data.labels import LABELS_FILE, MAX_LABELS_BYTES, labels_from_json

logger = logging.getLogger("ganinv.data")


def _is_listed(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    hidden = base.startswith(".") or name.startswith("__MACOSX/")
    return not name.endswith("/") and not hidden and is_image_name(base)


@DATASETS.register("zip")
class ZipDataset(ImageDataset):
    """Images stored in a .zip file (see `ImageDataset` for the arguments).

    Order: member names sorted. Directories, hidden members, ``__MACOSX/`` and non-image
    extensions are ignored. The archive is opened once per process, on first read.
    Labels: from the member ``dataset.json`` when present (NVlabs layout).
    """

    FORMAT = "zip"

    def _open(self) -> Any:
        try:
            # A FIFO or device would block or never end: only a regular file is opened.
            if self.path.exists() and not self.path.is_file():
                raise GanInvError(f"zip archive {str(self.path)!r} is not a regular file")
            return zipfile.ZipFile(self.path)
        except FileNotFoundError as exc:
            raise GanInvError(f"zip archive {str(self.path)!r} does not exist") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise GanInvError(f"{str(self.path)!r} is not a readable zip archive ({exc})") from exc

    def _close(self, handle: Any) -> None:
        handle.close()

    def _index(self) -> int:
        archive = self.handle()
        self._names = sorted(n for n in archive.namelist() if _is_listed(n))
        self.ignored_files = sum(
            1 for n in archive.namelist() if not n.endswith("/") and not _is_listed(n)
        )
        return len(self._names)

    def _empty_hint(self) -> str:
        return f"no members with {', '.join(IMAGE_EXTENSIONS)}"

    def _entry_name(self, position: int) -> str:
        return self._names[position]

    def _read_bytes(self, position: int, size: int | None = None) -> bytes:
        name = self._names[position]
        try:
            info = self.handle().getinfo(name)
            # Bounded by the size the member declares (zipfile stops there), checked first: a
            # small member may inflate to gigabytes.
            if size is None and info.file_size > MAX_FILE_BYTES:
                raise ImageDecodeError(
                    name,
                    f"zip member too large ({info.file_size} bytes uncompressed from "
                    f"{info.compress_size}; limit {MAX_FILE_BYTES}): a decompression bomb?",
                )
            with self.handle().open(info) as member:
                return member.read() if size is None else member.read(size)
        except (zipfile.BadZipFile, EOFError, RuntimeError, zlib.error, NotImplementedError) as exc:
            raise OSError(f"damaged zip member: {exc}") from exc  # CRC, encrypted, method

    def _all_labels(self) -> np.ndarray | None:
        archive = self.handle()
        if LABELS_FILE not in archive.namelist():
            return None
        if archive.getinfo(LABELS_FILE).file_size > MAX_LABELS_BYTES:
            logger.warning("%s: %s is too large; no labels", self.path, LABELS_FILE)
            return None
        try:
            text = archive.read(LABELS_FILE).decode("utf-8", errors="replace")
        except (zipfile.BadZipFile, EOFError, RuntimeError, zlib.error, NotImplementedError):
            logger.warning("%s: %s is damaged; no labels", self.path, LABELS_FILE)
            return None
        return labels_from_json(text, self._names, str(self.path))
