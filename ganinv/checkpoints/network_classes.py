"""The network classes a ganinv network file may name, and the bounds of their configs.

A header names each network's class as ``"<role>/<name>"``. Discriminators: the built-in
StyleGAN2 one. Generators: any class of the ``generators`` registry, the built-in ``stylegan2``
or a plugin's entry point in group ``ganinv.generators``, looked up by its registered name. A
header therefore only chooses among installed, registered classes; it never names a module to
import. A plugin's generator states the bounds of its constructor arguments in a class attribute
``config_bounds`` (``{field: (kind, low, high)}``, kinds as in `ganinv.checkpoints.bounds`), so a
header's config is checked before anything is built, exactly as for the built-in one; a class
without it is refused (its file could ask its constructor for anything).
"""

from __future__ import annotations

import re
from typing import Any

from torch import nn

from ganinv.checkpoints.bounds import FIELDS, KINDS
from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.registry import GENERATORS
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator

__all__ = ["BUILTIN_CLASSES", "class_key", "network_class"]

Bounds = dict[str, tuple[str, float, float]]
BUILTIN_CLASSES: dict[str, type[nn.Module]] = {
    "generator/stylegan2": StyleGAN2Generator,
    "discriminator/stylegan2": StyleGAN2Discriminator,
}
_KEY = re.compile(r"(generator|discriminator)/[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
MAX_FIELDS = 64


def _bounds(cls: type, name: str) -> Bounds:
    """A registered generator's ``config_bounds``, checked to be a table `check_config` reads."""
    bounds = getattr(cls, "config_bounds", None)
    ok = isinstance(bounds, dict) and 0 < len(bounds) <= MAX_FIELDS
    for field, rule in bounds.items() if ok else ():
        ok = ok and isinstance(field, str) and isinstance(rule, tuple) and len(rule) == 3
        ok = ok and rule[0] in KINDS and all(isinstance(v, (int, float)) for v in rule[1:])
    if not ok:
        raise GanInvError(
            f"generator {name!r} ({cls.__module__}.{cls.__qualname__}) has no valid "
            "config_bounds ({field: (kind, low, high)}), so ganinv cannot check a file's config "
            "for it; the plugin must declare them to load from ganinv network files"
        )
    return bounds


def network_class(key: Any, where: str) -> tuple[type[nn.Module], Bounds]:
    """(class, config bounds) for a header's ``class`` value `key`; `where` names the field."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise GanInvError(
            f"{where} is {str(key)[:60]!r}; expected 'generator/<registered name>' or "
            f"'discriminator/stylegan2'"
        )
    if key in BUILTIN_CLASSES:
        return BUILTIN_CLASSES[key], FIELDS[key]
    role, name = key.split("/", 1)
    if role != "generator":
        raise GanInvError(f"{where} is {key!r}; known discriminators: ['discriminator/stylegan2']")
    if name not in GENERATORS:
        raise GanInvError(
            f"{where} names the generator {name!r}, which no installed plugin registers; install "
            "the plugin that provides it (`ganinv plugins --kind generators` lists what is here)"
        )
    cls = GENERATORS.get(name)
    if not (isinstance(cls, type) and issubclass(cls, Generator)):
        raise GanInvError(
            f"{where}: the registered generator {name!r} is not a ganinv.core.generator.Generator "
            "class, so it cannot be loaded from a network file"
        )
    return cls, _bounds(cls, name)


def class_key(module: nn.Module) -> str:
    """The header ``class`` value of a module: built-in, or ``generator/<registered name>``."""
    for key, cls in BUILTIN_CLASSES.items():
        if type(module) is cls:
            return key
    if isinstance(module, Generator):
        for name in GENERATORS.names():
            try:
                registered = GENERATORS.get(name)
            except GanInvError:  # a broken plugin is not the one being saved
                continue
            if registered is type(module):
                _bounds(registered, name)  # never write a file ganinv could not read back
                return f"generator/{name}"
    raise GanInvError(
        f"cannot save a {type(module).__name__}: it is neither a built-in network nor a "
        "generator class registered in the 'generators' registry"
    )
