"""`load_generator` / `load_discriminator`: any supported checkpoint, format detected from bytes.

Formats: ganinv's safetensors (`native`), rosinality ``.pt`` (`rosinality`) and NVlabs network
pickles (`nvlabs`). Nothing executes code from the file. Returned networks are in eval mode with
``requires_grad`` False (frozen, as inversion uses them); call ``.requires_grad_(True)`` to train.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganinv.core.errors import GanInvError

# torch.save's legacy (non-zip) files start with a pickled magic number.
_LEGACY_TORCH_MAGIC = b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"


def detect_format(path: str | os.PathLike[str]) -> str:
    """'native', 'rosinality' or 'nvlabs', from the first bytes of the file."""
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise GanInvError(f"no such checkpoint file: {path}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise GanInvError(f"{path} is a directory, not a checkpoint file")
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        raise GanInvError(f"{path} is not a regular file (a pipe, socket or device)")
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise GanInvError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if head.startswith(b"PK\x03\x04") or _LEGACY_TORCH_MAGIC in head[:16]:
        return "rosinality"  # torch.save() output
    if len(head) > 9 and head[8:9] == b"{":  # safetensors: u64 header length, then JSON
        return "native"
    if head.startswith(b"\x80"):
        return "nvlabs"  # a plain pickle
    raise GanInvError(
        f"{path}: unrecognised checkpoint format (expected ganinv .safetensors, a rosinality "
        "stylegan2-pytorch .pt or an NVlabs network .pkl)"
    )


def _resolve(path_or_name: str | os.PathLike[str]) -> Path:
    path = Path(path_or_name).expanduser()
    if path.exists():
        return path
    name = str(path_or_name)
    if os.sep in name or (os.altsep and os.altsep in name):
        raise GanInvError(f"no such checkpoint file: {path_or_name}")
    from ganinv.core.assets import asset_path, find_asset

    if find_asset(name) is not None:  # a registry card (e.g. demo_fmnist32_stylegan2)
        return asset_path(name)
    try:
        from ganinv.weights import weights_path
    except ImportError as exc:  # the weights catalogue is optional
        raise GanInvError(f"no such checkpoint file: {path_or_name}") from exc
    try:
        return weights_path(name)
    except GanInvError as exc:
        raise GanInvError(
            f"{path_or_name!r} is neither a checkpoint file, a registry card nor a usable "
            f"weights-catalogue name (`ganinv weights list`): {exc}"
        ) from exc


def load_networks(
    path_or_name: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[dict[str, nn.Module], dict[str, Any]]:
    """({'generator': ..., 'discriminator': ...} as present, meta) from any supported file."""
    path = _resolve(path_or_name)
    fmt = detect_format(path)
    if fmt == "native":
        from ganinv.checkpoints.native import load_networks as read
    elif fmt == "rosinality":
        from ganinv.checkpoints.rosinality import load_rosinality as read
    else:
        from ganinv.checkpoints.nvlabs import load_nvlabs as read
    networks, meta = read(path)
    # What ganinv found wins over what the file's own metadata says.
    meta = {**meta, "source": str(path), "format": fmt}
    for module in networks.values():
        module.to(device).eval().requires_grad_(False)
    return networks, meta


def _one(path_or_name: str | os.PathLike[str], role: str, device: str | torch.device) -> Any:
    networks, meta = load_networks(path_or_name, device)
    if role not in networks:
        raise GanInvError(
            f"{path_or_name} ({meta['format']} format) holds no {role}; it has "
            f"{sorted(networks) or 'nothing usable'}"
        )
    return networks[role]


def load_generator(path_or_name: str | os.PathLike[str], device: str | torch.device = "cpu") -> Any:
    """A `StyleGAN2Generator` (frozen, eval) from a file, a registry card name (e.g.
    ``demo_fmnist32_stylegan2``) or a weights-catalogue name."""
    return _one(path_or_name, "generator", device)


def load_discriminator(
    path_or_name: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> Any:
    """A `StyleGAN2Discriminator` (frozen, eval) from a file or a weights-catalogue name."""
    return _one(path_or_name, "discriminator", device)
