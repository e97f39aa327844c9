"""Output folders ganinv owns: a marker file says "ganinv wrote this", and what it wrote.

Commands that write into a folder (`invert`, `eval`, `bench`, `data convert`) first *claim* it:
a folder that does not exist or is empty is created and marked; a folder that carries a marker of
the same kind is reused; anything else is refused with the reason, because replacing or clearing
it could destroy files ganinv did not write. Only files listed in a marker are ever removed, and
only inside the folder the marker is in.

Temporary files and folders that ganinv builds next to a destination are named
``.<name>.ganinv-tmp-<pid>-<random>``; `remove_stale_temporaries` deletes those of processes that
no longer run (an interrupted conversion), so no hidden partial output outlives the next run.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ganinv.core.errors import GanInvError

MARKER = ".ganinv-output.json"
TEMP_TAG = "ganinv-tmp"
_MAX_MARKER_BYTES = 64 << 20  # a marker lists file names; anything bigger is not ours


def temp_prefix(destination: str | os.PathLike[str]) -> str:
    """Name prefix of this process's temporaries for `destination` (same directory)."""
    return f".{Path(destination).name}.{TEMP_TAG}-{os.getpid()}-"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except OSError:
        return True
    return True


def remove_stale_temporaries(destination: str | os.PathLike[str]) -> list[Path]:
    """Delete ganinv temporaries for `destination` left by processes that are gone."""
    destination = Path(destination)
    parent = destination.parent if str(destination.parent) else Path(".")
    head = f".{destination.name}.{TEMP_TAG}-"
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for entry in os.scandir(parent):
        if not entry.name.startswith(head):
            continue
        pid_text = entry.name[len(head) :].split("-", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def read_marker(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The marker of `folder` as a dict, or None when there is none (or it is not ours)."""
    path = Path(folder) / MARKER
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_MARKER_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested without end
        return None
    if not isinstance(data, dict) or data.get("ganinv_output") != 1:
        return None
    if not isinstance(data.get("kind"), str) or not isinstance(data.get("files", []), list):
        return None
    return data


def write_marker(folder: str | os.PathLike[str], kind: str, files: list[str] | None = None) -> Path:
    """Mark `folder` as a ganinv output of `kind` that holds `files` (relative POSIX paths)."""
    from ganinv.core.io import atomic_write_text

    record = {"ganinv_output": 1, "kind": kind, "files": sorted(set(files or []))}
    return atomic_write_text(Path(folder) / MARKER, json.dumps(record, indent=1) + "\n")


def is_marked(folder: str | os.PathLike[str], kind: str) -> bool:
    """True when `folder` is a real folder (no symlink) marked as a ganinv output of `kind`."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    marker = read_marker(folder)
    return marker is not None and marker["kind"] == kind


def claim_output_dir(out: str | os.PathLike[str], kind: str, what: str) -> dict[str, Any]:
    """Make `out` a ganinv output folder of `kind`, or refuse; returns its (previous) marker.

    `what` names the option in messages (e.g. ``--out``). A new or empty folder is created and
    marked; a folder marked with `kind` is reused as is; a symlink, a file, a folder marked by
    another command, or a non-empty folder without a marker is refused.
    """
    out = Path(out)
    if out.is_symlink():
        raise GanInvError(f"{what} {str(out)!r} is a symbolic link; give a real folder")
    if out.exists() and not out.is_dir():
        raise GanInvError(f"{what} {str(out)!r} is a file, not a folder; choose another {what}")
    if out.is_dir():
        marker = read_marker(out)
        if marker is not None:
            if marker["kind"] != kind:
                raise GanInvError(
                    f"{what} {str(out)!r} holds the output of `ganinv {marker['kind']}`, not of "
                    f"`ganinv {kind}`; choose another {what}"
                )
            return marker
        if any(out.iterdir()):
            raise GanInvError(
                f"{what} {str(out)!r} is not empty and was not written by `ganinv {kind}`; "
                f"choose a new or empty folder (ganinv never writes over files it did not write)"
            )
    out.mkdir(parents=True, exist_ok=True)
    write_marker(out, kind)
    return {"ganinv_output": 1, "kind": kind, "files": []}


def _inside(folder: Path, relative: str) -> Path | None:
    """`folder / relative` when it is a plain path strictly inside `folder`, else None."""
    parts = relative.split("/")
    if not relative or relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return None
    path = folder.joinpath(*parts)
    # No component may be a symlink: removal must not follow a link out of the folder.
    current = folder
    for part in parts[:-1]:
        current = current / part
        if current.is_symlink() or not current.is_dir():
            return None
    return path


def remove_listed_files(folder: str | os.PathLike[str], files: list[Any]) -> int:
    """Delete the regular files `files` (from a marker) under `folder`; returns how many.

    Entries that are not plain relative paths inside `folder`, that are folders, or that are
    reached through a symlink are left alone. Folders left empty by the removal are removed.
    """
    folder = Path(folder)
    removed = 0
    parents: set[Path] = set()
    for relative in files:
        if not isinstance(relative, str):
            continue
        path = _inside(folder, relative)
        if path is None or not (path.is_file() or path.is_symlink()):
            continue
        path.unlink()
        removed += 1
        parents.update(p for p in path.parents if p != folder and folder in p.parents)
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        try:
            parent.rmdir()  # only when empty
        except OSError:
            pass
    return removed
