"""Reading an edit-direction file (format ``ganinv-direction``), below the harness so that both
`ganinv edit` and the editability benchmark of `ganinv bench` read directions the same way.

A direction file is a safetensors file with one tensor ``direction`` ([w_dim] or [num_ws, w_dim],
floating point) and a JSON object ``info`` in its header (how the direction was made), or a ``.pt``
file holding a tensor or ``{'direction': tensor}`` loaded weights-only. Everything is checked from
the file's table before a tensor is read: shape, dtype, the total size of every tensor in it, and
finite values after reading.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ganinv.checkpoints.safe_load import check_tensor, parse_json, torch_load
from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import read_table, read_tensors

DIRECTION_FORMAT = "ganinv-direction"
# A W+ direction at 1024 px holds 18 * 512 = 9,216 values; a file claiming far more is not one.
MAX_DIRECTION_VALUES = 1 << 20
MAX_INFO_CHARS = 64 << 20
# dtype names as torch (.pt) and safetensors (.safetensors) spell them.
_FLOAT_DTYPES = {"torch.float32", "torch.float16", "torch.bfloat16", "torch.float64"}
_FLOAT_DTYPES |= {"F32", "F16", "BF16", "F64"}


def load_direction_file(path: str | os.PathLike[str]) -> tuple[torch.Tensor, dict[str, Any]]:
    """(direction, info) of a direction file, checked before anything is allocated for it."""
    path = Path(path)
    if not path.exists():
        raise GanInvError(f"direction file {str(path)!r} does not exist")
    if path.suffix == ".safetensors":
        return _safetensors_direction(path)
    what = f"direction file {str(path)!r}"
    value = torch_load(path, what, kind="a direction (a tensor or {'direction': tensor})")
    if isinstance(value, dict) and "direction" in value:
        value = value["direction"]
    if not isinstance(value, torch.Tensor):
        raise GanInvError(f"{what} holds a {type(value).__name__}, not a direction tensor")
    check_direction_shape(tuple(value.shape), str(value.dtype), what)
    return _check_values(check_tensor(value, what), what), {}


def _safetensors_direction(path: Path) -> tuple[torch.Tensor, dict[str, Any]]:
    what = f"direction file {str(path)!r}"
    header, table = read_table(path, "direction file")
    if "direction" not in table:
        raise GanInvError(f"{what} has no 'direction' tensor (it holds {sorted(table)[:5]})")
    check_direction_shape(table["direction"].shape, table["direction"].dtype, what)
    # Every tensor of the file is read below: their total is bounded too, not just the direction.
    total = sum(info.numel for info in table.values())
    if total > MAX_DIRECTION_VALUES:
        raise GanInvError(
            f"{what} holds {total:,} values in {len(table)} tensors; a direction file holds one "
            f"direction of at most {MAX_DIRECTION_VALUES:,}"
        )
    info = parse_json(header.get("info", "{}"), f"{what} header field 'info'", MAX_INFO_CHARS)
    if not isinstance(info, dict):
        raise GanInvError(f"{what} header field 'info' must be a JSON object")
    direction = read_tensors(path, "direction file")["direction"]
    return _check_values(check_tensor(direction, what), what), info


def check_direction_shape(shape: tuple[int, ...], dtype: str, what: str) -> None:
    """A direction is [w_dim] or [num_ws, w_dim] floats of bounded size (checked before reading)."""
    count = 1
    for size in shape:
        count *= size
    if len(shape) not in (1, 2) or count == 0 or count > MAX_DIRECTION_VALUES:
        raise GanInvError(
            f"{what}: 'direction' has shape {list(shape)}; expected [w_dim] or [num_ws, w_dim] "
            f"with at most {MAX_DIRECTION_VALUES:,} values"
        )
    if dtype not in _FLOAT_DTYPES:
        raise GanInvError(f"{what}: 'direction' has dtype {dtype}; expected floating point")


def _check_values(direction: torch.Tensor, what: str) -> torch.Tensor:
    if not bool(torch.isfinite(direction).all()):
        raise GanInvError(f"{what}: 'direction' holds NaN or infinite values")
    return direction
