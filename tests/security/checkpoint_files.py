"""Tiny checkpoint files generated at test time: ganinv safetensors, NVlabs-style pickles, and
tools to rewrite their headers and tensors (hostile variants of real layouts)."""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import struct
import sys
import types
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from ganinv.checkpoints.native import save_networks
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator

CHANNELS = {4: 8, 8: 8}


def tiny_networks(seed: int = 0) -> dict[str, torch.nn.Module]:
    """An 8 px generator (2 mapping layers, width 8) and its discriminator; a few kB of weights."""
    torch.manual_seed(seed)
    G = StyleGAN2Generator(z_dim=8, w_dim=8, resolution=8, channels=CHANNELS, mapping_layers=2)
    D = StyleGAN2Discriminator(resolution=8, channels=CHANNELS, mbstd_group_size=2)
    with torch.no_grad():  # non-zero everywhere, so a dropped or shifted tensor changes outputs
        for p in [*G.parameters(), *D.parameters()]:
            p.add_(torch.randn_like(p) * 0.1)
    return {"generator": G.eval(), "discriminator": D.eval()}


def write_native(path: Path, seed: int = 0) -> Path:
    return save_networks(path, tiny_networks(seed), {"note": "test"})


# -- raw safetensors: u64 header length, JSON header, data ------------------------------------
def split_safetensors(data: bytes) -> tuple[dict[str, Any], bytes]:
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def join_safetensors(header: dict[str, Any], body: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def with_header(src: Path, dst: Path, **metadata: Any) -> Path:
    """A copy of `src` with ``__metadata__`` fields replaced (JSON-encoded unless str)."""
    header, body = split_safetensors(src.read_bytes())
    for key, value in metadata.items():
        header["__metadata__"][key] = value if isinstance(value, str) else json.dumps(value)
    dst.write_bytes(join_safetensors(header, body))
    return dst


def networks_field(path: Path) -> dict[str, Any]:
    header, _ = split_safetensors(path.read_bytes())
    return json.loads(header["__metadata__"]["networks"])


# -- NVlabs-style network pickles ---------------------------------------------------------------
@contextlib.contextmanager
def _fake_persistence() -> Iterator[Any]:
    """A stand-in ``torch_utils.persistence`` module, so pickles name NVlabs' global."""
    package = types.ModuleType("torch_utils")
    module = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta: Any) -> Any:
        raise AssertionError("never called: the test only pickles")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    module._reconstruct_persistent_obj = _reconstruct_persistent_obj
    package.persistence = module
    saved = {k: sys.modules.get(k) for k in ("torch_utils", "torch_utils.persistence")}
    sys.modules.update({"torch_utils": package, "torch_utils.persistence": module})
    try:
        yield _reconstruct_persistent_obj
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


class Persistent:
    """Pickles as NVlabs' ``_reconstruct_persistent_obj(meta)`` with `state` as the instance."""

    reconstruct: Any = None

    def __init__(self, class_name: str, state: dict[str, Any]) -> None:
        self.class_name, self.state = class_name, state

    def __reduce__(self) -> Any:
        meta = {
            "type": "class",
            "version": 4,
            "module_src": "raise RuntimeError('module source must never run')",
            "class_name": self.class_name,
            "state": self.state,
        }
        return (Persistent.reconstruct, (meta,))


def _module(**attributes: Any) -> dict[str, Any]:
    node = {
        "_parameters": OrderedDict(),
        "_buffers": OrderedDict(),
        "_modules": OrderedDict(),
        "_non_persistent_buffers_set": set(),
        "training": False,
    }
    node.update(attributes)
    return node


def _tree(flat: dict[str, torch.Tensor], parameters: set[str], root: dict[str, Any]) -> None:
    for key, value in flat.items():
        *path, leaf = key.split(".")
        node = root
        for part in path:
            node = node["_modules"].setdefault(part, _module())
        table = "_parameters" if key in parameters else "_buffers"
        node[table][leaf] = torch.nn.Parameter(value.clone()) if key in parameters else value
    return None


def nvlabs_state(networks: dict[str, torch.nn.Module]) -> dict[str, Any]:
    """The NVlabs dict ``{G, G_ema, D, ...}`` (module trees as plain dicts) of our networks."""
    G, D = networks["generator"], networks["discriminator"]
    flat, params = {}, set()
    names = {n for n, _ in G.named_parameters()}
    for key, value in G.state_dict().items():
        theirs = "mapping.w_avg" if key == "w_avg" else key.replace("mapping_network.", "mapping.")
        flat[theirs] = value
        if key in names:
            params.add(theirs)
    g = _module(
        c_dim=0,
        img_resolution=G.resolution,
        _init_kwargs={"synthesis_kwargs": {"channel_base": 512, "channel_max": 8}},
    )
    _tree(flat, params, g)
    g["_modules"]["synthesis"]["img_resolution"] = G.resolution
    for block in g["_modules"]["synthesis"]["_modules"].values():
        block["architecture"] = "skip"
    g["_modules"]["mapping"]["_modules"]["fc0"]["bias_gain"] = 0.01
    names = {n for n, _ in D.named_parameters()}
    flat = {k[len("blocks.") :]: v for k, v in D.state_dict().items()}
    d = _module(c_dim=0, img_resolution=D.resolution, _init_kwargs={"channel_max": 8})
    _tree(flat, {k[len("blocks.") :] for k in names}, d)
    for key, block in d["_modules"].items():
        if key != "b4":
            block["architecture"] = "resnet"
    d["_modules"]["b4"]["_modules"]["mbstd"] = _module(group_size=2, num_channels=1)
    return {"G": g, "G_ema": g, "D": d, "augment_pipe": None, "training_set_kwargs": None}


def nvlabs_pickle(data: dict[str, Any]) -> bytes:
    """Pickle `data` as NVlabs does: networks (top-level dicts with '_modules') persistent."""
    with _fake_persistence() as reconstruct:
        Persistent.reconstruct = reconstruct
        wrapped = {
            k: Persistent(k, v) if isinstance(v, dict) and "_modules" in v else v
            for k, v in data.items()
        }
        buffer = io.BytesIO()
        pickle.Pickler(buffer, protocol=4).dump(wrapped)
    return buffer.getvalue()


# -- running a loader in a child process under a memory cap ------------------------------------
CAPPED_PRELUDE = """
import json, resource, sys
import torch
import ganinv.checkpoints.load, ganinv.cli.main
def _vm_bytes():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
cap = _vm_bytes() + int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""


def run_capped(script: str, extra_bytes: int, timeout: float = 120) -> Any:
    """Run `script` (after `CAPPED_PRELUDE`) in a child Python whose address space may grow by
    `extra_bytes` beyond what torch and ganinv take after import; returns the CompletedProcess."""
    import subprocess

    tests = str(Path(__file__).resolve().parent)
    code = CAPPED_PRELUDE + f"sys.path.insert(0, {tests!r})\n" + script
    return subprocess.run(
        [sys.executable, "-c", code, str(extra_bytes)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
