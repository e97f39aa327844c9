"""Registries, one per kind of component: decorators fill built-ins, entry points plugins.

A plugin distribution declares, in its pyproject.toml::

    [project.entry-points."ganinv.spaces"]
    my_space = "my_package.space:MySpace"

Entry points are listed without importing anything and loaded on first use. Plugins are isolated
from each other and from the core:

- a distribution whose ``entry_points.txt`` cannot be read is listed as FAILED (with the line that
  is wrong); every other distribution is still read;
- a plugin that fails to import (any exception, ``sys.exit``, ``KeyboardInterrupt`` raised by its
  code) or whose entry point is not a class or callable raises a `GanInvError` naming the entry
  point and its distribution, and only when that plugin is asked for; the failure is remembered, so
  its module is not imported again;
- one name registered twice is reported as shadowed: a built-in keeps its name, and of two plugins
  the one found first on ``sys.path`` wins (the order Python imports in).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ganinv.core.errors import GanInvError

KINDS = ("generators", "spaces", "encoders", "refiners", "losses", "metrics", "datasets")
ENTRY_POINT_PREFIX = "ganinv."
# Importing this module runs every built-in `@register` decorator. Imported once, on first lookup,
# so that `import ganinv` stays cheap.
BUILTINS_MODULE = "ganinv.builtins"

T = TypeVar("T")


@dataclass
class PluginInfo:
    """What `ganinv plugins` prints for one registered name."""

    kind: str
    name: str
    target: str  # "module:attr" of the registered object
    distribution: str
    version: str
    loads: bool | None  # None: not tried yet
    error: str = ""
    # Other registrations of the same name that lost to this one: "dist version (module:attr)".
    shadowed: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    name: str
    target: str
    distribution: str
    version: str
    obj: Any = None
    error: str = ""
    entry_point: importlib.metadata.EntryPoint | None = None
    shadowed: list[str] = field(default_factory=list)


def _closest(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "registered: " + (", ".join(sorted(names)) if names else "(none)")


class Registry:
    """Name -> class or factory, for one kind of component (e.g. ``spaces``)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, _Entry] = {}
        self._scanned = False

    # -- registration ---------------------------------------------------------------------------
    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator for built-ins: ``@SPACES.register("wplus")``."""

        def decorator(obj: T) -> T:
            key = name or getattr(obj, "__name__", None)
            if not key:
                raise ValueError("register() needs a name for objects without __name__")
            existing = self._entries.get(key)
            target = f"{obj.__module__}:{obj.__qualname__}"  # type: ignore[attr-defined]
            if existing is not None and existing.target == target:
                existing.obj = obj  # a plugin module registering its own entry point's object
                return obj
            if existing is not None and existing.obj is not None:
                raise GanInvError(
                    f"{self.kind} name {key!r} is registered twice ({existing.target} and "
                    f"{target}); rename one of them"
                )
            entry = _Entry(key, target, "ganinv", _version("ganinv"), obj=obj)
            if existing is not None:  # an entry point not loaded yet: report it as shadowed
                shadowed = f"{existing.distribution} {existing.version} ({existing.target})"
                entry.shadowed = [shadowed, *existing.shadowed]
            self._entries[key] = entry
            return obj

        return decorator

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        keep_torch_importable()  # the built-ins import torch
        scan = installed_plugins()
        importlib.import_module(BUILTINS_MODULE)
        for ep in scan.groups.get(ENTRY_POINT_PREFIX + self.kind, []):
            dist, version = _distribution_of(ep)
            existing = self._entries.get(ep.name)
            if existing is not None:
                if (existing.distribution, existing.target) != (dist, ep.value):
                    existing.shadowed.append(f"{dist} {version} ({ep.value})")
                continue
            entry = _Entry(ep.name, ep.value, dist, version, entry_point=ep)
            if not ep.pattern.match(ep.value):
                entry.error = f"entry point value {ep.value!r} is not 'module:attribute'"
            self._entries[ep.name] = entry

    def rescan(self) -> None:
        """Forget entry points and look again (after installing a plugin at run time)."""
        global _INSTALLED
        _INSTALLED = None
        self._entries = {k: e for k, e in self._entries.items() if e.entry_point is None}
        for entry in self._entries.values():
            entry.shadowed = []
        self._scanned = False

    # -- lookup ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        self._scan()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._scan()
        return name in self._entries

    def get(self, name: str) -> Any:
        """The registered class or factory; loads a plugin on first use."""
        self._scan()
        entry = self._entries.get(name)
        if entry is None:
            raise GanInvError(
                f"unknown {self.kind[:-1]} {name!r}: {_closest(name, list(self._entries))} "
                f"(`ganinv plugins` lists every registered name){self._unreadable_note()}"
            )
        if entry.obj is None:
            self._load(entry)
        return entry.obj

    def _unreadable_note(self) -> str:
        """Distributions that may hold the missing name but could not be read."""
        broken = [
            f"{p.distribution!r} ({p.error})"
            for p in installed_plugins().unreadable
            if p.kind in ("", self.kind) and p.error
        ]
        return "; not readable: " + "; ".join(broken) if broken else ""

    def _load(self, entry: _Entry) -> None:
        assert entry.entry_point is not None
        if not entry.error:  # a plugin that failed once is not imported again
            # What a plugin prints while importing goes to stderr: stdout carries results
            # (`ganinv plugins --json`).
            with _interrupts_from_user() as user, redirect_stdout(sys.stderr):
                try:
                    obj = entry.entry_point.load()
                except BaseException as exc:  # noqa: B036 (third-party code may raise anything)
                    if isinstance(exc, KeyboardInterrupt) and user.pressed:
                        raise  # the user pressed Ctrl-C: stop, do not report the plugin
                    entry.error = _describe_failure(exc)
                else:
                    if callable(obj):
                        entry.obj = obj
                    else:
                        entry.error = (
                            f"{entry.target} is a {type(obj).__name__}, not a class or callable"
                        )
        if entry.obj is None:
            raise GanInvError(
                f"plugin {self.kind[:-1]} {entry.name!r} (entry point {entry.target!r} in group "
                f"'{ENTRY_POINT_PREFIX}{self.kind}' of distribution {entry.distribution!r} "
                f"{entry.version}) failed to load: {entry.error}. Fix or uninstall "
                f"{entry.distribution!r}; the other plugins are unaffected."
            )

    def info(self, try_load: bool = True) -> list[PluginInfo]:
        """One record per name, loading each plugin (when asked) to report whether it works."""
        out = []
        for name in self.names():
            entry = self._entries[name]
            if entry.obj is None and (try_load or entry.error):
                try:
                    self._load(entry)
                except GanInvError:
                    pass
            loads = True if entry.obj is not None else (False if entry.error else None)
            out.append(
                PluginInfo(
                    self.kind,
                    name,
                    entry.target,
                    entry.distribution,
                    entry.version,
                    loads,
                    entry.error,
                    list(entry.shadowed),
                )
            )
        return out

    def build(self, spec: str | dict[str, Any], **kwargs: Any) -> Any:
        """Construct from a name or a ``{"name": ..., **arguments}`` mapping; kwargs add to it."""
        from ganinv.core.config import call_with_checked_kwargs

        if isinstance(spec, str):
            name, args = spec, {}
        elif isinstance(spec, dict):
            if "name" not in spec:
                raise GanInvError(
                    f"a {self.kind[:-1]} spec needs a 'name' key; got keys {sorted(spec)}"
                )
            args = {k: v for k, v in spec.items() if k != "name"}
            name = spec["name"]
        else:
            raise GanInvError(
                f"a {self.kind[:-1]} spec is a name or a mapping with 'name'; got {spec!r}"
            )
        factory = self.get(name)
        try:
            return call_with_checked_kwargs(
                factory, {**args, **kwargs}, where=f"{self.kind}.{name}"
            )
        except SystemExit as exc:  # third-party code must not end the command silently
            entry = self._entries[name]
            raise GanInvError(
                f"{self.kind[:-1]} {name!r} ({entry.target} of distribution "
                f"{entry.distribution!r} {entry.version}) called sys.exit({exc.code!r}) while "
                "being built; fix or uninstall that distribution"
            ) from None


@dataclass
class InstalledPlugins:
    """What the installed distributions declare for ganinv, read once per process.

    groups:     ``ganinv.<kind>`` -> entry points, in ``sys.path`` order
    unreadable: distributions for ganinv whose entry points cannot be read, one record per kind
                their file names (kind "" when it names none)
    foreign:    unreadable distributions whose file does not mention ganinv (not listed as
                plugins, but they still stop torch from importing: `keep_torch_importable`)
    """

    groups: dict[str, list[importlib.metadata.EntryPoint]]
    unreadable: list[PluginInfo]
    foreign: list[PluginInfo]


_INSTALLED: InstalledPlugins | None = None


def installed_plugins() -> InstalledPlugins:
    """Read every installed distribution's entry points, one distribution at a time.

    `importlib.metadata.entry_points()` raises on the first unreadable ``entry_points.txt`` of any
    distribution, which would take every plugin down with it; here that distribution alone is
    reported, and only when its file mentions ganinv (another tool's broken file is not ours).
    """
    global _INSTALLED
    if _INSTALLED is not None:
        return _INSTALLED
    groups: dict[str, list[importlib.metadata.EntryPoint]] = {}
    unreadable: list[PluginInfo] = []
    foreign: list[PluginInfo] = []
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        key = _dedupe_key(dist)
        if key in seen:
            continue  # a second copy of one distribution: the first on sys.path is the one used
        seen.add(key)
        try:
            entry_points = list(dist.entry_points)
        except Exception as exc:  # malformed or undecodable entry_points.txt
            name, version = _name_and_version(dist)
            records, for_ganinv = _unreadable(dist, name, version, exc)
            (unreadable if for_ganinv else foreign).extend(records)
            continue
        for ep in entry_points:
            if ep.group.startswith(ENTRY_POINT_PREFIX):
                groups.setdefault(ep.group, []).append(ep)
    _INSTALLED = InstalledPlugins(groups, unreadable, foreign)
    return _INSTALLED


def _dedupe_key(dist: importlib.metadata.Distribution) -> str:
    """The key `importlib.metadata.entry_points` tells copies apart by: the name in the
    ``*.dist-info`` folder's name, read without parsing METADATA (which costs ~1 ms each)."""
    key = getattr(dist, "_normalized_name", None)
    if isinstance(key, str) and key:
        return key
    return re.sub(r"[-_.]+", "_", _name_and_version(dist)[0]).lower()


def _name_and_version(dist: importlib.metadata.Distribution) -> tuple[str, str]:
    try:
        name = dist.metadata["Name"] or ""
        version = dist.metadata["Version"] or "?"
    except Exception:  # unreadable METADATA: name it by where it lives
        name, version = "", "?"
    if not name:
        name = str(dist.locate_file(""))
    return name, version


def _unreadable(
    dist: importlib.metadata.Distribution, name: str, version: str, exc: Exception
) -> tuple[list[PluginInfo], bool]:
    """FAILED records for a distribution whose entry points cannot be parsed; and whether its
    file is meant for ganinv."""
    where = str(dist.locate_file(""))
    try:
        text = dist.read_text("entry_points.txt") or ""
    except Exception as read_exc:  # not even text: it may well be a ganinv plugin, so list it
        reason = f"entry_points.txt is not readable text ({type(read_exc).__name__})"
        return [PluginInfo("", name, where, name, version, False, reason)], True
    kinds = sorted(set(re.findall(r"^\s*\[\s*ganinv\.(\w+)\s*\]", text, flags=re.M)))
    reason = f"entry_points.txt cannot be parsed: {_bad_line(text) or _describe_failure(exc)}"
    records = [PluginInfo(k, name, where, name, version, False, reason) for k in kinds or [""]]
    return records, bool(kinds) or ENTRY_POINT_PREFIX in text


def _bad_line(text: str) -> str:
    """The first line of an entry_points.txt that is neither a section, a comment nor k = v."""
    for number, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith(("#", ";")) and not s.startswith("[") and "=" not in s:
            return f"line {number} {s[:80]!r} is not 'name = module:attribute'"
    return ""


def _distribution_of(ep: importlib.metadata.EntryPoint) -> tuple[str, str]:
    if ep.dist is None:
        return "unknown", "?"
    return _name_and_version(ep.dist)


def _describe_failure(exc: BaseException) -> str:
    """One line for what a plugin's import did."""
    if isinstance(exc, SystemExit):
        return f"its import called sys.exit({exc.code!r})"
    if isinstance(exc, KeyboardInterrupt):
        return "its import raised KeyboardInterrupt"
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _UserInterrupt:
    pressed = False


@contextmanager
def _interrupts_from_user() -> Iterator[_UserInterrupt]:
    """Tell a real Ctrl-C apart from a `KeyboardInterrupt` raised by a plugin's own code."""
    user = _UserInterrupt()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield user
        return

    def on_sigint(signum: int, frame: Any) -> None:
        user.pressed = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield user
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def keep_torch_importable() -> list[PluginInfo]:
    """Let torch import although a distribution's entry points are unreadable; return those.

    `import torch` reads the entry points of every distribution (device-backend auto-loading) and
    fails on the first unreadable file, so one broken plugin would stop every command. When one is
    installed and torch is not imported yet, that auto-loading (which could not have worked) is
    turned off for this process.
    """
    installed = installed_plugins()
    broken = installed.unreadable + installed.foreign
    if broken and "torch" not in sys.modules:
        os.environ["TORCH_DEVICE_BACKEND_AUTOLOAD"] = "0"
    return broken


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


GENERATORS = Registry("generators")
SPACES = Registry("spaces")
ENCODERS = Registry("encoders")
REFINERS = Registry("refiners")
LOSSES = Registry("losses")
METRICS = Registry("metrics")
DATASETS = Registry("datasets")
REGISTRIES: dict[str, Registry] = {
    r.kind: r for r in (GENERATORS, SPACES, ENCODERS, REFINERS, LOSSES, METRICS, DATASETS)
}


def registry(kind: str) -> Registry:
    """The registry of one kind; an unknown kind lists the valid ones."""
    if kind not in REGISTRIES:
        raise GanInvError(f"unknown component kind {kind!r}: {_closest(kind, list(REGISTRIES))}")
    return REGISTRIES[kind]


def build(kind: str, spec: str | dict[str, Any], **kwargs: Any) -> Any:
    """``ganinv.build("spaces", "wplus", generator=G)`` or with a config mapping."""
    return registry(kind).build(spec, **kwargs)
