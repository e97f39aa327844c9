"""Training log: JSON lines (one record per line, flushed), optional TensorBoard."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class RunLogger:
    """Appends records to ``log.jsonl``; mirrors scalars to TensorBoard when asked and installed."""

    def __init__(self, path: Path, tensorboard_dir: Path | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        self._tb = None
        self.tensorboard_note = ""
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self.tensorboard_note = "tensorboard is not installed; logging to log.jsonl only"
            else:
                self._tb = SummaryWriter(str(tensorboard_dir))

    def log(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        if self._tb is not None and "step" in record:
            for key, value in record.items():
                if isinstance(value, (int, float)) and key != "step":
                    self._tb.add_scalar(key, value, record["step"])

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()


def truncate_log(path: Path, last_step: int) -> None:
    """Drop records after `last_step` (written after the checkpoint a resumed run restarts from)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a line cut short by a kill
        step = record.get("step", -1) if isinstance(record, dict) else None
        if isinstance(step, (int, float)) and step <= last_step:
            kept.append(line)
    from ganinv.core.io import atomic_write_text

    atomic_write_text(path, "".join(line + "\n" for line in kept))
