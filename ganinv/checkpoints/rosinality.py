"""rosinality/stylegan2-pytorch checkpoints (``.pt``), read with ``torch.load(weights_only=True)``.

Layouts: converted weights ``{'g_ema', 'latent_avg'[, 'g', 'd']}`` and training checkpoints
``{'g', 'd', 'g_ema', 'g_optim', 'd_optim', 'args': argparse.Namespace, 'ada_aug_p'}``. The only
non-tensor class allowed through the safe loader is `argparse.Namespace`. The channel table, the
resolution, z/w sizes and the mapping depth are inferred from tensor shapes; the mapping
learning-rate multiplier is not stored and is taken as rosinality's default 0.01. A checkpoint
without ``latent_avg`` gets one estimated from 10,000 random z (with a warning).
"""

from __future__ import annotations

import argparse
import os
import re
import warnings
from typing import Any

import torch

from ganinv.checkpoints.safe_load import check_state, check_tensor, reword, torch_load
from ganinv.checkpoints.state import build_network, load_exact
from ganinv.core.errors import GanInvError
from ganinv.stylegan2 import ops
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator

LATENT_AVG_SAMPLES = 10_000
MAX_KEYS = 10_000  # a 1024 px generator has about 200 entries


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checkpoint dict, loaded without executing code (Namespace allow-listed for 'args')."""
    data = torch_load(
        path, str(path), safe_globals=[argparse.Namespace], kind="a rosinality checkpoint"
    )
    if not isinstance(data, dict) or not any(k in data for k in ("g_ema", "g", "d")):
        raise GanInvError(
            f"{path} is not a rosinality stylegan2-pytorch checkpoint (expected a dict with "
            "'g_ema', 'g' or 'd')"
        )
    return data


def _unit_dims(state: dict[str, torch.Tensor], key: str, rank: int, dims: tuple[int, ...]) -> Any:
    """``state[key]`` with its size-1 dimensions `dims` removed; it must have exactly `rank` dims
    and size 1 there (rosinality's batch dims), so nothing is silently sliced or reshaped."""
    value = state[key]
    if value.dim() != rank or any(value.shape[d] != 1 for d in dims):
        raise GanInvError(
            f"{key} has shape {tuple(value.shape)}; expected {rank} dimensions with size 1 at "
            f"{list(dims)}"
        )
    for d in sorted(dims, reverse=True):
        value = value.squeeze(d)
    return value


def _dim(state: dict[str, torch.Tensor], key: str, dim: int) -> int:
    if state[key].dim() <= dim:
        raise GanInvError(f"{key} has shape {tuple(state[key].shape)}; too few dimensions")
    return int(state[key].shape[dim])


def _check_kernel(state: dict[str, torch.Tensor], key: str) -> None:
    kernel = state[key].float()
    expected = ops.setup_filter()
    if kernel.shape != expected.shape or not torch.allclose(
        kernel / kernel.sum(), expected, atol=1e-6
    ):
        raise GanInvError(
            f"{key} is not the [1, 3, 3, 1] blur kernel; custom kernels are unsupported"
        )


def generator_state_to_ours(state: dict[str, torch.Tensor]) -> tuple[dict[str, Any], dict]:
    """(constructor kwargs, our state dict) from a rosinality ``Generator`` state dict."""
    try:
        n_mlp = len([k for k in state if re.fullmatch(r"style\.\d+\.weight", k)])
        num_up = len([k for k in state if re.fullmatch(r"convs\.\d+\.conv\.blur\.kernel", k)])
        resolution = 2 ** (num_up + 2)
        channels = {4: _dim(state, "input.input", 1)}
        for k in range(num_up):
            channels[2 ** (k + 3)] = _dim(state, f"convs.{2 * k}.conv.weight", 1)
        config = {
            "z_dim": _dim(state, "style.1.weight", 1),
            "w_dim": _dim(state, "style.1.weight", 0),
            "resolution": resolution,
            "channels": channels,
            "mapping_layers": n_mlp,
            "mapping_lr_mul": 0.01,
            "img_channels": _dim(state, "to_rgb1.conv.weight", 1),
        }
    except KeyError as exc:
        raise GanInvError(
            f"rosinality generator state lacks {exc}; is this a StyleGAN2 generator?"
        ) from exc

    ours: dict[str, torch.Tensor] = {}

    # Exact shapes: rosinality's leading batch dims must be 1, the rest is compared with our
    # parameters by `load_exact`.
    def conv(src: str, dst: str, noise: str) -> None:
        ours[f"{dst}.weight"] = _unit_dims(state, f"{src}.conv.weight", 5, (0,))
        ours[f"{dst}.affine.weight"] = state[f"{src}.conv.modulation.weight"]
        ours[f"{dst}.affine.bias"] = state[f"{src}.conv.modulation.bias"]
        ours[f"{dst}.noise_strength"] = _unit_dims(state, f"{src}.noise.weight", 1, (0,))
        ours[f"{dst}.bias"] = state[f"{src}.activate.bias"]
        ours[f"{dst}.noise_const"] = _unit_dims(state, noise, 4, (0, 1))

    def torgb(src: str, dst: str) -> None:
        ours[f"{dst}.weight"] = _unit_dims(state, f"{src}.conv.weight", 5, (0,))
        ours[f"{dst}.affine.weight"] = state[f"{src}.conv.modulation.weight"]
        ours[f"{dst}.affine.bias"] = state[f"{src}.conv.modulation.bias"]
        ours[f"{dst}.bias"] = _unit_dims(state, f"{src}.bias", 4, (0, 2, 3))

    try:
        for n in range(1, n_mlp + 1):
            ours[f"mapping_network.fc{n - 1}.weight"] = state[f"style.{n}.weight"]
            ours[f"mapping_network.fc{n - 1}.bias"] = state[f"style.{n}.bias"]
        ours["synthesis.b4.const"] = _unit_dims(state, "input.input", 4, (0,))
        conv("conv1", "synthesis.b4.conv1", "noises.noise_0")
        torgb("to_rgb1", "synthesis.b4.torgb")
        for k in range(num_up):
            res = 2 ** (k + 3)
            _check_kernel(state, f"convs.{2 * k}.conv.blur.kernel")
            _check_kernel(state, f"to_rgbs.{k}.upsample.kernel")
            conv(f"convs.{2 * k}", f"synthesis.b{res}.conv0", f"noises.noise_{2 * k + 1}")
            conv(f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1", f"noises.noise_{2 * k + 2}")
            torgb(f"to_rgbs.{k}", f"synthesis.b{res}.torgb")
    except KeyError as exc:
        raise GanInvError(f"rosinality generator state lacks {exc}") from exc
    return config, ours


def discriminator_state_to_ours(state: dict[str, torch.Tensor]) -> tuple[dict[str, Any], dict]:
    """(constructor kwargs, our state dict) from a rosinality ``Discriminator`` state dict."""
    try:
        num_blocks = len([k for k in state if re.fullmatch(r"convs\.\d+\.conv1\.0\.weight", k)])
        resolution = 2 ** (num_blocks + 2)
        channels = {resolution: _dim(state, "convs.0.0.weight", 0)}
        for i in range(1, num_blocks + 1):
            channels[resolution >> i] = _dim(state, f"convs.{i}.conv2.1.weight", 0)
        c4 = channels[4]
        config = {
            "resolution": resolution,
            "channels": channels,
            "mbstd_group_size": 4,  # fixed in rosinality's Discriminator
            "mbstd_num_channels": _dim(state, "final_conv.0.weight", 1) - c4,
            "img_channels": _dim(state, "convs.0.0.weight", 1),
        }
        ours = {
            f"blocks.b{resolution}.fromrgb.weight": state["convs.0.0.weight"],
            f"blocks.b{resolution}.fromrgb.bias": state["convs.0.1.bias"],
            "blocks.b4.conv.weight": state["final_conv.0.weight"],
            "blocks.b4.conv.bias": state["final_conv.1.bias"],
            "blocks.b4.fc.weight": state["final_linear.0.weight"],
            "blocks.b4.fc.bias": state["final_linear.0.bias"],
            "blocks.b4.out.weight": state["final_linear.1.weight"],
            "blocks.b4.out.bias": state["final_linear.1.bias"],
        }
        for i in range(1, num_blocks + 1):
            block = f"blocks.b{resolution >> (i - 1)}"
            _check_kernel(state, f"convs.{i}.conv2.0.kernel")
            _check_kernel(state, f"convs.{i}.skip.0.kernel")
            ours[f"{block}.conv0.weight"] = state[f"convs.{i}.conv1.0.weight"]
            ours[f"{block}.conv0.bias"] = state[f"convs.{i}.conv1.1.bias"]
            ours[f"{block}.conv1.weight"] = state[f"convs.{i}.conv2.1.weight"]
            ours[f"{block}.conv1.bias"] = state[f"convs.{i}.conv2.2.bias"]
            ours[f"{block}.skip.weight"] = state[f"convs.{i}.skip.1.weight"]
    except KeyError as exc:
        raise GanInvError(f"rosinality discriminator state lacks {exc}") from exc
    return config, ours


@torch.no_grad()
def estimate_w_avg(
    generator: StyleGAN2Generator, samples: int = LATENT_AVG_SAMPLES
) -> torch.Tensor:
    """Mean of mapping(z) over `samples` z ~ N(0, I) (fixed seed, so it is reproducible)."""
    gen = torch.Generator().manual_seed(0)
    total = torch.zeros(generator.w_dim, dtype=torch.float64)
    for start in range(0, samples, 1000):
        z = torch.randn(min(1000, samples - start), generator.z_dim, generator=gen)
        total += generator.mapping_w(z.to(generator.w_avg.device)).double().sum(0).cpu()
    return (total / samples).float()


def _state(data: dict[str, Any], key: str) -> dict[str, torch.Tensor]:
    """``data[key]`` as a dict of checked tensors, its keys capped at a StyleGAN2's count."""
    state = check_state(data[key], repr(key))
    if len(state) > MAX_KEYS:
        raise GanInvError(f"{key!r} holds {len(state):,} tensors; not a StyleGAN2 state dict")
    return state


def _read_networks(
    data: dict[str, Any], path: Any
) -> tuple[dict[str, torch.nn.Module], dict[str, Any]]:
    networks: dict[str, torch.nn.Module] = {}
    meta: dict[str, Any] = {"source_format": "rosinality"}
    source = "g_ema" if "g_ema" in data else ("g" if "g" in data else None)
    if source is not None:
        config, ours = generator_state_to_ours(_state(data, source))
        latent_avg = data.get("latent_avg")
        if latent_avg is None:
            ours["w_avg"] = torch.zeros(int(config["w_dim"]))
        else:
            ours["w_avg"] = check_tensor(latent_avg, "'latent_avg'")
        shapes = {k: tuple(v.shape) for k, v in ours.items()}
        what = f"generator {source!r}"
        generator = build_network("generator/stylegan2", StyleGAN2Generator, config, shapes, what)
        load_exact(generator, ours, what)
        if latent_avg is None:
            warnings.warn(
                f"{path} has no 'latent_avg'; estimated w_avg from {LATENT_AVG_SAMPLES} random z "
                "(truncation and W+ initialisation depend on it)",
                stacklevel=3,
            )
            generator.w_avg.copy_(estimate_w_avg(generator))  # type: ignore[arg-type]
            meta["w_avg"] = f"estimated from {LATENT_AVG_SAMPLES} random z"
        networks["generator"] = generator
        meta["generator_source"] = source
    if "d" in data:
        config, ours = discriminator_state_to_ours(_state(data, "d"))
        shapes = {k: tuple(v.shape) for k, v in ours.items()}
        discriminator = build_network(
            "discriminator/stylegan2", StyleGAN2Discriminator, config, shapes, "discriminator 'd'"
        )
        load_exact(discriminator, ours, "discriminator 'd'")
        networks["discriminator"] = discriminator
    return networks, meta


def load_rosinality(
    path: str | os.PathLike[str],
) -> tuple[dict[str, torch.nn.Module], dict[str, Any]]:
    """({'generator': g_ema (else g), 'discriminator': d when present}, meta).

    Every value is checked before use; errors name the file and the entry.
    """
    data = read_checkpoint(path)
    try:
        return _read_networks(data, path)
    except GanInvError as exc:
        raise GanInvError(f"{path}: {exc}") from exc
    except Exception as exc:  # a layout no check foresaw: still the file's fault
        raise GanInvError(
            f"{path}: unexpected rosinality checkpoint layout ({reword(exc)}); is this a "
            "stylegan2-pytorch checkpoint?"
        ) from exc
