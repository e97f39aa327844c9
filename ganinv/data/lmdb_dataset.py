"""`lmdb`: images stored as encoded bytes in an LMDB environment.

Two layouts are read:

- **ganinv layout** (written by `ganinv data convert --format lmdb`): the key ``__ganinv__`` holds
  UTF-8 JSON ``{"layout": "ganinv-lmdb", "version": 1, "count": n, "key_width": 8,
  "encoding": "png", "labels": [...] | null}``; image i is stored under the ASCII key
  ``str(i).zfill(key_width)`` (``00000000``, ``00000001``, ...). Order = i; nothing is listed.
- **LSUN layout** (and any other key -> encoded image store): every key is one image (WebP in
  LSUN, or JPEG/PNG); order = LMDB key order (bytewise). The keys are listed once at construction
  with a cursor, without reading values. Keys that common writers use for metadata (``length``,
  ``__len__``, ``__keys__``) are not images and are left out.

The environment is opened read-only with ``lock=False, readahead=False`` (many readers, no page
cache flooding), once per process, on first read.
"""

from __future__ import annotations

import json
import os
from typing import Any

import lmdb
import numpy as np

from ganinv.core.errors import GanInvError
from ganinv.core.registry import DATASETS
from ganinv.data.base import ImageDataset

META_KEY = b"__ganinv__"
LAYOUT_NAME = "ganinv-lmdb"
METADATA_KEYS = (META_KEY, b"length", b"__len__", b"__keys__")


def open_lmdb_readonly(path: str) -> lmdb.Environment:
    """Open an LMDB environment (directory with data.mdb, or the data file itself) to read."""
    subdir = os.path.isdir(path)
    data_file = os.path.join(path, "data.mdb") if subdir else path
    # A FIFO or device would block the open or never end: only a regular data file is opened.
    if os.path.exists(data_file) and not os.path.isfile(data_file):
        raise GanInvError(f"LMDB database {data_file!r} is not a regular file")
    try:
        return lmdb.open(
            path,
            readonly=True,
            lock=False,
            readahead=False,
            meminit=False,
            subdir=subdir,
            max_readers=1024,
        )
    except lmdb.Error as exc:
        raise GanInvError(f"{path!r} is not a readable LMDB database ({exc})") from exc


# One environment per database per process, shared by every dataset reading it (e.g. the train
# and test split of one LMDB): py-lmdb refuses to open the same path twice in a process.
_shared: dict[str, list[Any]] = {}  # real path -> [environment, number of users]
_shared_pid: list[int] = [os.getpid()]


def _shared_for_this_process() -> dict[str, list[Any]]:
    if _shared_pid[0] != os.getpid():
        # Forked: the environments were opened by the parent; close this process's copies so
        # that the paths can be opened again here.
        for env, _ in _shared.values():
            try:
                env.close()
            except lmdb.Error:
                pass
        _shared.clear()
        _shared_pid[0] = os.getpid()
    return _shared


def acquire_lmdb(path: str) -> lmdb.Environment:
    """The process's read-only environment for `path`, opened on first use (see `release_lmdb`)."""
    pool = _shared_for_this_process()
    key = os.path.realpath(path)
    if key not in pool:
        pool[key] = [open_lmdb_readonly(path), 0]
    pool[key][1] += 1
    return pool[key][0]


def release_lmdb(path: str) -> None:
    """Drop one user of the environment for `path`; the last one closes it."""
    pool = _shared_for_this_process()
    key = os.path.realpath(path)
    if key in pool:
        pool[key][1] -= 1
        if pool[key][1] <= 0:
            pool.pop(key)[0].close()


@DATASETS.register("lmdb")
class LmdbDataset(ImageDataset):
    """Images in an LMDB database, LSUN or ganinv layout (see the module docstring)."""

    FORMAT = "lmdb"

    def _open(self) -> Any:
        if not self.path.exists():
            raise GanInvError(f"LMDB database {str(self.path)!r} does not exist")
        return acquire_lmdb(str(self.path))

    def _close(self, handle: Any) -> None:
        release_lmdb(str(self.path))

    def _index(self) -> int:
        env = self.handle()
        with env.begin(buffers=False) as txn:
            meta = txn.get(META_KEY)
            if meta is not None:
                self._meta = self._parse_meta(meta)
                self._keys = None
                return int(self._meta["count"])
            self._meta = None
            keys = [
                bytes(k)
                for k in txn.cursor().iternext(keys=True, values=False)
                if bytes(k) not in METADATA_KEYS
            ]
        # A fixed-width bytes array holds millions of keys compactly; fall back to objects for
        # keys that end in NUL bytes (numpy would strip them).
        if keys and not any(k.endswith(b"\x00") for k in keys):
            self._keys = np.array(keys)
        else:
            self._keys = np.array(keys, dtype=object)
        return len(self._keys)

    def _parse_meta(self, raw: bytes) -> dict[str, Any]:
        try:
            meta = json.loads(bytes(raw).decode("utf-8"))
            assert meta["layout"] == LAYOUT_NAME and int(meta["count"]) >= 0
            int(meta["key_width"])
        except (ValueError, KeyError, AssertionError, TypeError, RecursionError) as exc:
            raise GanInvError(
                f"LMDB {str(self.path)!r}: the {META_KEY.decode()!r} record is damaged ({exc}); "
                "re-create the database with `ganinv data convert`"
            ) from exc
        if meta.get("version", 1) > 1:
            raise GanInvError(
                f"LMDB {str(self.path)!r} was written by a newer ganinv (layout version "
                f"{meta['version']}); upgrade ganinv"
            )
        return meta

    def _key(self, position: int) -> bytes:
        if self._keys is None:
            return str(position).zfill(int(self._meta["key_width"])).encode("ascii")
        return bytes(self._keys[position])

    def _entry_name(self, position: int) -> str:
        return self._key(position).decode("utf-8", errors="backslashreplace")

    def _read_bytes(self, position: int, size: int | None = None) -> bytes:
        with self.handle().begin(buffers=True) as txn:
            value = txn.get(self._key(position))
            if value is None:
                raise OSError("key missing from the database")
            return bytes(value) if size is None else bytes(value[:size])

    def _all_labels(self) -> np.ndarray | None:
        if self._meta is None or self._meta.get("labels") is None:
            return None
        labels = np.asarray(self._meta["labels"], dtype=np.int64)
        if labels.shape != (int(self._meta["count"]),):
            raise GanInvError(f"LMDB {str(self.path)!r}: labels do not match the image count")
        return labels
