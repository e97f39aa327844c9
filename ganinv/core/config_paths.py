"""Paths in configs: which keys hold paths, and the absolute form a config is kept and saved in.

A config is typed relative to the folder a command runs in; the copy saved next to its results
(``config.yaml``, ``method.yaml``) must work from any folder, and a ``--resume`` from elsewhere
must recognise it. So path values are made absolute when a config is read and when it is saved,
by one rule, here:

- a schema key annotated `PathStr` is always a path (``out``, a dataset's ``path``, ...);
- a key annotated `PathOrName` is a path where the loaders would read a file: when it names an
  existing file or folder from the working folder, or holds a separator; otherwise it is a
  registered name (a weights-catalogue card, a ``demo_*`` asset) and stays one;
- inside a component's free-form arguments (``{name: ..., **arguments}``), a string is a path when
  it names an existing file or folder from the working folder and looks like a path (a separator
  or a suffix), so a registered name or a word like ``test`` stays as typed even where a file or
  folder of that name exists. The ``name`` key is always the registered name.

Module names (``imports``) are never paths. An absolute path is left as it is (``~`` expanded).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union

from ganinv.core.config import Keys

C = TypeVar("C")


@dataclasses.dataclass(frozen=True)
class IsPath:
    """Marks a config key as a path: ``Annotated[str, IsPath()]``.

    may_be_name: the value may instead be a registered name (read the way the checkpoint
                 loaders read it: a path when it exists or holds a separator)
    """

    may_be_name: bool = False


PathStr = Annotated[str, IsPath()]
PathOrName = Annotated[str, IsPath(may_be_name=True)]


def _has_separator(value: str) -> bool:
    return os.sep in value or bool(os.altsep and os.altsep in value)


def _exists(value: str) -> bool:
    try:
        return Path(value).expanduser().exists()
    except (OSError, RuntimeError, ValueError):  # "~nobody/x", a NUL byte, a name too long
        return False


def _absolute(value: str) -> str:
    try:
        return os.path.abspath(os.path.expanduser(value))
    except (RuntimeError, ValueError):
        return value


def resolve_path(value: str, may_be_name: bool = False) -> str:
    """The absolute form of a `PathStr` / `PathOrName` value (a name stays a name)."""
    if not value or (may_be_name and not _has_separator(value) and not _exists(value)):
        return value
    return _absolute(value)


def looks_like_path(value: Any) -> bool:
    """Whether a free-form component argument is a path (see the module docstring)."""
    if not isinstance(value, str) or not value or "\0" in value:
        return False
    if not _has_separator(value) and not Path(value).suffix:
        return False
    return _exists(value)


def absolute_paths(config: C) -> C:
    """A copy of a config dataclass whose path values are absolute (see the module docstring)."""
    return _walk(config, type(config))


def absolute_spec_paths(value: Any) -> Any:
    """A component spec (or any tree of them) with its path-like arguments made absolute."""
    if isinstance(value, dict):
        return {k: v if k == "name" else absolute_spec_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [absolute_spec_paths(v) for v in value]
    return _absolute(value) if looks_like_path(value) else value


def _options(tp: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    """(bare type, annotations) of each option of a (possibly Annotated, possibly union) type."""
    if typing.get_origin(tp) is Annotated:
        base = typing.get_args(tp)[0]
        return [(b, (*tp.__metadata__, *m)) for b, m in _options(base)]
    if typing.get_origin(tp) in (Union, types.UnionType):
        return [option for arg in typing.get_args(tp) for option in _options(arg)]
    return [(tp, ())]


def _walk(value: Any, tp: Any) -> Any:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = typing.get_type_hints(type(value), include_extras=True)
        changes = {
            f.name: _walk(getattr(value, f.name), hints.get(f.name, Any))
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    options = _options(tp)
    if isinstance(value, str):
        for base, rules in options:
            marker = next((r for r in rules if isinstance(r, IsPath)), None)
            if base is str and marker is not None:
                return resolve_path(value, marker.may_be_name)
        return value  # a registered name, a word
    if isinstance(value, list):
        item = next((typing.get_args(b) for b, _ in options if typing.get_origin(b) is list), ())
        if item and item[0] is not Any:
            return [_walk(v, item[0]) for v in value]
        return absolute_spec_paths(value)
    if isinstance(value, dict):
        return _walk_mapping(value, options)
    return value


def _walk_mapping(value: dict[str, Any], options: list[tuple[Any, tuple[Any, ...]]]) -> Any:
    for base, rules in options:
        if base is not dict and typing.get_origin(base) is not dict:
            continue
        # Keys the schema types (`Keys(path=PathStr, ...)`) follow their type; the rest of a
        # component's arguments follow the free-form rule.
        typed = dict(next((r.types for r in rules if isinstance(r, Keys)), ()))
        args = typing.get_args(base)
        if not typed and len(args) == 2 and args[1] is not Any:
            return {k: _walk(v, args[1]) for k, v in value.items()}
        return {
            k: _walk(v, typed[k]) if k in typed else (v if k == "name" else absolute_spec_paths(v))
            for k, v in value.items()
        }
    return absolute_spec_paths(value)
