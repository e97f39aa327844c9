"""Install, verify, locate and load weight files in the offline cache.

The cache directory holds the files plus ``manifest.json`` recording, per name, the file, its
sha256, its source and the conversion check. Every load verifies the file against the recorded
sha256 (once per process and file version), so a corrupted or swapped file is caught.
"""

from __future__ import annotations

import datetime
import importlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganinv.checkpoints.safe_load import check_state, torch_load
from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write, atomic_write_text
from ganinv.weights.cache import CACHE_ENV, cache_dir, sha256_file
from ganinv.weights.catalog import CATALOG, WeightSpec, spec

log = logging.getLogger("ganinv.weights")
MANIFEST = "manifest.json"
# (path, size, mtime_ns) -> sha256 already checked in this process.
_VERIFIED: dict[tuple[str, int, int], str] = {}


@dataclass
class WeightStatus:
    """What `ganinv weights list` prints for one entry."""

    name: str
    filename: str
    source: str
    installed: bool
    sha256: str
    ok: bool | None  # None: not verified
    message: str
    description: str
    used_by: str


# -- manifest -----------------------------------------------------------------------------------
def read_manifest(directory: Path | None = None) -> dict[str, Any]:
    path = (directory or cache_dir()) / MANIFEST
    if not path.is_file():
        return {}
    redo = "delete it and run `ganinv weights install` (user files: install them again with --from)"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise GanInvError(f"the weights manifest {path} is unreadable ({exc}); {redo}") from exc
    # The manifest is data too: each record must be an object with a sha256 string.
    if not isinstance(manifest, dict):
        raise GanInvError(f"the weights manifest {path} is not a JSON object; {redo}")
    for name, record in manifest.items():
        if not isinstance(record, dict) or not isinstance(record.get("sha256"), str):
            raise GanInvError(f"the weights manifest {path}: entry {name!r} has no sha256; {redo}")
    return manifest


