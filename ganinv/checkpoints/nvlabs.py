"""NVlabs stylegan2-ada-pytorch (and stylegan3 repo, ``stylegan2`` config) network pickles, read
without executing any code they carry.

A network pickle is a dict ``{'G', 'D', 'G_ema', 'augment_pipe', 'training_set_kwargs'}`` whose
networks are ``torch_utils.persistence`` objects: each carries its module's Python source, which
NVlabs' loader ``exec``s. Here a restricted `pickle.Unpickler` resolves only an allow-list of
globals: ``_reconstruct_persistent_obj`` becomes a function returning the pickled object state
(``meta['state']``, never touching ``meta['module_src']``), ``dnnlib.util.EasyDict`` becomes a
dict, embedded tensor blobs are read with ``torch.load(weights_only=True)``, and every other global
(``os.system``, ``builtins.eval``, ...) raises `GanInvError` naming it. The architecture is then
inferred from tensor shapes and the weights are copied into our modules.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
from typing import Any

import numpy as np
import torch

from ganinv.checkpoints.bounds import MAX_RESOLUTION
from ganinv.checkpoints.safe_load import check_pickle, check_tensor, read_file, reword, torch_load
from ganinv.checkpoints.state import build_network, load_exact
from ganinv.core.errors import GanInvError
from ganinv.stylegan2 import ops
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator


class PersistentState(dict):
    """The pickled ``__dict__`` of an NVlabs persistent object, with its class name."""

    class_name: str = ""


class _EasyDict(dict):
    """Stand-in for ``dnnlib.util.EasyDict`` (a dict subclass)."""


def _reconstruct_persistent_obj(meta: Any) -> PersistentState:
    # NVlabs' version exec()s meta['module_src']; we only keep the pickled instance state.
    if not isinstance(meta, dict) or meta.get("type") != "class" or "state" not in meta:
        raise GanInvError("unexpected persistent-object record in the pickle (not an NVlabs class)")
    state = meta["state"]
    if not isinstance(state, dict):
        raise GanInvError(
            f"persistent object {meta.get('class_name')!r} has a non-dict state; not supported"
        )
    out = PersistentState(state)
    out.class_name = str(meta.get("class_name", ""))
    return out


def _load_from_bytes(data: Any) -> Any:
    # torch's own `_load_from_bytes` uses weights_only=False; these blobs only hold storages, and
    # `torch_load` checks the sizes they state against their length before torch allocates them.
    if not isinstance(data, bytes):
        raise GanInvError(f"a tensor record holds a {type(data).__name__}, expected bytes")
    return torch_load(data, "a tensor record")


def _allowed_globals() -> dict[tuple[str, str], Any]:
    import numpy as np

    allowed: dict[tuple[str, str], Any] = {
        ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct_persistent_obj,
        ("dnnlib.util", "EasyDict"): _EasyDict,
        ("dnnlib", "EasyDict"): _EasyDict,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch.storage", "_load_from_bytes"): _load_from_bytes,
        ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
        ("torch", "Size"): torch.Size,
        ("numpy", "dtype"): np.dtype,
        ("numpy", "ndarray"): np.ndarray,
    }
    for name in ("float16", "float32", "float64", "bfloat16", "int64", "int32", "uint8", "bool"):
        allowed[("torch", name)] = getattr(torch, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "scalar")] = _numpy_multiarray("scalar")
        allowed[(module, "_reconstruct")] = _numpy_multiarray("_reconstruct")
    return allowed


def _numpy_multiarray(name: str) -> Any:
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    return getattr(core.multiarray, name)


class SafeUnpickler(pickle.Unpickler):
    """Resolves only allow-listed globals; anything else is refused with a `GanInvError`."""

    _allowed: dict[tuple[str, str], Any] | None = None

    def find_class(self, module: str, name: str) -> Any:
        if SafeUnpickler._allowed is None:
            SafeUnpickler._allowed = _allowed_globals()
        target = SafeUnpickler._allowed.get((module, name))
        if module.startswith("dnnlib.tflib"):
            raise GanInvError(
                "this is an official TensorFlow StyleGAN2 pickle (dnnlib.tflib Network); convert "
                "it first with NVlabs stylegan2-ada-pytorch `legacy.py` (or rosinality's "
                "convert_weight.py), then load the result"
            )
        if target is None:
            raise GanInvError(
                f"refusing to load: the pickle references the global {module}.{name}, which is "
                "not on the allow-list for NVlabs network pickles (it could execute code). "
                "Only load pickles from sources you trust, or convert them where the original "
                "code is available."
            )
        return target

    def persistent_load(self, pid: Any) -> Any:
        raise GanInvError("refusing to load: the pickle uses persistent ids (not a network pickle)")


def read_pickle(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The top-level dict of a network pickle, networks as `PersistentState` trees."""
    data = read_file(path)
    check_pickle(data, str(path))  # no stated length or memo index is trusted before this
    try:
        loaded = SafeUnpickler(io.BytesIO(data)).load()
    except GanInvError as exc:
        raise GanInvError(f"{path}: {exc}") from exc
    except Exception as exc:  # truncated or not a pickle at all
        raise GanInvError(f"{path} is not a readable NVlabs network pickle: {reword(exc)}") from exc
    if not isinstance(loaded, dict) or not any(k in loaded for k in ("G_ema", "G", "D")):
        raise GanInvError(
            f"{path} is a pickle but not an NVlabs network pickle (expected a dict with "
            "'G_ema', 'G' and 'D')"
        )
    return loaded


