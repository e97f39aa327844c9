"""ganinv's own network format: one ``.safetensors`` file, no pickle anywhere.

Tensors are stored under the network's name (``generator.synthesis.b4.const``,
``discriminator.blocks.b4.fc.weight``); the header metadata holds JSON strings:

    format          "ganinv.networks"
    format_version  "1"
    networks        {name: {"class": "generator/stylegan2", "config": <module.config>}}
    meta            free-form JSON given to `save_networks` (source file, source format, ...)

A network class is known by a key in `NETWORK_CLASSES`; rebuilding it is ``cls(**config)`` then a
strict `load_state_dict`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from ganinv.checkpoints.state import load_exact
from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator

FORMAT = "ganinv.networks"
FORMAT_VERSION = 1
NETWORK_CLASSES: dict[str, type[nn.Module]] = {
    "generator/stylegan2": StyleGAN2Generator,
    "discriminator/stylegan2": StyleGAN2Discriminator,
}


def class_key(module: nn.Module) -> str:
    """The `NETWORK_CLASSES` key of a module's class."""
    for key, cls in NETWORK_CLASSES.items():
        if type(module) is cls:
            return key
    raise GanInvError(
        f"cannot save a {type(module).__name__}: known network classes are "
        f"{sorted(NETWORK_CLASSES)}"
    )


def save_networks(
    path: str | os.PathLike[str],
    networks: dict[str, nn.Module],
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write `networks` (name -> module with a ``.config``) to one safetensors file, atomically."""
    tensors: dict[str, torch.Tensor] = {}
    described: dict[str, Any] = {}
    for name, module in networks.items():
        if "." in name:
            raise GanInvError(f"network names may not contain '.', got {name!r}")
        described[name] = {"class": class_key(module), "config": module.config}
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().to("cpu", torch.float32).contiguous()
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "networks": json.dumps(described),
        "meta": json.dumps(meta or {}),
    }
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The header metadata of a safetensors file (empty dict when it has none)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except FileNotFoundError as exc:
        raise GanInvError(f"no such checkpoint file: {path}") from exc
    except Exception as exc:
        raise GanInvError(f"{path} is not a readable safetensors file: {exc}") from exc


def load_networks(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[dict[str, nn.Module], dict[str, Any]]:
    """(name -> module in eval mode on `device`, meta) from a file written by `save_networks`."""
    metadata = read_metadata(path)
    if metadata.get("format") != FORMAT:
        raise GanInvError(
            f"{path} is a safetensors file but not a ganinv network file (format "
            f"{metadata.get('format')!r}); convert checkpoints with `ganinv convert`"
        )
    version = int(metadata.get("format_version", "0"))
    if version > FORMAT_VERSION:
        raise GanInvError(
            f"{path} has format version {version}; this ganinv reads up to {FORMAT_VERSION}: "
            "upgrade ganinv"
        )
    described = json.loads(metadata["networks"])
    meta = json.loads(metadata.get("meta", "{}"))
    networks: dict[str, nn.Module] = {}
    with safe_open(str(path), framework="pt") as f:
        keys = list(f.keys())
        for name, spec in described.items():
            cls = NETWORK_CLASSES.get(spec["class"])
            if cls is None:
                raise GanInvError(
                    f"{path}: network {name!r} has unknown class {spec['class']!r}; known: "
                    f"{sorted(NETWORK_CLASSES)}"
                )
            module = cls(**spec["config"])
            prefix = name + "."
            state = {k[len(prefix) :]: f.get_tensor(k) for k in keys if k.startswith(prefix)}
            load_exact(module, state, f"{path}: network {name!r}")
            networks[name] = module.to(device).eval()
    return networks, meta
