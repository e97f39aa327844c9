"""Reading and writing ganinv's safetensors files: tensors plus a string-to-string header.

One place for what every reader must do with a file that may be hostile: only regular files,
one-line `GanInvError`s naming the file, and the tensor table (names, dtypes, shapes) readable
without reading any tensor data, so callers can check what a file holds before allocating for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the file's table describes it (no data read)."""

    dtype: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        count = 1
        for size in self.shape:
            count *= size
        return count


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _unreadable(path: Path, exc: BaseException) -> GanInvError:
    return GanInvError(f"{str(path)!r} is not a readable safetensors file: {_one_line(exc)}")


def _regular_file(path: Path, what: str) -> None:
    if not path.exists():
        raise GanInvError(f"{what} {str(path)!r} does not exist")
    if not path.is_file():
        raise GanInvError(f"{what} {str(path)!r} is not a regular file")


def read_table(
    path: str | os.PathLike[str], what: str = "file"
) -> tuple[dict[str, str], dict[str, TensorInfo]]:
    """(header, {name: TensorInfo}) of a safetensors file, without reading tensor data."""
    from safetensors import safe_open

    path = Path(path)
    _regular_file(path, what)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            header = dict(f.metadata() or {})
            table = {}
            for name in f.keys():
                sliced = f.get_slice(name)
                table[name] = TensorInfo(str(sliced.get_dtype()), tuple(sliced.get_shape()))
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise GanInvError(
            f"{str(path)!r} is not a readable safetensors file: {_one_line(exc)}"
        ) from exc
    return header, table


def read_tensors(path: str | os.PathLike[str], what: str = "file") -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors file, on the CPU."""
    from safetensors import safe_open

    path = Path(path)
    _regular_file(path, what)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            return {name: f.get_tensor(name) for name in f.keys()}
    except Exception as exc:
        raise GanInvError(
            f"{str(path)!r} is not a readable safetensors file: {_one_line(exc)}"
        ) from exc


def write_file(
    path: str | os.PathLike[str], tensors: dict[str, torch.Tensor], header: dict[str, str]
) -> Path:
    """Write tensors (made contiguous, on the CPU) and a string header atomically."""
    from safetensors.torch import save_file

    data = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    return atomic_write(path, lambda p: save_file(data, str(p), metadata=header))
