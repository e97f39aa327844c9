"""Training checkpoints: plain state dicts written atomically, read with ``weights_only=True``.

A checkpoint holds only tensors, numbers, strings, lists and dicts (model, optimiser and scheduler
state dicts, RNG states, the step counter and the best metric so far), so loading never runs code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write

TRAIN_FORMAT = "ganinv-train-v1"


def save_training_state(path: Path, state: dict[str, Any]) -> Path:
    """Atomic: after a crash the file is the previous complete checkpoint or the new one."""
    return atomic_write(path, lambda p: torch.save({"format": TRAIN_FORMAT, **state}, p))


def load_training_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise GanInvError(
            f"no training checkpoint at {str(path)!r}; start without --resume or point `out` at "
            "the run to continue"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise GanInvError(f"training checkpoint {str(path)!r} cannot be read: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != TRAIN_FORMAT:
        raise GanInvError(f"{str(path)!r} is not a ganinv training checkpoint ({TRAIN_FORMAT})")
    return state


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete ``.name.XXXX.tmp`` files that a killed run left behind (never a finished file)."""
    removed = []
    if directory.is_dir():
        for tmp in directory.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed
