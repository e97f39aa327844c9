"""Training checkpoints: plain state dicts written atomically, read with ``weights_only=True``.

A checkpoint holds only tensors, numbers, strings, lists and dicts (model, optimiser and scheduler
state dicts, RNG states, the step counter and the best metric so far), so loading never runs code.
It is still a file in a folder someone may hand over: it is read with `torch_load` (sizes checked
before torch allocates), every tensor must lie inside its storage, and the `restore_*` helpers
compare names, shapes and kinds with the live objects before anything is copied, so a lying file
is one `GanInvError` line naming the file and the field.

`KillPoint` is the deterministic crash of the resume tests: with ``GANINV_KILL_AFTER_CHECKPOINT=N``
(or ``N+K``) in the environment a trainer SIGKILLs its own process right after writing its N-th
checkpoint (or K training steps later), so a test kills at a known point instead of racing a
running process.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganinv.checkpoints.safe_load import check_extent, reword, torch_load
from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write

TRAIN_FORMAT = "ganinv-train-v1"
MAX_DEPTH = 32  # a training state nests about 6 levels (optimiser state -> param -> moment)
KILL_ENV = "GANINV_KILL_AFTER_CHECKPOINT"


def save_training_state(path: Path, state: dict[str, Any]) -> Path:
    """Atomic: after a crash the file is the previous complete checkpoint or the new one."""
    return atomic_write(path, lambda p: torch.save({"format": TRAIN_FORMAT, **state}, p))


def load_training_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():  # a FIFO or folder there is refused by `torch_load`, not waited on
        raise GanInvError(
            f"no training checkpoint at {str(path)!r}; start without --resume or point `out` at "
            "the run to continue"
        )
    what = f"training checkpoint {str(path)!r}"
    state = torch_load(path, what, kind="a ganinv training checkpoint")
    if not isinstance(state, dict) or state.get("format") != TRAIN_FORMAT:
        raise GanInvError(f"{str(path)!r} is not a ganinv training checkpoint ({TRAIN_FORMAT})")
    _check_tensors(state, what, 0)
    return state


def _check_tensors(value: Any, where: str, depth: int) -> None:
    """Every tensor in the nested dicts and lists lies inside its storage (a stride-0 view
    claiming [10**5, 10**5] would allocate 40 GB when an RNG state or moment is copied)."""
    if depth > MAX_DEPTH:
        raise GanInvError(f"{where} is nested more than {MAX_DEPTH} levels deep (corrupt)")
    if isinstance(value, torch.Tensor):
        check_extent(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_tensors(item, f"{where}[{str(key)[:40]!r}]", depth + 1)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_tensors(item, f"{where}[{index}]", depth + 1)


def _field(path: Any, key: str) -> str:
    return f"training checkpoint {str(path)!r} field {key!r}"


def _same_kind(saved: Any, own: Any) -> bool:
    """True when `saved` has the structure of `own`: numbers for numbers, equal-length lists,
    dicts with the same keys (recursively), equal types otherwise."""
    number = (int, float)
    if isinstance(own, bool) or isinstance(saved, bool):
        return isinstance(own, bool) and isinstance(saved, bool)
    if isinstance(own, number):
        return isinstance(saved, number)
    if isinstance(own, (list, tuple)):
        return (
            isinstance(saved, (list, tuple))
            and len(saved) == len(own)
            and all(_same_kind(a, b) for a, b in zip(saved, own))
        )
    if isinstance(own, dict):
        return (
            isinstance(saved, dict)
            and set(saved) == set(own)
            and all(_same_kind(saved[k], own[k]) for k in own)
        )
    if isinstance(own, torch.Tensor):
        return isinstance(saved, torch.Tensor) and saved.shape == own.shape
    return type(saved) is type(own)


def restore_module(module: nn.Module, state: dict[str, Any], key: str, path: Any) -> None:
    """``module.load_state_dict(state[key])`` once its names and shapes equal the module's."""
    saved, where = state.get(key), _field(path, key)
    if not isinstance(saved, dict) or not all(isinstance(k, str) for k in saved):
        raise GanInvError(f"{where} is not a state dict (names -> tensors)")
    own = module.state_dict()
    missing = sorted(set(own) - set(saved))
    unexpected = sorted(set(saved) - set(own))
    wrong = [k for k in own if k in saved and not _same_kind(saved[k], own[k])]
    if missing or unexpected or wrong:
        shapes = [f"{k}: {_shape(saved[k])} vs {_shape(own[k])}" for k in wrong[:3]]
        raise GanInvError(
            f"{where} does not match the configured network (missing {missing[:3]}, unexpected "
            f"{unexpected[:3]}, different {shapes}); resume with the config the run used"
        )
    with _restoring(where):
        module.load_state_dict(saved)


