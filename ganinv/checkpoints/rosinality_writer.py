"""Writing a StyleGAN2 generator in rosinality/stylegan2-pytorch's ``.pt`` layout.

The inverse of `ganinv.checkpoints.rosinality.generator_state_to_ours`: ``{'g_ema': state,
'latent_avg': w_avg}`` with rosinality's key names and its leading unit dimensions, so
``Generator(size, style_dim, n_mlp).load_state_dict(ckpt['g_ema'])`` in that repository (and
ganinv's own loader) reads it. Only plain tensors are saved (``torch.load(weights_only=True)``
reads the file). rosinality's generator has RGB output, no activation clamp and a mapping
learning-rate multiplier of 0.01; other generators are refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write
from ganinv.stylegan2 import ops
from ganinv.stylegan2.generator import StyleGAN2Generator


def _check_representable(generator: StyleGAN2Generator) -> None:
    config = generator.config
    problems = []
    if config.get("img_channels") != 3:
        problems.append(f"img_channels {config.get('img_channels')} (rosinality: 3)")
    if config.get("conv_clamp") is not None:
        problems.append(f"conv_clamp {config.get('conv_clamp')} (rosinality: none)")
    if config.get("mapping_lr_mul") != 0.01:
        problems.append(f"mapping_lr_mul {config.get('mapping_lr_mul')} (rosinality: 0.01)")
    if problems:
        raise GanInvError(
            "this generator cannot be written in rosinality's layout: "
            + "; ".join(problems)
            + "; write ganinv's format instead"
        )


def generator_state_to_rosinality(generator: StyleGAN2Generator) -> dict[str, torch.Tensor]:
    """rosinality's ``Generator`` state dict for `generator` (float32, CPU)."""
    if not isinstance(generator, StyleGAN2Generator):
        raise GanInvError(
            f"only StyleGAN2 generators have a rosinality layout, got {type(generator).__name__}"
        )
    _check_representable(generator)
    ours = {k: v.detach().to("cpu", torch.float32) for k, v in generator.state_dict().items()}
    out: dict[str, torch.Tensor] = {}
    # Blur kernels as rosinality stores them for 2x upsampling: the normalised [1,3,3,1] outer
    # product times factor^2.
    kernel = ops.setup_filter().to(torch.float32) * 4

    def conv(dst: str, src: str, noise: str) -> None:
        out[f"{dst}.conv.weight"] = ours[f"{src}.weight"].unsqueeze(0)
        out[f"{dst}.conv.modulation.weight"] = ours[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = ours[f"{src}.affine.bias"]
        out[f"{dst}.noise.weight"] = ours[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = ours[f"{src}.bias"]
        out[noise] = ours[f"{src}.noise_const"].reshape(1, 1, *ours[f"{src}.noise_const"].shape)

    def torgb(dst: str, src: str) -> None:
        out[f"{dst}.bias"] = ours[f"{src}.bias"].reshape(1, -1, 1, 1)
        out[f"{dst}.conv.weight"] = ours[f"{src}.weight"].unsqueeze(0)
        out[f"{dst}.conv.modulation.weight"] = ours[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = ours[f"{src}.affine.bias"]

    for n in range(generator.config["mapping_layers"]):
        out[f"style.{n + 1}.weight"] = ours[f"mapping_network.fc{n}.weight"]
        out[f"style.{n + 1}.bias"] = ours[f"mapping_network.fc{n}.bias"]
    out["input.input"] = ours["synthesis.b4.const"].unsqueeze(0)
    conv("conv1", "synthesis.b4.conv1", "noises.noise_0")
    torgb("to_rgb1", "synthesis.b4.torgb")
    for k, res in enumerate(list(generator.channels)[1:]):
        conv(f"convs.{2 * k}", f"synthesis.b{res}.conv0", f"noises.noise_{2 * k + 1}")
        out[f"convs.{2 * k}.conv.blur.kernel"] = kernel.clone()
        conv(f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1", f"noises.noise_{2 * k + 2}")
        torgb(f"to_rgbs.{k}", f"synthesis.b{res}.torgb")
        out[f"to_rgbs.{k}.upsample.kernel"] = kernel.clone()
    return {k: v.contiguous() for k, v in out.items()}


def save_rosinality(path: str | os.PathLike[str], generator: StyleGAN2Generator) -> Path:
    """Write ``{'g_ema': ..., 'latent_avg': w_avg}`` to `path` atomically."""
    data = {
        "g_ema": generator_state_to_rosinality(generator),
        "latent_avg": generator.w_avg.detach().to("cpu", torch.float32).clone(),
    }
    return atomic_write(path, lambda tmp: torch.save(data, tmp))
