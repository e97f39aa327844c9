"""Reading tensors from files someone else made: `torch.load` without code, errors in one line.

Three rules for every tensor container ganinv reads (rosinality ``.pt``, the tensor blobs inside
NVlabs pickles, user weight files):

- ``torch.load(weights_only=True)``, so the file cannot import or call anything off the list;
- torch's and safetensors' errors are re-worded into one `GanInvError` line (torch's own message
  spans several lines and suggests ``weights_only=False``, which would run the file's code);
- a tensor may not claim more elements than its storage holds (a stride-0 view of one float can
  claim a [100000, 100000] shape; copying it would allocate 40 GB);
- no length a file states is allocated before it is checked against the file's real size: pickles
  are walked opcode by opcode first (`check_pickle`: counted strings, memo indices), zip records
  and legacy storage sizes are compared with the bytes present, and only regular files are read.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import pickletools
import re
import stat
import zipfile
from collections.abc import Iterable
from typing import Any

import torch

from ganinv.core.errors import GanInvError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
# Sentences in torch's messages that advise running the file's code or point to docs.
_ADVICE = re.compile(r"weights_only|trust|safe_globals|documentation|https?://", re.IGNORECASE)
_MAX_DETAIL = 200


def reword(exc: BaseException) -> str:
    """One line describing `exc` (from torch, safetensors or pickle) without unsafe advice."""
    text = _ANSI.sub("", str(exc))
    found = _GLOBAL.search(text)
    if found:
        return (
            f"it references the Python object {found.group(1)}, which a weights file may not "
            "contain (unpickling it could run code)"
        )
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text)
    kept = [s.strip() for s in sentences if s.strip() and not _ADVICE.search(s)]
    detail = " ".join(kept[:2]) or type(exc).__name__
    if len(detail) > _MAX_DETAIL:
        detail = detail[: _MAX_DETAIL - 3] + "..."
    return f"{detail} ({type(exc).__name__})"


def parse_json(text: str, what: str, limit: int) -> Any:
    """JSON someone else wrote (a header field, a labels file), at most `limit` characters;
    anything else is one `GanInvError` line naming `what`."""
    if len(text) > limit:
        raise GanInvError(f"{what} is {len(text):,} characters (corrupt)")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge ints, deep nesting
        raise GanInvError(f"{what} is not valid JSON ({' '.join(str(exc).split())})") from exc


def read_file(path: str | os.PathLike[str]) -> bytes:
    """All bytes of the regular file `path` (FIFOs, devices and folders are refused)."""
    try:
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise GanInvError(f"{path} is not a regular file")
            return f.read(info.st_size)
    except FileNotFoundError as exc:
        raise GanInvError(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise GanInvError(f"{path} is a directory, not a checkpoint or weights file") from exc
    except OSError as exc:
        raise GanInvError(f"{path} cannot be read: {exc.strerror or exc}") from exc


_MEMO_OPS = {"PUT", "BINPUT", "LONG_BINPUT"}


def check_pickle(data: bytes, what: str, start: int = 0) -> int:
    """Walk the pickle at `data[start:]` without building anything; returns the offset after it.

    Python's unpickler allocates what a counted string says, and grows its memo to whatever index
    a PUT names, before checking either against the data (a 14-byte pickle can ask for 32 GB).
    Here every count is checked against the bytes present (``pickletools`` reads them from a
    buffer) and every memo index against the pickle's length.
    """
    stream = io.BytesIO(data)
    stream.seek(start)
    try:
        for op, arg, _ in pickletools.genops(stream):
            if op.name in _MEMO_OPS and not 0 <= int(arg) < len(data):
                raise GanInvError(f"{what}: pickle memo index {arg} is out of range (corrupt)")
    except GanInvError:
        raise
    except Exception as exc:  # truncated data, unknown opcode, counts beyond the end
        raise GanInvError(f"{what} is not a valid pickle: {reword(exc)}") from exc
    return stream.tell()


def _check_zip(data: bytes, what: str) -> None:
    """torch's zip reader allocates each record's stated size: it must fit in the file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise GanInvError(f"{what} is a damaged zip file: {reword(exc)}") from exc
    for record in records:
        if record.file_size > len(data) or record.compress_type != zipfile.ZIP_STORED:
            raise GanInvError(
                f"{what}: record {record.filename[:80]!r} states {record.file_size:,} bytes "
                "(compressed or larger than the file); not a PyTorch file"
            )


class _Inert(dict):
    """Stands for every global while storage sizes are read: accepts any construction and
    content, and builds nothing (so the scan can walk pickles torch would accept)."""

    storage_bytes = 0  # element size, for the storage classes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


_STORAGE_BYTES = {
    "DoubleStorage": 8,
    "FloatStorage": 4,
    "HalfStorage": 2,
    "BFloat16Storage": 2,
    "LongStorage": 8,
    "IntStorage": 4,
    "ShortStorage": 2,
    "CharStorage": 1,
    "ByteStorage": 1,
    "BoolStorage": 1,
    "UntypedStorage": 1,
}


