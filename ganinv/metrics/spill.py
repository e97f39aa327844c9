"""Float32 rows [N, D] kept in an anonymous temporary file and read back in blocks.

For statistics that need every vector and more of them than should sit in memory (SWD keeps
every descriptor of every image, as ProGAN does: 16,384 images x 128 x 147 floats = 1.2 GB per
level and set). Appending writes the rows out at once, so the process holds only the block it
is working on; the operating system's page cache may keep the file's pages, and gives them back
under memory pressure. The file is unlinked as soon as it is created (`tempfile.TemporaryFile`),
so nothing is left on disk, even after a crash.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import numpy as np
import torch

from ganinv.core.errors import GanInvError


class SpilledRows:
    def __init__(self, width: int, directory: str | None = None) -> None:
        if width < 1:
            raise ValueError("row width must be positive")
        self.width = width
        self.rows = 0
        self.directory = directory or tempfile.gettempdir()
        try:
            self._file = tempfile.TemporaryFile(dir=self.directory)
        except OSError as error:
            raise GanInvError(
                f"cannot create a spill file in {self.directory}: {error}; "
                "choose a writable directory"
            ) from error

    def update(self, rows: torch.Tensor) -> None:
        """Append rows [n, width] (any float dtype and device; stored as float32)."""
        array = rows.detach().to("cpu", torch.float32).contiguous().numpy()
        if array.ndim != 2 or array.shape[1] != self.width:
            raise GanInvError(f"spilled rows are {self.width} wide, got shape {array.shape}")
        if not array.shape[0]:
            return
        self._file.seek(self.nbytes)
        try:
            self._file.write(memoryview(array).cast("B"))
        except OSError as error:
            raise GanInvError(
                f"cannot write the spill file in {self.directory}: {error}; "
                "free disk space there or choose another directory"
            ) from error
        self.rows += array.shape[0]

    @property
    def nbytes(self) -> int:
        return self.rows * self.width * 4

    def blocks(self, block_rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, rows [n, width]) in order. The array is one reused buffer: copy to keep."""
        buffer = np.empty((max(1, min(block_rows, self.rows)), self.width), np.float32)
        self._file.flush()
        self._file.seek(0)
        for start in range(0, self.rows, buffer.shape[0]):
            view = buffer[: min(buffer.shape[0], self.rows - start)]
            got = self._file.readinto(memoryview(view).cast("B"))
            if got != view.nbytes:  # the file is ours alone: a short read means the disk failed
                raise GanInvError(f"spill file read {got} of {view.nbytes} bytes; check disk space")
            yield start, view

    def read_all(self) -> torch.Tensor:
        """Every row as one tensor [rows, width] (memory: rows x width x 4 bytes)."""
        out = np.empty((self.rows, self.width), np.float32)
        for start, block in self.blocks(65_536):
            out[start : start + block.shape[0]] = block
        return torch.from_numpy(out)

    def close(self) -> None:
        self._file.close()
