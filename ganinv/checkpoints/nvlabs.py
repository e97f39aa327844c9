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

import torch

from ganinv.checkpoints.state import load_exact
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


def _load_from_bytes(data: bytes) -> Any:
    # torch's own `_load_from_bytes` uses weights_only=False; these blobs only hold storages.
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


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
    try:
        with open(path, "rb") as f:
            data = SafeUnpickler(f).load()
    except GanInvError:
        raise
    except FileNotFoundError as exc:
        raise GanInvError(f"no such checkpoint file: {path}") from exc
    except Exception as exc:  # truncated or not a pickle at all
        raise GanInvError(f"{path} is not a readable NVlabs network pickle: {exc}") from exc
    if not isinstance(data, dict) or not any(k in data for k in ("G_ema", "G", "D")):
        raise GanInvError(
            f"{path} is a pickle but not an NVlabs network pickle (expected a dict with "
            "'G_ema', 'G' and 'D')"
        )
    return data


def flatten_state(obj: dict[str, Any], prefix: str = "") -> dict[str, torch.Tensor]:
    """Walk ``_parameters`` / ``_buffers`` / ``_modules``: the network's `state_dict()`."""
    out: dict[str, torch.Tensor] = {}
    non_persistent = obj.get("_non_persistent_buffers_set") or set()
    for key, value in (obj.get("_parameters") or {}).items():
        if value is not None:
            out[prefix + key] = value.detach()
    for key, value in (obj.get("_buffers") or {}).items():
        if value is not None and key not in non_persistent:
            out[prefix + key] = value.detach()
    for key, module in (obj.get("_modules") or {}).items():
        if module is not None:
            out.update(flatten_state(module, prefix + key + "."))
    return out


def _submodule(obj: dict[str, Any], path: str) -> dict[str, Any]:
    for part in path.split("."):
        obj = obj["_modules"][part]
    return obj


def _check_filters(state: dict[str, torch.Tensor], what: str) -> None:
    expected = ops.setup_filter()
    for key, value in state.items():
        if key.endswith("resample_filter") and not torch.allclose(
            value.float() / value.float().sum(), expected, atol=1e-6
        ):
            raise GanInvError(
                f"{what}: {key} is not the [1, 3, 3, 1] filter StyleGAN2 uses; custom resampling "
                "filters are not supported"
            )


def _conv_clamp(kwargs: dict[str, Any]) -> float | None:
    clamp = kwargs.get("conv_clamp")
    return None if clamp is None else float(clamp)


def generator_from_pickle(net: PersistentState) -> StyleGAN2Generator:
    """Build a `StyleGAN2Generator` from the state of an NVlabs ``Generator``."""
    if net.get("c_dim", 0):
        raise GanInvError("conditional NVlabs generators (c_dim > 0) are not supported")
    state = flatten_state(net)
    if "synthesis.b4.const" not in state:
        raise GanInvError(
            f"the NVlabs network {net.class_name!r} is not a StyleGAN2 generator (no "
            "synthesis.b4.const; StyleGAN3 pickles are not supported)"
        )
    synthesis = _submodule(net, "synthesis")
    for key, block in synthesis["_modules"].items():
        if block.get("architecture", "skip") != "skip":
            raise GanInvError(
                f"synthesis block {key} uses architecture {block.get('architecture')!r}; only "
                "'skip' (StyleGAN2 config-f) is supported"
            )
    _check_filters(state, "NVlabs generator")
    init_kwargs = net.get("_init_kwargs") or {}

    resolution = int(net.get("img_resolution") or synthesis["img_resolution"])
    channels = {4: int(state["synthesis.b4.const"].shape[0])}
    res = 8
    while f"synthesis.b{res}.conv0.weight" in state:
        channels[res] = int(state[f"synthesis.b{res}.conv0.weight"].shape[0])
        res *= 2
    if max(channels) != resolution:
        raise GanInvError(
            f"NVlabs generator blocks reach {max(channels)} px, expected {resolution}"
        )
    mapping_layers = 0
    while f"mapping.fc{mapping_layers}.weight" in state:
        mapping_layers += 1
    fc0 = _submodule(net, "mapping.fc0")
    lr_mul = float(fc0.get("bias_gain", 0.01))
    synthesis_kwargs = dict(init_kwargs.get("synthesis_kwargs") or {})
    generator = StyleGAN2Generator(
        z_dim=int(state["mapping.fc0.weight"].shape[1]),
        w_dim=int(state["mapping.fc0.weight"].shape[0]),
        resolution=resolution,
        channels=channels,
        channel_base=int(synthesis_kwargs.get("channel_base", 32768)),
        channel_max=int(synthesis_kwargs.get("channel_max", 512)),
        mapping_layers=mapping_layers,
        mapping_lr_mul=lr_mul,
        img_channels=int(state[f"synthesis.b{resolution}.torgb.weight"].shape[0]),
        conv_clamp=_conv_clamp(synthesis_kwargs),
    )
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
    load_exact(generator, ours, "NVlabs generator")
    return generator


def discriminator_from_pickle(net: PersistentState) -> StyleGAN2Discriminator:
    """Build a `StyleGAN2Discriminator` from the state of an NVlabs ``Discriminator``."""
    if net.get("c_dim", 0):
        raise GanInvError("conditional NVlabs discriminators (c_dim > 0) are not supported")
    state = flatten_state(net)
    for key, block in net["_modules"].items():
        if block.get("architecture", "resnet") != "resnet":
            raise GanInvError(
                f"discriminator block {key} uses architecture {block.get('architecture')!r}; "
                "only 'resnet' (StyleGAN2 config-f) is supported"
            )
    _check_filters(state, "NVlabs discriminator")
    resolution = int(net["img_resolution"])
    channels = {4: int(state["b4.conv.weight"].shape[0])}
    for res in range(int.bit_length(resolution) - 1, 2, -1):
        r = 2**res
        channels[r] = int(state[f"b{r}.conv0.weight"].shape[0])
    mbstd = _submodule(net, "b4.mbstd")
    init_kwargs = dict(net.get("_init_kwargs") or {})
    discriminator = StyleGAN2Discriminator(
        resolution=resolution,
        channels=channels,
        channel_base=int(init_kwargs.get("channel_base", 32768)),
        channel_max=int(init_kwargs.get("channel_max", 512)),
        mbstd_group_size=int(mbstd.get("group_size", 4)),
        mbstd_num_channels=int(mbstd.get("num_channels", 1)),
        img_channels=int(state[f"b{resolution}.fromrgb.weight"].shape[1]),
        conv_clamp=_conv_clamp(init_kwargs),
    )
    ours = {"blocks." + k: v for k, v in state.items() if not k.endswith("resample_filter")}
    load_exact(discriminator, ours, "NVlabs discriminator")
    return discriminator


def load_nvlabs(path: str | os.PathLike[str]) -> tuple[dict[str, torch.nn.Module], dict[str, Any]]:
    """({'generator': G_ema (else G), 'discriminator': D when present}, meta) from a pickle."""
    data = read_pickle(path)
    networks: dict[str, torch.nn.Module] = {}
    source = "G_ema" if data.get("G_ema") is not None else "G"
    if data.get(source) is not None:
        networks["generator"] = generator_from_pickle(data[source])
    if data.get("D") is not None:
        networks["discriminator"] = discriminator_from_pickle(data["D"])
    if not networks:
        raise GanInvError(f"{path} holds no generator or discriminator")
    meta = {"source_format": "nvlabs", "generator_source": source}
    return networks, meta
