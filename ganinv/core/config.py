"""Strict YAML configs: dataclass schemas, command-line overrides, and the saved resolved copy.

A schema is a (nested) dataclass. `from_dict` rejects unknown keys with the closest valid key and
wrong types with the key's dotted path and the expected type. Numbers are finite, and a key typed
with a range (`PositiveInt`, `Probability`, ... or ``Annotated[int, Range(...)]``) is checked
against it, so ``batch_size: 0`` or ``lr: -1`` fail when the config is read, naming the key.
Component sections
(``{"name": ..., **arguments}``) are checked against the registered constructor's signature when
they are built (`call_with_checked_kwargs`).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import inspect
import math
import os
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union

import yaml

from ganinv.core.errors import GanInvError

C = TypeVar("C")


class _RangeError(GanInvError):
    """A value of the right type outside its key's range (reported over a union's other options)."""


@dataclasses.dataclass(frozen=True)
class Range:
    """The values a numeric config key allows; attach with ``Annotated[int, Range(low=1)]``.

    low / high:           bounds (None: unbounded), inclusive unless `low_open` / `high_open`
    power_of_two:         the value must also be a power of two (image sides of the networks)
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    power_of_two: bool = False

    def allows(self, value: float) -> bool:
        if self.low is not None and not (value > self.low if self.low_open else value >= self.low):
            return False
        if self.high is not None and not (
            value < self.high if self.high_open else value <= self.high
        ):
            return False
        return not self.power_of_two or (value > 0 and int(value) & (int(value) - 1) == 0)

    def describe(self, what: str) -> str:
        """``an integer >= 1``, ``a number in [0, 1)``, ``a power of two >= 4``."""
        if self.power_of_two:
            what = "a power of two"
        low, high = _number(self.low), _number(self.high)
        if self.low is not None and self.high is not None:
            return (
                f"{what} in {'(' if self.low_open else '['}{low}, "
                f"{high}{')' if self.high_open else ']'}"
            )
        if self.low is not None:
            return f"{what} {'>' if self.low_open else '>='} {low}"
        if self.high is not None:
            return f"{what} {'<' if self.high_open else '<='} {high}"
        return what

    def check(self, value: Any, path: str) -> None:
        if isinstance(value, (int, float)) and not self.allows(value):
            what = "an integer" if isinstance(value, int) else "a number"
            raise _RangeError(
                f"config key {path!r}: expected {self.describe(what)}, got {_number(value)}"
            )


def _number(x: float | None) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


@dataclasses.dataclass(frozen=True)
class Length:
    """A list key's exact number of items: ``Annotated[list[float], Length(2)]``."""

    items: int

    def check(self, value: Any, path: str) -> None:
        if len(value) != self.items:
            raise _RangeError(
                f"config key {path!r}: expected a list of {self.items} items, got {value!r}"
            )


class Keys:
    """Types of some keys of a free-form mapping whose other keys go to a constructor:
    ``Annotated[dict[str, Any], Keys(weight=NonNegativeFloat)]``."""

    def __init__(self, **types: Any) -> None:
        self.types = tuple(types.items())

    def check(self, value: Any, path: str) -> None:
        for key, tp in self.types:
            if key in value:
                _convert(value[key], tp, f"{path}.{key}")


# The ranges the schemas use. Counts of steps, images and items start at 1; intervals ("every
# N steps") too, as 0 would divide by zero or never happen.
PositiveInt = Annotated[int, Range(low=1)]
NonNegativeInt = Annotated[int, Range(low=0)]
PositiveFloat = Annotated[float, Range(low=0, low_open=True)]
NonNegativeFloat = Annotated[float, Range(low=0)]
Probability = Annotated[float, Range(low=0, high=1)]
Seed = Annotated[int, Range(low=0, high=2**63 - 1)]  # what torch, numpy and Python all accept
AdamBeta = Annotated[float, Range(low=0, high=1, high_open=True)]
AdamBetas = Annotated[list[AdamBeta], Length(2)]
NetworkResolution = Annotated[int, Range(low=4, power_of_two=True)]