def _shape(value: Any) -> Any:
    return list(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__


def restore_optimizer(
    optimizer: torch.optim.Optimizer, state: dict[str, Any], key: str, path: Any
) -> None:
    """``optimizer.load_state_dict(state[key])`` once its groups, parameters and the shape of
    every per-parameter tensor (moments, slow weights) equal the live optimiser's."""
    saved, where = state.get(key), _field(path, key)
    if (
        not isinstance(saved, dict)
        or not isinstance(saved.get("state"), dict)
        or not isinstance(saved.get("param_groups"), list)
    ):
        raise GanInvError(f"{where} is not an optimiser state ('state' and 'param_groups')")
    groups = optimizer.param_groups
    if len(saved["param_groups"]) != len(groups):
        raise GanInvError(
            f"{where} has {len(saved['param_groups'])} parameter groups, the optimiser "
            f"{len(groups)}; resume with the config the run used"
        )
    params: dict[Any, torch.Tensor] = {}
    for index, (group, own) in enumerate(zip(saved["param_groups"], groups)):
        ids = group.get("params") if isinstance(group, dict) else None
        # torch numbers parameters with ints; anything else (an unhashable list) is refused here
        if (
            not isinstance(ids, list)
            or len(ids) != len(own["params"])
            or not all(isinstance(i, int) for i in ids)
        ):
            raise GanInvError(f"{where} group {index} does not hold the optimiser's parameters")
        for name, value in own.items():
            if name != "params" and name in group and not _same_kind(group[name], value):
                raise GanInvError(f"{where} group {index} setting {name!r} is {group[name]!r}")
        params.update(zip(ids, own["params"]))
    for pid, entry in saved["state"].items():
        if pid not in params or not isinstance(entry, dict):
            raise GanInvError(f"{where} holds state for an unknown parameter {str(pid)[:40]!r}")
        for name, value in entry.items():
            # Per-parameter tensors (Adam moments, Lookahead slow weights) have the parameter's
            # shape; scalars (step counts) have none.
            if isinstance(value, torch.Tensor) and value.dim() and value.shape != params[pid].shape:
                raise GanInvError(
                    f"{where} state {name!r} of parameter {pid} has shape {list(value.shape)}, "
                    f"the parameter {list(params[pid].shape)}"
                )
    with _restoring(where):
        optimizer.load_state_dict(saved)


def restore_plain(target: Any, state: dict[str, Any], key: str, path: Any) -> None:
    """``target.load_state_dict(state[key])`` (a scheduler) once it has the structure of
    ``target.state_dict()``: the same keys, numbers for numbers, lists of the same length."""
    saved, where, own = state.get(key), _field(path, key), target.state_dict()
    # Keys a newer torch adds may be absent from an older file (they keep their value).
    if not isinstance(saved, dict) or not set(saved) <= set(own):
        raise GanInvError(f"{where} does not have the structure of this run's {key} state")
    wrong = [k for k in saved if not _same_kind(saved[k], own[k])]
    if wrong:
        raise GanInvError(f"{where} entry {wrong[0]!r} is {str(saved[wrong[0]])[:60]}")
    with _restoring(where):
        target.load_state_dict(saved)


_REQUIRED = object()


@contextlib.contextmanager
def restoring(
    state: dict[str, Any], key: str, path: Any, default: Any = _REQUIRED
) -> Iterator[Any]:
    """Yields ``state[key]`` (or `default` when given and the key is absent); any error while
    restoring it is one line naming the file and the field."""
    where = _field(path, key)
    if key not in state and default is _REQUIRED:
        raise GanInvError(f"{where} is missing; the file is not a complete checkpoint")
    with _restoring(where):
        yield state.get(key, default)


def read_count(state: Any, key: str, path: Any, name: str | None = None) -> int:
    """``state[key]`` as a count (an int in 0..2**48); `name` is the field in errors."""
    value = state.get(key) if isinstance(state, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1 << 48:
        raise GanInvError(f"{_field(path, name or key)} is {str(value)[:40]}, expected a count")
    return value


def read_best(state: dict[str, Any], path: Any) -> dict[str, Any]:
    """The best-metric record: ``{}`` or ``{'metric': str, 'value': number, 'step': int}``."""
    best = state.get("best", {})
    if best == {}:
        return {}
    if not _same_kind(best, {"metric": "", "value": 0.0, "step": 0}):
        raise GanInvError(f"{_field(path, 'best')} must be {{}} or {{metric, value, step}}")
    return dict(best)


@contextlib.contextmanager
def _restoring(where: str) -> Iterator[None]:
    try:
        yield
    except GanInvError:
        raise
    except Exception as exc:  # torch / numpy / random refusing a value: still the file's fault
        raise GanInvError(f"{where} cannot be restored: {reword(exc)}") from exc


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
