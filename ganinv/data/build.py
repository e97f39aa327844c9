"""`build_dataset`: a dataset from a config section, and format detection for paths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ganinv.core.errors import GanInvError
from ganinv.core.registry import DATASETS

FORMATS = ("folder", "zip", "lmdb", "idx")


def build_dataset(spec: str | dict[str, Any], **overrides: Any) -> Any:
    """Construct a registered dataset from ``{"name": ..., **arguments}`` (or a bare name).

    Keys are checked strictly against the dataset's constructor: an unknown key raises
    `GanInvError` with the closest valid key. Example::

        build_dataset({"name": "folder", "path": "faces/", "resolution": 64, "split": "test",
                       "limit": 256, "on_error": "skip"})
    """
    if isinstance(spec, dict):
        spec = {k: os.fspath(v) if isinstance(v, os.PathLike) else v for k, v in spec.items()}
    return DATASETS.build(spec, **overrides)


def detect_format(path: str | os.PathLike[str]) -> str:
    """The dataset format of a path: ``zip``, ``lmdb``, ``idx`` or ``folder``."""
    path = Path(path)
    if not path.exists():
        raise GanInvError(f"{str(path)!r} does not exist")
    if path.is_file():
        if path.suffix.lower() == ".zip":
            return "zip"
        if path.suffix == ".mdb":
            return "lmdb"
        raise GanInvError(
            f"cannot tell the format of the file {str(path)!r}: expected a .zip archive, an LMDB "
            "data.mdb, or a folder"
        )
    if (path / "data.mdb").is_file():
        return "lmdb"
    if any(path.glob("*-images*idx3-ubyte*")):
        return "idx"
    return "folder"
