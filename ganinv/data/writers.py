"""Dataset writers for `ganinv data convert`: folder, zip and LMDB, each written atomically.

Every writer stores image i under a name that sorts in index order, so that reading the output
gives the images in the order they were added:
- ``folder``: files ``00000000.png``, ``00000001.png``, ... (up to 10^8 images);
- ``zip``: the same names as members (stored uncompressed: PNG is compressed already);
- ``lmdb``: the ganinv layout (`ganinv.data.lmdb_dataset`).
Labels, when given, go to ``dataset.json`` (folder, zip) or the LMDB metadata record.

Output is built under a temporary name next to the destination and renamed into place when
complete; an interrupted conversion leaves no partial destination behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import lmdb

from ganinv.core.errors import GanInvError
from ganinv.data.labels import LABELS_FILE, labels_to_json
from ganinv.data.lmdb_dataset import LAYOUT_NAME, META_KEY

KEY_WIDTH = 8
MAX_IMAGES = 10**KEY_WIDTH  # names must keep sorting in index order


def _index_key(index: int) -> str:
    if index >= MAX_IMAGES:
        raise GanInvError(f"a converted dataset holds at most {MAX_IMAGES} images")
    return str(index).zfill(KEY_WIDTH)


def _entry_name(index: int, extension: str) -> str:
    return f"{_index_key(index)}.{extension}"


def _replace_into(tmp: Path, destination: Path, overwrite: bool) -> None:
    """Move a finished temporary output onto `destination` (a file or a directory)."""
    if destination.exists() or destination.is_symlink():
        if not overwrite:
            raise GanInvError(f"{str(destination)!r} exists; choose another name or --overwrite")
        old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
        os.replace(destination, old)
        os.replace(tmp, destination)
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    else:
        os.replace(tmp, destination)


class DatasetWriter:
    """Base of the writers: ``add`` encoded images in order, then ``finish`` (or ``abort``)."""

    def __init__(self, destination: str | os.PathLike[str], overwrite: bool = False) -> None:
        self.destination = Path(destination)
        if self.destination.exists() and not overwrite:
            raise GanInvError(
                f"{str(self.destination)!r} exists; choose another name or pass --overwrite"
            )
        self.overwrite = overwrite
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.names: list[str] = []

    def add(self, data: bytes, extension: str) -> None:
        raise NotImplementedError

    def finish(self, labels: list[int] | None = None) -> Path:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is not None:
            self.abort()


class FolderWriter(DatasetWriter):
    def __init__(self, destination: str | os.PathLike[str], overwrite: bool = False) -> None:
        super().__init__(destination, overwrite)
        self.tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.destination.name}.", dir=self.destination.parent)
        )

    def add(self, data: bytes, extension: str) -> None:
        name = _entry_name(self.count, extension)
        (self.tmp / name).write_bytes(data)
        self.names.append(name)
        self.count += 1

    def finish(self, labels: list[int] | None = None) -> Path:
        if labels is not None:
            (self.tmp / LABELS_FILE).write_text(labels_to_json(self.names, labels), "utf-8")
        os.chmod(self.tmp, 0o755)  # mkdtemp makes it private
        _replace_into(self.tmp, self.destination, self.overwrite)
        return self.destination

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


class ZipWriter(DatasetWriter):
    def __init__(self, destination: str | os.PathLike[str], overwrite: bool = False) -> None:
        super().__init__(destination, overwrite)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.destination.name}.", suffix=".tmp", dir=self.destination.parent
        )
        os.close(fd)
        self.tmp = Path(tmp)
        self.archive = zipfile.ZipFile(self.tmp, "w", compression=zipfile.ZIP_STORED)

    def add(self, data: bytes, extension: str) -> None:
        name = _entry_name(self.count, extension)
        self.archive.writestr(name, data)
        self.names.append(name)
        self.count += 1

    def finish(self, labels: list[int] | None = None) -> Path:
        if labels is not None:
            self.archive.writestr(LABELS_FILE, labels_to_json(self.names, labels))
        self.archive.close()
        with open(self.tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(self.tmp, 0o644)
        _replace_into(self.tmp, self.destination, self.overwrite)
        return self.destination

    def abort(self) -> None:
        self.archive.close()
        self.tmp.unlink(missing_ok=True)


class LmdbWriter(DatasetWriter):
    # Address space reserved for the map; on Linux the file only grows as data is written.
    MAP_SIZE = 1 << 40
    BATCH = 256

    def __init__(self, destination: str | os.PathLike[str], overwrite: bool = False) -> None:
        super().__init__(destination, overwrite)
        self.tmp = Path(
            tempfile.mkdtemp(prefix=f".{self.destination.name}.", dir=self.destination.parent)
        )
        self.env = lmdb.open(str(self.tmp), map_size=self.MAP_SIZE, subdir=True, meminit=False)
        self.txn = self.env.begin(write=True)
        self.encoding = ""

    def add(self, data: bytes, extension: str) -> None:
        key = _index_key(self.count).encode("ascii")
        self.txn.put(key, data)
        self.encoding = self.encoding or extension
        self.count += 1
        if self.count % self.BATCH == 0:
            self.txn.commit()
            self.txn = self.env.begin(write=True)

    def finish(self, labels: list[int] | None = None) -> Path:
        meta = {
            "layout": LAYOUT_NAME,
            "version": 1,
            "count": self.count,
            "key_width": KEY_WIDTH,
            "encoding": self.encoding or None,
            "labels": None if labels is None else [int(y) for y in labels],
        }
        self.txn.put(META_KEY, json.dumps(meta).encode("utf-8"))
        self.txn.commit()
        self.env.sync(True)
        self.env.close()
        os.chmod(self.tmp, 0o755)
        _replace_into(self.tmp, self.destination, self.overwrite)
        return self.destination

    def abort(self) -> None:
        try:
            self.txn.abort()
            self.env.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


WRITERS: dict[str, type[DatasetWriter]] = {
    "folder": FolderWriter,
    "zip": ZipWriter,
    "lmdb": LmdbWriter,
}


def open_writer(
    format: str, destination: str | os.PathLike[str], overwrite: bool = False
) -> DatasetWriter:
    """A writer for `format` (``folder`` | ``zip`` | ``lmdb``) at `destination`."""
    if format not in WRITERS:
        raise GanInvError(f"unknown output format {format!r}: use one of {sorted(WRITERS)}")
    return WRITERS[format](destination, overwrite=overwrite)
