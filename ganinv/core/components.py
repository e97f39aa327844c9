"""Building registered components with the runtime objects their constructors ask for.

Public (plugins build sub-components with it, e.g. SDIC's base space); the harness uses it too.

A config section says what to build (``{name: wplus, ...}``); the harness offers the objects that
only exist at run time (the generator, the space, the device). Each constructor receives the
runtime objects it names in its signature, so a refiner that needs no generator is not handed one.
"""

from __future__ import annotations

import inspect
from typing import Any

from ganinv.core.errors import GanInvError
from ganinv.core.registry import registry

__all__ = ["accepted_kwargs", "build_component", "check_space_name", "spec_name"]


def spec_name(spec: str | dict[str, Any]) -> str:
    """The registered name a spec refers to."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict) and "name" in spec:
        return str(spec["name"])
    raise GanInvError(f"a component spec is a name or a mapping with 'name'; got {spec!r}")


def accepted_kwargs(factory: Any, offered: dict[str, Any]) -> dict[str, Any]:
    """The subset of `offered` that `factory`'s signature names explicitly."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}
    # Only parameters named explicitly: a bare ``**kwargs`` (e.g. nn.Module.__init__ inherited by
    # a class without its own __init__) does not mean "wants the generator".
    named = {
        n
        for n, p in params.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    return {k: v for k, v in offered.items() if k in named}


def build_component(kind: str, spec: str | dict[str, Any], **runtime: Any) -> Any:
    """``registry(kind).build(spec, **accepted runtime objects)``.

    A spec that sets a name the harness supplies (e.g. ``generator``) is an error rather than a
    silent override.
    """
    name = spec_name(spec)
    factory = registry(kind).get(name)
    if isinstance(spec, dict):
        clash = sorted(set(spec) & set(runtime) - {"name"})
        if clash:
            raise GanInvError(
                f"{kind}.{name}: argument(s) {clash} are supplied by the harness at run time; "
                "remove them from the config"
            )
    built = registry(kind).build(spec, **accepted_kwargs(factory, runtime))
    if kind == "spaces":
        check_space_name(built, name)
    return built


def check_space_name(space: Any, registered: str) -> None:
    """Codes carry ``space.name``, so it must be the registered name: derived when the class
    leaves it empty, an error when it differs."""
    own = getattr(space, "name", "")
    if not own:
        space.name = registered
    elif own != registered:
        raise GanInvError(
            f"space class {type(space).__name__} has name {own!r} but is registered as "
            f"{registered!r}; set name = {registered!r} in the class (or leave it empty)"
        )