class _StorageClaims(pickle.Unpickler):
    """Collects the (key, bytes) each legacy storage record claims; resolves nothing real."""

    def __init__(self, stream: io.BytesIO) -> None:
        super().__init__(stream)
        self.claims: dict[str, int] = {}
        self.inert: dict[str, type[_Inert]] = {}

    def find_class(self, module: str, name: str) -> Any:
        size = _STORAGE_BYTES.get(name, 0) if module in ("torch", "torch.storage") else 0
        if name not in self.inert:
            self.inert[name] = type(name, (_Inert,), {"storage_bytes": size})
        return self.inert[name]

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise GanInvError("unsupported persistent record")
        storage_type, key, numel = pid[1], pid[2], pid[4]
        size = getattr(storage_type, "storage_bytes", 0)
        if not size or isinstance(numel, bool) or not isinstance(numel, int) or numel < 0:
            raise GanInvError(f"unsupported storage record {str(pid)[:80]}")
        self.claims[str(key)] = numel * size
        return None


def _check_legacy(data: bytes, what: str) -> None:
    """torch's legacy format allocates each storage's stated size before reading it."""
    offset = 0
    for _ in range(3):  # magic number, protocol version, system info
        offset = check_pickle(data, what, offset)
    end = check_pickle(data, what, offset)
    scanner = _StorageClaims(io.BytesIO(data[offset:end]))
    try:
        scanner.load()
    except GanInvError as exc:
        raise GanInvError(f"{what}: {exc}") from exc
    except Exception as exc:
        raise GanInvError(f"{what} is not a valid PyTorch file: {reword(exc)}") from exc
    claimed = sum(scanner.claims.values())
    if claimed > len(data):
        raise GanInvError(
            f"{what} claims {claimed:,} bytes of tensor data but holds {len(data):,} (corrupt)"
        )


def torch_load(
    source: str | os.PathLike[str] | bytes,
    what: str,
    safe_globals: Iterable[Any] = (),
    kind: str = "a PyTorch file",
) -> Any:
    """``torch.load(weights_only=True)`` on the CPU of a file or its bytes, sizes checked first.

    Any failure is one `GanInvError` line; `what` names the file and `kind` what it should be.
    """
    data = source if isinstance(source, bytes) else read_file(source)
    if data.startswith(b"PK"):
        _check_zip(data, what)
    else:
        _check_legacy(data, what)
    allowed = list(safe_globals)
    context = torch.serialization.safe_globals(allowed) if allowed else contextlib.nullcontext()
    try:
        with context:
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except GanInvError:
        raise
    except Exception as exc:
        raise GanInvError(f"{what} cannot be loaded safely as {kind}: {reword(exc)}") from exc


def check_tensor(value: Any, where: str) -> torch.Tensor:
    """`value` itself if it is a real (CPU) tensor backed by as many elements as it claims."""
    if not isinstance(value, torch.Tensor):
        raise GanInvError(f"{where} is a {type(value).__name__}, expected a tensor")
    if not (value.is_floating_point() or value.dtype in (torch.int64, torch.int32, torch.bool)):
        raise GanInvError(f"{where} has dtype {value.dtype}; expected a floating-point tensor")
    return check_extent(value, where)


def check_extent(value: torch.Tensor, where: str) -> torch.Tensor:
    """`value` (any dtype) if it is a dense CPU tensor whose data lies inside its storage."""
    if value.device.type != "cpu" or value.is_sparse or value.layout != torch.strided:
        raise GanInvError(f"{where} is not a dense CPU tensor ({value.layout}, {value.device})")
    # A view's highest element must lie inside its storage, and a tensor may not hold more elements
    # than its storage (stride-0 views repeat one value without storing it).
    needed = value.numel() * value.element_size()
    if value.numel():
        extent = 1 + sum((n - 1) * s for n, s in zip(value.shape, value.stride()))
        end = (value.storage_offset() + extent) * value.element_size()
        needed = max(needed, end)
    if needed > value.untyped_storage().nbytes():
        raise GanInvError(
            f"{where} claims shape {tuple(value.shape)} but its data holds "
            f"{value.untyped_storage().nbytes()} bytes (a repeated or truncated tensor)"
        )
    return value


def check_state(state: Any, where: str) -> dict[str, torch.Tensor]:
    """`state` as a dict of str -> checked tensor; anything else is one `GanInvError` line."""
    if not isinstance(state, dict):
        raise GanInvError(f"{where} is a {type(state).__name__}, expected a dict of tensors")
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise GanInvError(f"{where} has a key of type {type(key).__name__}, expected names")
        out[key] = check_tensor(value, f"{where}[{key!r}]")
    return out
