"""Registries, one per kind of component: decorators fill built-ins, entry points plugins.

A plugin distribution declares, in its pyproject.toml::

    [project.entry-points."ganinv.spaces"]
    my_space = "my_package.space:MySpace"

Entry points are listed without importing anything and loaded on first use. A plugin that fails to
import raises a `GanInvError` naming the entry point and its distribution, and only when that plugin
is asked for; every other name keeps working.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass
class _Entry:
    name: str
    target: str
    distribution: str
    version: str
    obj: Any = None
    error: str = ""
    entry_point: importlib.metadata.EntryPoint | None = None


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
            if existing is not None and existing.obj is not None and existing.target != target:
                raise GanInvError(
                    f"{self.kind} name {key!r} is registered twice ({existing.target} and "
                    f"{target}); rename one of them"
                )
            self._entries[key] = _Entry(key, target, "ganinv", _version("ganinv"), obj=obj)
            return obj

        return decorator

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        importlib.import_module(BUILTINS_MODULE)
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_PREFIX + self.kind):
            if ep.name in self._entries and self._entries[ep.name].obj is not None:
                continue  # a built-in keeps its name; the plugin is reported as shadowed below
            dist = ep.dist.name if ep.dist is not None else "unknown"
            version = ep.dist.version if ep.dist is not None else "?"
            self._entries[ep.name] = _Entry(ep.name, ep.value, dist, version, entry_point=ep)

    def rescan(self) -> None:
        """Forget entry points and look again (after installing a plugin at run time)."""
        self._entries = {k: e for k, e in self._entries.items() if e.entry_point is None}
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
                "(`ganinv plugins` lists every registered name)"
            )
        if entry.obj is None:
            self._load(entry)
        return entry.obj

    def _load(self, entry: _Entry) -> None:
        assert entry.entry_point is not None
        try:
            entry.obj = entry.entry_point.load()
        except Exception as exc:  # any import-time failure of third-party code
            entry.error = f"{type(exc).__name__}: {exc}"
            raise GanInvError(
                f"plugin {self.kind[:-1]} {entry.name!r} (entry point {entry.target!r} in group "
                f"'{ENTRY_POINT_PREFIX}{self.kind}' of distribution {entry.distribution!r} "
                f"{entry.version}) failed to load: {entry.error}. Fix or uninstall "
                f"{entry.distribution!r}; the other plugins are unaffected."
            ) from exc

    def info(self, try_load: bool = True) -> list[PluginInfo]:
        """One record per name, loading each plugin (when asked) to report whether it works."""
        out = []
        for name in self.names():
            entry = self._entries[name]
            loads: bool | None = entry.obj is not None or None
            if try_load and entry.obj is None:
                try:
                    self._load(entry)
                    loads = True
                except GanInvError:
                    loads = False
            out.append(
                PluginInfo(
                    self.kind,
                    name,
                    entry.target,
                    entry.distribution,
                    entry.version,
                    loads,
                    entry.error,
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
        return call_with_checked_kwargs(factory, {**args, **kwargs}, where=f"{self.kind}.{name}")


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