# -- typed access to the pickled module trees: every value is checked before it is used --------
MAX_DEPTH = 32  # module nesting; StyleGAN2's deepest parameter sits 4 levels down


def _node(obj: Any, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise GanInvError(f"{where} is a {type(obj).__name__}, expected an NVlabs network module")
    return obj


def _table(obj: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise GanInvError(f"{where}.{key} is a {type(value).__name__}, expected a dict by name")
    return value


def _number(obj: dict[str, Any], key: str, where: str, default: Any) -> Any:
    """A plain int/float field (numpy scalars unwrapped), or `default` when absent/None."""
    value = obj.get(key, default)
    if value is None:
        return default
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GanInvError(f"{where}.{key} is a {type(value).__name__}, expected a number")
    return value


def _text(obj: dict[str, Any], key: str, where: str, default: str) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise GanInvError(f"{where}.{key} is a {type(value).__name__}, expected a string")
    return value


def flatten_state(obj: Any, prefix: str = "", where: str = "network", depth: int = 0) -> dict:
    """Walk ``_parameters`` / ``_buffers`` / ``_modules``: the network's `state_dict()`."""
    obj = _node(obj, where)
    if depth > MAX_DEPTH:
        raise GanInvError(f"{where}: modules nested deeper than {MAX_DEPTH} levels")
    out: dict[str, torch.Tensor] = {}
    non_persistent = obj.get("_non_persistent_buffers_set") or set()
    if not isinstance(non_persistent, (set, frozenset)):
        raise GanInvError(f"{where}._non_persistent_buffers_set is not a set")
    for table in ("_parameters", "_buffers"):
        for key, value in _table(obj, table, where).items():
            if value is not None and key not in non_persistent:
                out[prefix + key] = check_tensor(value, f"{where}.{key}").detach()
    for key, module in _table(obj, "_modules", where).items():
        if module is not None:
            out.update(flatten_state(module, prefix + key + ".", f"{where}.{key}", depth + 1))
    return out


def _submodule(obj: dict[str, Any], path: str, where: str) -> dict[str, Any]:
    for part in path.split("."):
        modules = _table(obj, "_modules", where)
        if part not in modules:
            raise GanInvError(f"{where} has no submodule {part!r}")
        where = f"{where}.{part}"
        obj = _node(modules[part], where)
    return obj


def _dim(state: dict[str, torch.Tensor], key: str, dim: int, where: str) -> int:
    """``state[key].shape[dim]``, naming the tensor when it is missing or has too few dims."""
    if key not in state:
        raise GanInvError(f"{where}.{key} is missing; is this a StyleGAN2 network?")
    if state[key].dim() <= dim:
        raise GanInvError(f"{where}.{key} has shape {tuple(state[key].shape)}; too few dimensions")
    return int(state[key].shape[dim])


def _check_resolution(value: Any, where: str) -> None:
    if not isinstance(value, int) or not 4 <= value <= MAX_RESOLUTION or value & (value - 1):
        raise GanInvError(f"{where} is {value!r}, expected a power of two in 4..{MAX_RESOLUTION}")


def _check_filters(state: dict[str, torch.Tensor], where: str) -> None:
    expected = ops.setup_filter()
    for key, value in state.items():
        if not key.endswith("resample_filter"):
            continue
        value = value.float()
        if value.shape != expected.shape or not torch.allclose(
            value / value.sum(), expected, atol=1e-6
        ):
            raise GanInvError(
                f"{where}.{key} is not the [1, 3, 3, 1] filter StyleGAN2 uses; custom resampling "
                "filters are not supported"
            )


def generator_from_pickle(net: Any, where: str = "G_ema") -> StyleGAN2Generator:
    """Build a `StyleGAN2Generator` from the state of an NVlabs ``Generator``."""
    net = _node(net, where)
    if _number(net, "c_dim", where, 0):
        raise GanInvError(f"{where}: conditional generators (c_dim > 0) are not supported")
    state = flatten_state(net, where=where)
    if "synthesis.b4.const" not in state:
        raise GanInvError(
            f"{where} ({getattr(net, 'class_name', '')!r}) is not a StyleGAN2 generator (no "
            "synthesis.b4.const; StyleGAN3 pickles are not supported)"
        )
    synthesis = _submodule(net, "synthesis", where)
    for key, block in _table(synthesis, "_modules", f"{where}.synthesis").items():
        block_where = f"{where}.synthesis.{key}"
        architecture = _text(_node(block, block_where), "architecture", block_where, "skip")
        if architecture != "skip":
            raise GanInvError(
                f"{block_where} uses architecture {architecture[:40]!r}; only 'skip' "
                "(StyleGAN2 config-f) is supported"
            )
    _check_filters(state, where)
    init_kwargs = _table(net, "_init_kwargs", where)
    synthesis_kwargs = _table(init_kwargs, "synthesis_kwargs", f"{where}._init_kwargs")
    resolution = _number(net, "img_resolution", where, None)
    if resolution is None:
        resolution = _number(synthesis, "img_resolution", f"{where}.synthesis", 0)
    _check_resolution(resolution, f"{where}.img_resolution")
    channels = {4: _dim(state, "synthesis.b4.const", 0, where)}
    for level in range(3, resolution.bit_length()):
        channels[2**level] = _dim(state, f"synthesis.b{2**level}.conv0.weight", 0, where)
    mapping_layers = 0
    while f"mapping.fc{mapping_layers}.weight" in state:
        mapping_layers += 1
    fc0 = _submodule(net, "mapping.fc0", where)
    config = {
        "z_dim": _dim(state, "mapping.fc0.weight", 1, where),
        "w_dim": _dim(state, "mapping.fc0.weight", 0, where),
        "resolution": resolution,
        "channels": channels,
        "channel_base": _number(synthesis_kwargs, "channel_base", where, 32768),
        "channel_max": _number(synthesis_kwargs, "channel_max", where, 512),
        "mapping_layers": mapping_layers,
        "mapping_lr_mul": _number(fc0, "bias_gain", f"{where}.mapping.fc0", 0.01),
        "img_channels": _dim(state, f"synthesis.b{resolution}.torgb.weight", 0, where),
        "conv_clamp": _number(synthesis_kwargs, "conv_clamp", where, None),
    }
    ours: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith("resample_filter"):
            continue
        if key == "mapping.w_avg":
            ours["w_avg"] = value
        elif key.startswith("mapping."):
            ours["mapping_network." + key[len("mapping.") :]] = value
        else:
            ours[key] = value
    shapes = {k: tuple(v.shape) for k, v in ours.items()}
    generator = build_network("generator/stylegan2", StyleGAN2Generator, config, shapes, where)
    load_exact(generator, ours, where)
    return generator  # type: ignore[return-value]


def discriminator_from_pickle(net: Any, where: str = "D") -> StyleGAN2Discriminator:
    """Build a `StyleGAN2Discriminator` from the state of an NVlabs ``Discriminator``."""
    net = _node(net, where)
    if _number(net, "c_dim", where, 0):
        raise GanInvError(
            f"{where}: conditional NVlabs discriminators (c_dim > 0) are not supported"
        )
    state = flatten_state(net, where=where)
    for key, block in _table(net, "_modules", where).items():
        block_where = f"{where}.{key}"
        architecture = _text(_node(block, block_where), "architecture", block_where, "resnet")
        if architecture != "resnet":
            raise GanInvError(
                f"{block_where} uses architecture {architecture[:40]!r}; only 'resnet' "
                "(StyleGAN2 config-f) is supported"
            )
    _check_filters(state, where)
    resolution = _number(net, "img_resolution", where, None)
    _check_resolution(resolution, f"{where}.img_resolution")
    channels = {4: _dim(state, "b4.conv.weight", 0, where)}
    for res in range(int.bit_length(resolution) - 1, 2, -1):
        channels[2**res] = _dim(state, f"b{2**res}.conv0.weight", 0, where)
    mbstd = _submodule(net, "b4.mbstd", where)
    init_kwargs = _table(net, "_init_kwargs", where)
    config = {
        "resolution": resolution,
        "channels": channels,
        "channel_base": _number(init_kwargs, "channel_base", where, 32768),
        "channel_max": _number(init_kwargs, "channel_max", where, 512),
        "mbstd_group_size": _number(mbstd, "group_size", f"{where}.b4.mbstd", 4),
        "mbstd_num_channels": _number(mbstd, "num_channels", f"{where}.b4.mbstd", 1),
        "img_channels": _dim(state, f"b{resolution}.fromrgb.weight", 1, where),
        "conv_clamp": _number(init_kwargs, "conv_clamp", where, None),
    }
    ours = {"blocks." + k: v for k, v in state.items() if not k.endswith("resample_filter")}
    shapes = {k: tuple(v.shape) for k, v in ours.items()}
    discriminator = build_network(
        "discriminator/stylegan2", StyleGAN2Discriminator, config, shapes, where
    )
    load_exact(discriminator, ours, where)
    return discriminator  # type: ignore[return-value]


def load_nvlabs(path: str | os.PathLike[str]) -> tuple[dict[str, torch.nn.Module], dict[str, Any]]:
    """({'generator': G_ema (else G), 'discriminator': D when present}, meta) from a pickle."""
    data = read_pickle(path)
    networks: dict[str, torch.nn.Module] = {}
    source = "G_ema" if data.get("G_ema") is not None else "G"
    try:
        if data.get(source) is not None:
            networks["generator"] = generator_from_pickle(data[source], source)
        if data.get("D") is not None:
            networks["discriminator"] = discriminator_from_pickle(data["D"], "D")
    except GanInvError as exc:
        raise GanInvError(f"{path}: {exc}") from exc
    except Exception as exc:  # a layout no check above foresaw: still the file's fault
        raise GanInvError(
            f"{path}: unexpected NVlabs network layout ({reword(exc)}); is this a StyleGAN2 "
            "(stylegan2-ada-pytorch) network pickle?"
        ) from exc
    if not networks:
        raise GanInvError(f"{path} holds no generator or discriminator")
    meta = {"source_format": "nvlabs", "generator_source": source}
    return networks, meta
