"""Training checkpoints: plain state dicts written atomically, read with ``weights_only=True``.

A checkpoint holds only tensors, numbers, strings, lists and dicts (model, optimiser and scheduler
state dicts, RNG states, the step counter and the best metric so far), so loading never runs code.

`KillPoint` is the deterministic crash of the resume tests: with ``GANINV_KILL_AFTER_CHECKPOINT=N``
(or ``N+K``) in the environment a trainer SIGKILLs its own process right after writing its N-th
checkpoint (or K training steps later), so a test kills at a known point instead of racing a
running process.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write

TRAIN_FORMAT = "ganinv-train-v1"
KILL_ENV = "GANINV_KILL_AFTER_CHECKPOINT"


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


class KillPoint:
    """Reads ``GANINV_KILL_AFTER_CHECKPOINT`` once; the trainer reports checkpoints and steps.

    ``N``: SIGKILL right after the N-th checkpoint this process writes. ``N+K``: after the K-th
    training step that follows it (so the log holds steps past the checkpoint, as after a real
    crash). Unset: never.
    """

    def __init__(self) -> None:
        value = os.environ.get(KILL_ENV, "").strip()
        self.after: tuple[int, int] | None = None
        if value:
            match = re.fullmatch(r"(\d+)(?:\+(\d+))?", value)
            if match is None or int(match[1]) < 1:
                raise GanInvError(
                    f"environment variable {KILL_ENV}={value!r} must be N or N+K with N >= 1 "
                    "(a testing hook); unset it to train normally"
                )
            self.after = (int(match[1]), int(match[2] or 0))
        self.checkpoints = 0
        self.steps_since = 0  # training steps finished since the N-th checkpoint

    def step_finished(self) -> None:
        """Call after each training step is logged, before its checkpoint (if any)."""
        if self.after is not None and self.checkpoints >= self.after[0]:
            self.steps_since += 1
            self._maybe_kill()

    def checkpoint_written(self) -> None:
        """Call after a resumable checkpoint is completely written."""
        self.checkpoints += 1
        self._maybe_kill()

    def _maybe_kill(self) -> None:
        if self.after is None or self.checkpoints < self.after[0]:
            return
        if self.steps_since == self.after[1]:
            os.kill(os.getpid(), signal.SIGKILL)
