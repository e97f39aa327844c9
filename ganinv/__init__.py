"""ganinv: a modular plugin library for GAN inversion.

Public API (lazy, so ``import ganinv`` stays light):
    build(kind, spec, **kwargs)      construct a registered component
    registry(kind)                   the registry of one kind
    load_generator(path_or_name)     a pretrained generator from any supported checkpoint
    load_discriminator(path_or_name) its discriminator
    invert(method, images)           (codes, reconstructions) with a method
    evaluate(config)                 one method on a test split -> metrics record
    benchmark(config)                a grid of methods -> table (and files)
    GanInvError                      the one user-facing error type
"""

from __future__ import annotations

from typing import Any

from ganinv.core.errors import GanInvError
from ganinv.core.registry import build, registry

__all__ = [
    "GanInvError",
    "build",
    "registry",
    "load_generator",
    "load_discriminator",
    "invert",
    "evaluate",
    "benchmark",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Heavy entry points import on first use.
    if name in ("load_generator", "load_discriminator"):
        from ganinv.checkpoints import load

        return getattr(load, name)
    if name in ("invert", "evaluate", "benchmark"):
        from ganinv.harness import api

        return getattr(api, name)
    raise AttributeError(f"module 'ganinv' has no attribute {name!r}")
