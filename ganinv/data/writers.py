"""Dataset writers for `ganinv data convert`: folder, zip and LMDB, each written atomically.

Every writer stores image i under a name that sorts in index order, so that reading the output
gives the images in the order they were added:
- ``folder``: files ``00000000.png``, ``00000001.png``, ... (up to 10^8 images);
- ``zip``: the same names as members (stored uncompressed: PNG is compressed already);
- ``lmdb``: the ganinv layout (`ganinv.data.lmdb_dataset`).
Labels, when given, go to ``dataset.json`` (folder, zip) or the LMDB metadata record.

Output is built under a temporary name next to the destination and renamed into place when
complete; an interrupted conversion leaves no partial destination behind, and the temporaries a
killed conversion left are removed by the next one (`ganinv.core.outputs`).

Every output carries a marker: a ``.ganinv-output.json`` file (folder, LMDB) or the archive
comment `ZIP_MARKER` (zip). ``overwrite`` replaces only a destination with that marker, and never
one that is, or contains, the source; anything else is refused with the reason.
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
from ganinv.core.outputs import is_marked, remove_stale_temporaries, temp_prefix, write_marker
from ganinv.data.labels import LABELS_FILE, labels_to_json
from ganinv.data.lmdb_dataset import LAYOUT_NAME, META_KEY

DATASET_KIND = "data convert"
ZIP_MARKER = b"written by ganinv data convert"
KEY_WIDTH = 8
MAX_IMAGES = 10**KEY_WIDTH  # names must keep sorting in index order


def _index_key(index: int) -> str:
    if index >= MAX_IMAGES:
        raise GanInvError(f"a converted dataset holds at most {MAX_IMAGES} images")
    return str(index).zfill(KEY_WIDTH)


def _entry_name(index: int, extension: str) -> str:
    return f"{_index_key(index)}.{extension}"


def is_ganinv_zip(path: Path) -> bool:
    """True when `path` is a zip archive written by `ganinv data convert`."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.comment == ZIP_MARKER
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def check_replaceable(destination: Path, overwrite: bool, source: Path | None = None) -> None:
    """Refuse (GanInvError, with the reason) unless `destination` may be written.

    It may when it does not exist, or with `overwrite` when it is a previous output of
    `ganinv data convert` (marker) that neither is nor contains `source`.
    """
    if not (destination.exists() or destination.is_symlink()):
        return
    where = str(destination)
    if not overwrite:
        raise GanInvError(f"{where!r} exists; choose another name or pass --overwrite")
    if destination.is_symlink():
        raise GanInvError(f"{where!r} is a symbolic link; --overwrite replaces only real outputs")
    if source is not None:
        real_source, real_destination = source.resolve(), destination.resolve()
        if real_source == real_destination or real_destination in real_source.parents:
            raise GanInvError(f"{where!r} holds the source; --overwrite will not replace it")
    if destination.is_dir():
        ours = is_marked(destination, DATASET_KIND)
    else:
        ours = destination.is_file() and is_ganinv_zip(destination)
    if not ours:
        raise GanInvError(
            f"{where!r} was not written by `ganinv data convert` (no ganinv marker); "
            "--overwrite replaces only such outputs: remove it yourself or choose another name"
        )


def _replace_into(tmp: Path, destination: Path, overwrite: bool, source: Path | None) -> None:
    """Move a finished temporary output onto `destination` (a file or a directory)."""
    check_replaceable(destination, overwrite, source)  # again: it may have changed meanwhile
    if destination.exists():
        old = destination.with_name(temp_prefix(destination) + "old")
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

    def __init__(
        self,
        destination: str | os.PathLike[str],
        overwrite: bool = False,
        source: str | os.PathLike[str] | None = None,
    ) -> None:
        self.destination = Path(destination)
        self.source = None if source is None else Path(source)
        check_replaceable(self.destination, overwrite, self.source)
        self.overwrite = overwrite
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.destination)  # what a killed conversion left
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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tmp = Path(
            tempfile.mkdtemp(prefix=temp_prefix(self.destination), dir=self.destination.parent)
        )

    def add(self, data: bytes, extension: str) -> None:
        name = _entry_name(self.count, extension)
        (self.tmp / name).write_bytes(data)
        self.names.append(name)
        self.count += 1

    def finish(self, labels: list[int] | None = None) -> Path:
        if labels is not None:
            (self.tmp / LABELS_FILE).write_text(labels_to_json(self.names, labels), "utf-8")
        write_marker(self.tmp, DATASET_KIND, self.names)
        os.chmod(self.tmp, 0o755)  # mkdtemp makes it private
        _replace_into(self.tmp, self.destination, self.overwrite, self.source)
        return self.destination

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


class ZipWriter(DatasetWriter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fd, tmp = tempfile.mkstemp(
            prefix=temp_prefix(self.destination), suffix=".tmp", dir=self.destination.parent
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
        self.archive.comment = ZIP_MARKER
        self.archive.close()
        with open(self.tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(self.tmp, 0o644)
        _replace_into(self.tmp, self.destination, self.overwrite, self.source)
        return self.destination

    def abort(self) -> None:
        self.archive.close()
        self.tmp.unlink(missing_ok=True)


class LmdbWriter(DatasetWriter):
    # Address space reserved for the map; on Linux the file only grows as data is written.
    MAP_SIZE = 1 << 40
    BATCH = 256

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tmp = Path(
            tempfile.mkdtemp(prefix=temp_prefix(self.destination), dir=self.destination.parent)
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
        write_marker(self.tmp, DATASET_KIND, ["data.mdb", "lock.mdb"])
        os.chmod(self.tmp, 0o755)
        _replace_into(self.tmp, self.destination, self.overwrite, self.source)
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
    format: str,
    destination: str | os.PathLike[str],
    overwrite: bool = False,
    source: str | os.PathLike[str] | None = None,
) -> DatasetWriter:
    """A writer for `format` (``folder`` | ``zip`` | ``lmdb``) at `destination`; `source`, when
    given, is never replaced (see `check_replaceable`)."""
    if format not in WRITERS:
        raise GanInvError(f"unknown output format {format!r}: use one of {sorted(WRITERS)}")
    return WRITERS[format](destination, overwrite=overwrite, source=source)
