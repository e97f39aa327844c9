"""ganinv's own network format: one ``.safetensors`` file, no pickle anywhere.

Tensors are stored under the network's name (``generator.synthesis.b4.const``,
``discriminator.blocks.b4.fc.weight``); the header metadata holds JSON strings:

    format          "ganinv.networks"
    format_version  "1"
    networks        {name: {"class": "generator/stylegan2", "config": <module.config>}}
    meta            free-form JSON given to `save_networks` (source file, source format, ...)

A network class is known by a key in `NETWORK_CLASSES`. The header is untrusted input: each value
is checked (type, range, size limits) and a network is built only after its description matched
the shapes of its stored tensors exactly (`ganinv.checkpoints.state.build_network`).
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

from ganinv.checkpoints.safe_load import reword
from ganinv.checkpoints.state import build_network, load_exact
from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator

FORMAT = "ganinv.networks"
FORMAT_VERSION = 1
# The header's JSON fields describe a few networks in a few kB; more is a corrupt or hostile file.
MAX_JSON_CHARS = 1 << 20
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
        raise GanInvError(f"{path} is not a readable safetensors file: {reword(exc)}") from exc


def _json_field(metadata: dict[str, str], key: str, path: Any, default: str | None = None) -> Any:
    """The JSON value of header field `key`, parsed with a size limit; one-line errors."""
    text = metadata.get(key, default)
    if text is None:
        raise GanInvError(f"{path}: header field {key!r} is missing; rewrite the file with ganinv")
    if len(text) > MAX_JSON_CHARS:
        raise GanInvError(f"{path}: header field {key!r} is {len(text):,} characters (corrupt)")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise GanInvError(f"{path}: header field {key!r} is not valid JSON ({exc})") from exc


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
    """name -> (class key, config) from the 'networks' header field, types checked."""
    if not isinstance(described, dict) or not described:
        raise GanInvError(f"{path}: header field 'networks' must be a non-empty JSON object")
    specs: dict[str, tuple[str, Any]] = {}
    for name, spec in described.items():
        where = f"{path}: networks.{name}"
        if "." in name or not name:
            raise GanInvError(f"{where}: network names may not be empty or contain '.'")
        if not isinstance(spec, dict) or set(spec) != {"class", "config"}:
            raise GanInvError(f"{where} must be an object with exactly 'class' and 'config'")
        if not isinstance(spec["class"], str) or spec["class"] not in NETWORK_CLASSES:
            raise GanInvError(
                f"{where}.class is {str(spec['class'])[:60]!r}; known: {sorted(NETWORK_CLASSES)}"
            )
        specs[name] = (spec["class"], spec["config"])
    return specs


def load_networks(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[dict[str, nn.Module], dict[str, Any]]:
    """(name -> module in eval mode on `device`, meta) from a file written by `save_networks`.

    Every header value is checked before use, and each network is built only after its
    description matched the shapes of the tensors stored for it (`build_network`).
    """
    metadata = read_metadata(path)
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
    networks: dict[str, nn.Module] = {}
    try:
        with safe_open(str(path), framework="pt") as f:
            keys = list(f.keys())
            orphans = [k for k in keys if k.split(".", 1)[0] not in specs]
            if orphans:
                raise GanInvError(f"{path}: tensors {orphans[:3]} belong to no described network")
            for name, (key, config) in specs.items():
                prefix = name + "."
                names = [k for k in keys if k.startswith(prefix)]
                shapes = {k[len(prefix) :]: tuple(f.get_slice(k).get_shape()) for k in names}
                what = f"{path}: network {name!r}"
                module = build_network(key, NETWORK_CLASSES[key], config, shapes, what)
                state = {k[len(prefix) :]: f.get_tensor(k) for k in names}
                load_exact(module, state, what)
                networks[name] = module.to(device).eval()
    except GanInvError:
        raise
    except Exception as exc:  # safetensors or torch refusing the data itself
        raise GanInvError(f"{path}: the tensors cannot be read: {reword(exc)}") from exc
    return networks, meta