def _record(entry: WeightSpec, sha: str, origin: str, check: dict[str, Any]) -> None:
    directory = cache_dir()
    manifest = read_manifest(directory)
    manifest[entry.name] = {
        "file": entry.filename,
        "sha256": sha,
        "source": entry.source,
        "origin": origin,
        "check": check,
        "installed": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write_text(directory / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


# -- errors -------------------------------------------------------------------------------------
def _missing_error(entry: WeightSpec) -> GanInvError:
    target = cache_dir() / entry.filename
    return GanInvError(
        f"weights file {entry.filename!r} ({entry.description}; needed by {entry.used_by}) is not "
        f"installed. Get it from {entry.obtain} and run `ganinv weights install {entry.name} "
        f"--from /path/to/{entry.filename}` (or copy it to {target}); set {CACHE_ENV} to use "
        "another cache directory. Nothing is downloaded automatically."
    )


# -- install ------------------------------------------------------------------------------------
def _check_known_hash(entry: WeightSpec, sha: str, origin: str) -> dict[str, Any]:
    if not entry.known_sha256:
        return {"upstream_sha256": "unknown"}
    if sha.startswith(entry.known_sha256):
        return {"upstream_sha256": "match"}
    if entry.hash_required:
        raise GanInvError(
            f"{origin} has sha256 {sha[:16]}..., but the published {entry.filename!r} starts with "
            f"{entry.known_sha256}: it is a different or corrupted file; get the original file"
        )
    log.warning(
        "%s: sha256 %s... differs from the published %s... (a re-saved copy?); accepted because "
        "its tensors load into the network",
        origin,
        sha[:16],
        entry.known_sha256[:16],
    )
    return {"upstream_sha256": "differs", "published": entry.known_sha256}


def _validate_user_file(entry: WeightSpec, path: Path) -> None:
    state = _torch_load(path, entry)
    module_name, function = entry.validate.split(":")
    validator = getattr(importlib.import_module(module_name), function)
    validator(state)


def _refuse_foreign(entry: WeightSpec, target: Path, source: Any) -> None:
    """Never replace a file in the cache that ganinv did not install (not in the manifest),
    with or without --overwrite; a user file placed there by hand is recorded, not replaced."""
    if not (target.exists() or target.is_symlink()) or entry.name in read_manifest():
        return
    if not target.is_file():  # a FIFO, a folder, a dangling link: nothing to record or replace
        raise GanInvError(f"{target} is not a regular file; move it away and install again")
    if entry.automatic:
        how = f"move it away and ganinv converts {entry.name!r} from the {entry.source!r} package"
    elif source is not None and Path(source).resolve() != target.resolve():
        how = f"move it away, or record it as it is with `ganinv weights install {entry.name}`"
    else:
        return  # recorded as it is (after its check), not replaced
    raise GanInvError(
        f"{target} exists but was not installed by ganinv (not in {MANIFEST}), so ganinv will "
        f"not replace it: {how}"
    )


def install(name: str, source: str | os.PathLike[str] | None = None, force: bool = False) -> Path:
    """Put weights `name` in the cache and record its sha256; returns the cached path.

    Automatic sources are converted from installed package files (`source` must be None).
    User files are copied from `source` after checking that they load into their network.
    An installed, verified file is kept unless `force`.
    """
    entry = spec(name)
    target = cache_dir() / entry.filename
    if not force and target.is_file() and name in read_manifest():
        if source is None or Path(source).resolve() == target.resolve():
            verify(name)
            return target
    _refuse_foreign(entry, target, source)
    if entry.automatic:
        if source is not None:
            raise GanInvError(
                f"weights {name!r} are converted from the installed {entry.source!r} package; "
                "install them without --from"
            )
        from ganinv.weights.convert import CONVERTERS

        log.info(
            "ganinv weights: converting %s from the %s package into %s", name, entry.source, target
        )
        tensors, check = CONVERTERS[name]()
        from ganinv.core.safetensors_io import write_file

        write_file(target, tensors, {"name": name})
        _record(entry, sha256_file(target), check.pop("origin"), check)
        return target
    if source is None:
        if target.is_file():  # copied into the cache by hand: check and record it
            source = target
        else:
            raise _missing_error(entry)
    source = Path(source).expanduser()
    if not source.is_file():
        raise GanInvError(
            f"{str(source)!r} does not exist; give the path of {entry.filename!r} "
            f"({entry.description}) to `ganinv weights install {name} --from PATH`"
        )
    sha = sha256_file(source)
    check = _check_known_hash(entry, sha, str(source))
    _validate_user_file(entry, source)
    if source.resolve() != target.resolve():
        atomic_write(target, lambda p: shutil.copyfile(source, p))
        if sha256_file(target) != sha:
            raise GanInvError(f"copying {source} to {target} changed its content; check the disk")
    _record(entry, sha, str(source), check)
    log.info("ganinv weights: installed %s from %s (sha256 %s)", name, source, sha)
    return target


# -- verify, locate, load -----------------------------------------------------------------------
def verify(name: str) -> str:
    """Check the cached file of `name` against its recorded sha256; returns the sha256."""
    entry = spec(name)
    target = cache_dir() / entry.filename
    record = read_manifest().get(name)
    if not target.is_file() or record is None:
        raise (
            _missing_error(entry)
            if not entry.automatic
            else GanInvError(
                f"weights {name!r} are not installed; run `ganinv weights install {name}`"
            )
        )
    stat = target.stat()
    key = (str(target), stat.st_size, stat.st_mtime_ns)
    if _VERIFIED.get(key) == record["sha256"]:
        return record["sha256"]
    sha = sha256_file(target)
    if sha != record["sha256"]:
        how = f"--from /path/to/{entry.filename}" if not entry.automatic else ""
        raise GanInvError(
            f"weights file {target} is corrupted or was replaced: sha256 {sha[:16]}... but "
            f"{record['sha256'][:16]}... was recorded at install; reinstall it with "
            f"`ganinv weights install {name} --overwrite {how}`".rstrip()
        )
    _VERIFIED[key] = sha
    return sha


def weights_path(name: str) -> Path:
    """The verified cached file of `name`; converts automatic sources on first use."""
    entry = spec(name)
    target = cache_dir() / entry.filename
    if target.is_file() and name in read_manifest():
        verify(name)
        return target
    if entry.automatic or target.is_file():
        return install(name)
    raise _missing_error(entry)


def _torch_load(path: Path, entry: WeightSpec) -> dict[str, torch.Tensor]:
    kind = (
        "a plain PyTorch state dict loadable without executing code (expected "
        f"{entry.filename!r}, {entry.description})"
    )
    state = torch_load(path, str(path), kind=kind)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    # Every value a tensor backed by the data it claims (no stride-0 giants), names as keys.
    return check_state(state, f"{path} ({entry.description})")


def load_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The tensors of weights `name` on the CPU (safetensors, or torch.load with weights_only)."""
    entry = spec(name)
    path = weights_path(name)
    if path.suffix == ".safetensors":
        from ganinv.core.safetensors_io import read_tensors

        try:
            return check_state(read_tensors(path, "weights file"), f"{path} ({entry.description})")
        except GanInvError as exc:
            raise GanInvError(
                f"{exc}; reinstall it with `ganinv weights install {name} --overwrite`"
            ) from exc
    return _torch_load(path, entry)


def status(check_hashes: bool = False) -> list[WeightStatus]:
    """One record per catalogue entry; hashes are recomputed only when asked."""
    manifest = read_manifest()
    out = []
    for name, entry in CATALOG.items():
        target = cache_dir() / entry.filename
        record = manifest.get(name)
        installed = target.is_file() and record is not None
        ok: bool | None = None
        message = (
            "installed"
            if installed
            else ("converted on first use" if entry.automatic else "missing")
        )
        if installed and check_hashes:
            try:
                verify(name)
                ok, message = True, "sha256 ok"
            except GanInvError as exc:
                ok, message = False, str(exc)
        out.append(
            WeightStatus(
                name,
                entry.filename,
                entry.source,
                installed,
                record["sha256"] if record else "",
                ok,
                message,
                entry.description,
                entry.used_by,
            )
        )
    return out
