"""Offline weights: a verified local cache; nothing is ever downloaded at run time.

``load_state_dict("vgg16_imagenet")`` returns verified tensors, converting automatic sources on
first use; user-provided files are installed once with ``ganinv weights install NAME --from PATH``.
Attributes load lazily, so reading the catalogue (``ganinv weights --help``) imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "CACHE_ENV": "cache",
    "cache_dir": "cache",
    "sha256_file": "cache",
    "CATALOG": "catalog",
    "WeightSpec": "catalog",
    "spec": "catalog",
    "install": "manager",
    "load_state_dict": "manager",
    "status": "manager",
    "verify": "manager",
    "weights_path": "manager",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'ganinv.weights' has no attribute {name!r}")
    return getattr(importlib.import_module(f"ganinv.weights.{_WHERE[name]}"), name)