def _suggest(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid keys: " + ", ".join(sorted(valid))


def flag_type(tp: Any) -> Callable[[str], Any]:
    """An argparse ``type=`` for a numeric command-line flag: ``type=flag_type(PositiveInt)``.

    The flag's value is held to the same rules as a config key (finite, in range); argparse
    reports a violation as ``argument --limit: expected an integer >= 1, got -1`` with status 2.
    """
    base, rules = (typing.get_args(tp)[0], tp.__metadata__) if typing.get_origin(tp) else (tp, ())
    what = "an integer" if base is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = base(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if base is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        for rule in rules:
            if isinstance(rule, Range) and not rule.allows(value):
                raise argparse.ArgumentTypeError(f"expected {rule.describe(what)}, got {text}")
        return value

    parse.__name__ = base.__name__
    return parse


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Annotated:
        return _type_name(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, path: str) -> Any:
    """Check (and lightly coerce: int -> float) `value` against the annotation `tp`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin is Annotated:
        value = _convert(value, args[0], path)
        for rule in tp.__metadata__:
            if hasattr(rule, "check"):
                rule.check(value, path)
        return value
    if origin in (Union, types.UnionType):
        errors = []
        for option in args:
            try:
                return _convert(value, option, path)
            except _RangeError:
                raise  # the right type out of range: that is the message worth giving
            except GanInvError as exc:
                errors.append(str(exc))
        raise GanInvError(
            f"config key {path!r}: expected {_type_name(tp)}, got {type(value).__name__} {value!r}"
        )
    if tp is type(None):
        if value is None:
            return None
        raise GanInvError(f"config key {path!r}: expected null, got {value!r}")
    if origin is typing.Literal:
        if value in args:
            return value
        raise GanInvError(
            f"config key {path!r}: expected one of {list(args)}, got {value!r}"
            + (
                f" ({_suggest(str(value), [str(a) for a in args])})"
                if isinstance(value, str)
                else ""
            )
        )
    if dataclasses.is_dataclass(tp):
        if dataclasses.is_dataclass(value) and isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise GanInvError(f"config key {path!r}: expected a mapping, got {value!r}")
        return from_dict(tp, value, path)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise GanInvError(f"config key {path!r}: expected a list, got {value!r}")
        item_tp = args[0] if args else Any
        items = [_convert(v, item_tp, f"{path}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise GanInvError(f"config key {path!r}: expected a mapping, got {value!r}")
        val_tp = args[1] if args else Any
        return {k: _convert(v, val_tp, f"{path}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GanInvError(
                f"config key {path!r}: expected a number, got {type(value).__name__} {value!r}"
            )
        if not math.isfinite(value):
            raise _RangeError(f"config key {path!r}: expected a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise GanInvError(
                f"config key {path!r}: expected an integer, got {type(value).__name__} {value!r}"
            )
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise GanInvError(f"config key {path!r}: expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise GanInvError(
                f"config key {path!r}: expected a string, got {type(value).__name__} {value!r}"
            )
        return value
    if tp is dict:
        if not isinstance(value, dict):
            raise GanInvError(f"config key {path!r}: expected a mapping, got {value!r}")
        return value
    return value


def from_dict(schema: type[C], data: dict[str, Any], path: str = "") -> C:
    """Build the dataclass `schema` from a mapping, strictly."""
    if not isinstance(data, dict):
        raise GanInvError(f"config {path or 'root'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(schema, include_extras=True)
    fields = {f.name: f for f in dataclasses.fields(schema)}  # type: ignore[arg-type]
    kwargs = {}
    for key, value in data.items():
        full = f"{path}.{key}" if path else str(key)
        if key not in fields:
            raise GanInvError(f"unknown config key {full!r}: {_suggest(str(key), list(fields))}")
        kwargs[key] = _convert(value, hints[key], full)
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING  # type: ignore[misc]
    ]
    if missing:
        where = f" in {path!r}" if path else ""
        raise GanInvError(f"config is missing required key(s) {missing}{where}")
    return schema(**kwargs)


def to_dict(config: Any) -> Any:
    """Plain YAML-able structure of a (nested) dataclass config."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, (list, tuple)):
        return [to_dict(v) for v in config]
    if isinstance(config, dict):
        return {k: to_dict(v) for k, v in config.items()}
    if isinstance(config, Path):
        return str(config)
    return config


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``a.b=value`` strings (value parsed as YAML) to a nested mapping, returning a copy."""
    import copy

    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise GanInvError(f"override {item!r} must look like key.sub=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError as exc:
            raise GanInvError(f"override {item!r}: value is not valid YAML ({exc})") from exc
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {} if node.get(part) is None else node[part]
                if not isinstance(node[part], dict):
                    raise GanInvError(f"override {item!r}: {part!r} is not a mapping")
            node = node[part]
        node[parts[-1]] = value
    return out


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML mapping with a clear error for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise GanInvError(f"config file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        # One line: YAML's own message spans several (RecursionError: nested without end).
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or exc
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = " ".join(str(problem).split())[:200]
        raise GanInvError(f"config file {str(path)!r} is not valid YAML: {problem}{where}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GanInvError(f"config file {str(path)!r} must hold a mapping at the top level")
    return data


def load_config(
    schema: type[C], path: str | os.PathLike[str] | None, overrides: list[str] = ()
) -> C:
    """Read YAML (or start empty), apply overrides, validate against `schema`; path keys are
    made absolute (`ganinv.core.config_paths`)."""
    from ganinv.core.config_paths import absolute_paths

    data = read_yaml(path) if path is not None else {}
    return absolute_paths(from_dict(schema, apply_overrides(data, list(overrides))))


def save_config(config: Any, path: str | os.PathLike[str]) -> Path:
    """Write the resolved config atomically next to a result, so the run can be repeated from
    any working folder: path keys are written absolute (`ganinv.core.config_paths`)."""
    from ganinv.core.config_paths import absolute_paths
    from ganinv.core.io import atomic_write_text

    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = absolute_paths(config)
    text = yaml.safe_dump(to_dict(config), sort_keys=False)
    return atomic_write_text(Path(path), text)


def call_with_checked_kwargs(
    factory: Callable[..., Any], kwargs: dict[str, Any], where: str
) -> Any:
    """Call `factory(**kwargs)` after checking names (with suggestions) and simple types."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return factory(**kwargs)
    params = sig.parameters
    accepts_var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = [
        n
        for n, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    if not accepts_var_kw:
        for key in kwargs:
            if key not in named:
                raise GanInvError(f"unknown argument {where}.{key}: {_suggest(key, named)}")
    try:
        hints = typing.get_type_hints(
            factory.__init__ if inspect.isclass(factory) else factory, include_extras=True
        )
    except Exception:  # unresolvable forward references in third-party code: skip type checks
        hints = {}
    checked = {}
    for key, value in kwargs.items():
        tp = hints.get(key)
        bare = typing.get_args(tp)[0] if typing.get_origin(tp) is Annotated else tp
        simple = bare in (int, float, bool, str) or typing.get_origin(bare) in (
            typing.Literal,
            Union,
            types.UnionType,
            list,
        )
        checked[key] = _convert(value, tp, f"{where}.{key}") if tp is not None and simple else value
    missing = [
        n
        for n, p in params.items()
        if n in named and p.default is inspect.Parameter.empty and n not in checked
    ]
    if missing:
        raise GanInvError(f"{where} needs argument(s) {missing}")
    return factory(**checked)
