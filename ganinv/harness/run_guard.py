"""Runs are not clobbered: a new run never writes over an old one, and a resume keeps its config.

Without ``--resume``, a folder that holds any file a training run writes is refused (continuing
it or choosing another folder is the user's call, not ours). With ``--resume``, the config given
now is compared with the one the run was made with, key by key (dotted paths): only the keys a
trainer lists as safe to change (a longer run, how often to log or checkpoint, the progress bar)
may differ; anything else would silently continue one experiment under another's settings.
"""

from __future__ import annotations

import os
import reprlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from ganinv.core.config import to_dict
from ganinv.core.config_paths import absolute_paths
from ganinv.core.errors import GanInvError

_MISSING = object()  # a key one side lacks
_SHOWN_VALUES = 4  # keys whose old and new values the message spells out
_MAX_TEXT = 1 << 20  # a saved config is a few kB; more is not one ganinv wrote
_MAX_KEYS = 10_000  # YAML aliases can make a small text name exponentially many paths


def refuse_existing_run(out: Path, run_files: Iterable[str], command: str) -> None:
    """Raise unless `out` holds none of `run_files` (paths relative to `out`)."""
    found = [name for name in run_files if (out / name).exists() or (out / name).is_symlink()]
    if found:
        raise GanInvError(
            f"{str(out)!r} already holds a training run ({', '.join(found)}); pass --resume to "
            f"continue it, or choose another output folder for a new run ({command})"
        )


def plain_config(config: Any) -> dict[str, Any]:
    """A config dataclass as the plain mapping its saved YAML reads back as (paths absolute)."""
    plain = to_dict(absolute_paths(config))
    return yaml.safe_load(yaml.safe_dump(plain, sort_keys=False))


def parse_saved_config(text: Any, source: str) -> Any:
    """The mapping a run saved as YAML text (a checkpoint field or ``config.yaml``'s content)."""
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        raise GanInvError(
            f"{source} does not hold a saved config (YAML text under 1 MiB), so a resumed run "
            "cannot be checked against it; start a new run in another output folder"
        )
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:  # RecursionError: nested without end
        where = getattr(exc, "problem_mark", None)
        raise GanInvError(
            f"{source}: the saved config is not valid YAML"
            + (f" (line {where.line + 1})" if where is not None else "")
            + "; start a new run in another output folder"
        ) from exc


def check_resume_config(
    saved: Any,
    current: Mapping[str, Any],
    may_change: Iterable[str],
    source: str,
    command: str,
) -> list[str]:
    """Raise if `current` differs from `saved` outside `may_change`; return the keys that differ.

    `saved` is what the run stored (read from a file: anything); `source` names that file.
    """
    if not isinstance(saved, Mapping):
        raise GanInvError(
            f"{source} does not hold a config mapping, so the resumed run cannot be checked "
            f"against it; start a new run in another output folder ({command})"
        )
    allowed = set(may_change)
    # Dotted keys whose values differ (nested mappings are walked; lists compare whole).
    saved_flat, current_flat = _flatten(saved, source), _flatten(current, "the config")
    keys = sorted(set(saved_flat) | set(current_flat))
    changed = [
        k for k in keys if not _same(saved_flat.get(k, _MISSING), current_flat.get(k, _MISSING))
    ]
    refused = [k for k in changed if k not in allowed]
    if refused:
        shown = ", ".join(
            f"{k} (run: {_show(saved_flat.get(k, _MISSING))}, now: "
            f"{_show(current_flat.get(k, _MISSING))})"
            for k in refused[:_SHOWN_VALUES]
        )
        more = f" and {len(refused) - _SHOWN_VALUES} more" if len(refused) > _SHOWN_VALUES else ""
        raise GanInvError(
            f"{command} --resume: the config differs from the run's ({source}) at {shown}{more}; "
            f"only {', '.join(sorted(allowed))} may change on resume: undo the change, or start "
            "a new run in another output folder"
        )
    return changed


def _flatten(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; at most `_MAX_KEYS` paths, without recursion."""
    flat: dict[str, Any] = {}
    stack: list[tuple[str, Mapping[str, Any]]] = [("", data)]
    visited = 0
    while stack:
        prefix, node = stack.pop()
        for key, value in node.items():
            visited += 1
            if visited > _MAX_KEYS:
                raise GanInvError(
                    f"{source} has more than {_MAX_KEYS} keys; it is not a config ganinv wrote"
                )
            dotted = f"{prefix}{key}"
            if isinstance(value, Mapping) and value:
                stack.append((dotted + ".", value))
            else:
                flat[dotted] = value
    return flat


def _same(saved: Any, current: Any) -> bool:
    """Equal, or the same path: the current config's paths are absolute, while a run saved before
    paths were stored absolute (or one configured in Python) may hold one relative to the working
    folder, which is where it was used from."""
    if saved == current:
        return True
    if not (isinstance(saved, str) and isinstance(current, str) and os.path.isabs(current)):
        return False
    if os.path.isabs(saved) or "\0" in saved:
        return False
    try:
        return os.path.abspath(os.path.expanduser(saved)) == current
    except (RuntimeError, ValueError):  # "~nobody/x"
        return False


def _show(value: Any) -> str:
    # reprlib: bounded depth and length, whatever a hostile file nests or aliases.
    text = "absent" if value is _MISSING else reprlib.repr(value)
    text = "".join(c for c in text if c.isprintable())
    return text if len(text) <= 60 else text[:57] + "..."
