"""ganinv's own network format: one ``.safetensors`` file, no pickle anywhere.

Tensors are stored under the network's name (``generator.synthesis.b4.const``,
``discriminator.blocks.b4.fc.weight``); the header metadata holds JSON strings:

    format          "ganinv.networks"
    format_version  "1"
    networks        {name: {"class": "generator/stylegan2", "config": <module.config>}}
    meta            free-form JSON given to `save_networks` (source file, source format, ...)

A network class is known by its key, ``"<role>/<name>"``: the built-in StyleGAN2 networks, or any
generator class of the ``generators`` registry (a plugin's entry point), looked up by registered
name (`ganinv.checkpoints.network_classes`). The header is untrusted input: each value is checked
(type, range, size limits; a plugin generator's own ``config_bounds``) and a network is built only
after its description matched the shapes of its stored tensors exactly
(`ganinv.checkpoints.state.build_network`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganinv.checkpoints.network_classes import class_key, network_class
from ganinv.checkpoints.safe_load import parse_json
from ganinv.checkpoints.state import build_network, load_exact
from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import read_table, read_tensors, write_file

FORMAT = "ganinv.networks"
FORMAT_VERSION = 1
# The header's JSON fields describe a few networks in a few kB; more is a corrupt or hostile file.
MAX_JSON_CHARS = 1 << 20


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
    return write_file(path, tensors, metadata)


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The header metadata of a safetensors file (empty dict when it has none)."""
    return read_table(path, "checkpoint")[0]


def _json_field(metadata: dict[str, str], key: str, path: Any, default: str | None = None) -> Any:
    """The JSON value of header field `key`, parsed with a size limit; one-line errors."""
    text = metadata.get(key, default)
    if text is None:
        raise GanInvError(f"{path}: header field {key!r} is missing; rewrite the file with ganinv")
    return parse_json(text, f"{path}: header field {key!r}", MAX_JSON_CHARS)


def _format_version(metadata: dict[str, str], path: Any) -> int:
    text = metadata.get("format_version", "0")
    if not (text.isascii() and text.isdecimal() and len(text) <= 6):
        raise GanInvError(f"{path}: header field 'format_version' is {text[:20]!r}, not a number")
    version = int(text)
    if version > FORMAT_VERSION:
        raise GanInvError(
            f"{path} has format version {version}; this ganinv reads up to {FORMAT_VERSION}: "
            "upgrade ganinv"
        )
    return version


def _network_specs(described: Any, path: Any) -> dict[str, tuple[str, Any]]:
    """name -> (class key, config) from the 'networks' header field, types checked (the class
    is looked up later, by `network_class`)."""
    if not isinstance(described, dict) or not described:
        raise GanInvError(f"{path}: header field 'networks' must be a non-empty JSON object")
    specs: dict[str, tuple[str, Any]] = {}
    for name, spec in described.items():
        where = f"{path}: networks.{name}"
        if "." in name or not name:
            raise GanInvError(f"{where}: network names may not be empty or contain '.'")
        if not isinstance(spec, dict) or set(spec) != {"class", "config"}:
            raise GanInvError(f"{where} must be an object with exactly 'class' and 'config'")
        network_class(spec["class"], f"{where}.class")  # known before any tensor is read
        specs[name] = (spec["class"], spec["config"])
    return specs


def load_networks(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[dict[str, nn.Module], dict[str, Any]]:
    """(name -> module in eval mode on `device`, meta) from a file written by `save_networks`.

    Every header value is checked before use, and each network is built only after its
    description matched the shapes of the tensors stored for it (`build_network`).
    """
    metadata, table = read_table(path, "checkpoint")
    if metadata.get("format") != FORMAT:
        raise GanInvError(
            f"{path} is a safetensors file but not a ganinv network file (format "
            f"{str(metadata.get('format'))[:60]!r}); convert checkpoints with `ganinv convert`"
        )
    _format_version(metadata, path)
    specs = _network_specs(_json_field(metadata, "networks", path), path)
    meta = _json_field(metadata, "meta", path, default="{}")
    if not isinstance(meta, dict):
        raise GanInvError(f"{path}: header field 'meta' must be a JSON object")
    orphans = [k for k in table if k.split(".", 1)[0] not in specs]
    if orphans:
        raise GanInvError(f"{path}: tensors {orphans[:3]} belong to no described network")
    # Every network is described, bounded and matched with the table before any data is read.
    built: dict[str, nn.Module] = {}
    for name, (key, config) in specs.items():
        prefix = name + "."
        shapes = {k[len(prefix) :]: t.shape for k, t in table.items() if k.startswith(prefix)}
        cls, bounds = network_class(key, f"{path}: networks.{name}.class")
        built[name] = build_network(key, cls, config, shapes, f"{path}: network {name!r}", bounds)
    tensors = read_tensors(path, "checkpoint")
    networks: dict[str, nn.Module] = {}
    for name, module in built.items():
        prefix = name + "."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        load_exact(module, state, f"{path}: network {name!r}")
        networks[name] = module.to(device).eval()
    return networks, meta
