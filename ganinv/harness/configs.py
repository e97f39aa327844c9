"""Reading harness configs from YAML files, mappings or dataclasses, with overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from ganinv.core.assets import looks_like_name
from ganinv.core.config import apply_overrides, from_dict, read_yaml, to_dict
from ganinv.core.config_paths import absolute_paths
from ganinv.harness.schema import MethodConfig

C = TypeVar("C")


def load(schema: type[C], source: Any, overrides: list[str] | tuple[str, ...] = ()) -> C:
    """`schema` from a YAML path, a mapping or an instance, after ``key.sub=value`` overrides.

    An instance built in Python is checked like a file (types and ranges): it is read back from
    its plain form, so ``TrainConfig(..., batch_size=0)`` fails here, naming the key. Paths are
    made absolute (`absolute_paths`): the run, its fingerprints and its saved config then mean
    the same files whatever folder a later command runs in."""
    if isinstance(source, schema):
        source = to_dict(source)
    if isinstance(source, (str, os.PathLike)):
        source = read_yaml(source)
    return absolute_paths(from_dict(schema, apply_overrides(dict(source), list(overrides))))


def load_method(source: Any, overrides: list[str] | tuple[str, ...] = ()) -> MethodConfig:
    """A method from: a MethodConfig; a mapping or YAML file holding one, or holding a ``method:``
    section (train/eval configs); an exported encoder ``.safetensors`` file, or the name of its
    registry card (``demo_psp``)."""
    if isinstance(source, MethodConfig):
        return load(MethodConfig, source, overrides)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix == ".safetensors" or looks_like_name(source):  # a file or a card name
            return load(MethodConfig, {"encoder_checkpoint": str(path)}, overrides)
        source = read_yaml(path)
    data = dict(source)
    if "method" in data and isinstance(data["method"], dict):
        data = data["method"]
    return load(MethodConfig, data, overrides)
