"""`folder`: every image under a directory, recursively, in sorted order of relative path."""

from __future__ import annotations

import os

import numpy as np

from ganinv.core.errors import GanInvError
from ganinv.core.registry import DATASETS
from ganinv.data.base import ImageDataset
from ganinv.data.decode import IMAGE_EXTENSIONS, is_image_name, read_image_file
from ganinv.data.labels import LABELS_FILE, labels_from_json, read_labels_file


def list_image_files(root: str | os.PathLike[str]) -> tuple[list[str], int]:
    """Relative POSIX paths of image files under `root`, sorted; and how many other files.

    Hidden files and directories (names starting with '.') are ignored, so are files whose
    extension is not in `IMAGE_EXTENSIONS` (counted as the second value). Symlinked directories
    are not followed (no cycles).
    """
    names: list[str] = []
    others = 0
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        rel_dir = os.path.relpath(directory, root)
        for file in files:
            if file.startswith("."):
                continue
            rel = file if rel_dir == "." else f"{rel_dir}/{file}".replace(os.sep, "/")
            if is_image_name(file):
                names.append(rel)
            elif file != LABELS_FILE:
                others += 1
    names.sort()
    return names, others


@DATASETS.register("folder")
class FolderDataset(ImageDataset):
    """Images in a directory tree (see `ImageDataset` for the arguments).

    Order: sorted by relative path (byte order of the UTF-8 names), the same on every machine.
    Labels: from ``dataset.json`` at the root when present (NVlabs layout).
    """

    FORMAT = "folder"

    def _index(self) -> int:
        if not self.path.is_dir():
            raise GanInvError(f"image folder {str(self.path)!r} does not exist or is not a folder")
        self._names, self.ignored_files = list_image_files(self.path)
        return len(self._names)

    def _empty_hint(self) -> str:
        return (
            f"looked recursively for {', '.join(IMAGE_EXTENSIONS)}; "
            f"{self.ignored_files} other file(s) ignored"
        )

    def _entry_name(self, position: int) -> str:
        return self._names[position]

    def _output_key(self, position: int) -> str:
        # The relative path without its extension: sub/a.png -> sub/a.
        name = self._names[position]
        return name[: -len(os.path.splitext(name)[1]) or None]

    def _read_bytes(self, position: int, size: int | None = None) -> bytes:
        # Regular files only, bounded: a FIFO or device named x.png must not hang the read.
        name = self._names[position]
        return read_image_file(self.path / name, name, size)

    def _all_labels(self) -> np.ndarray | None:
        labels_path = self.path / LABELS_FILE
        if not labels_path.is_file():
            return None
        text = read_labels_file(labels_path)
        return labels_from_json(text, self._names, str(self.path))
