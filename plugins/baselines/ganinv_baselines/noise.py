"""Per-image synthesis noise as part of a code: the StyleGAN2 projector's noise optimisation.

The generator keeps one constant noise map per layer (``Generator.noise_buffers()``), shared by the
whole batch. To optimise noise per image, a code may carry parts ``noise.<i>`` of shape
[B, 1, R_i, R_i], one per buffer in `noise_buffers()` order; `noise_override` swaps them in for
the duration of one synthesis call (the generator's own buffers are restored afterwards, so the
frozen generator is never changed). The baseline spaces render such parts; codes without them
render with the generator's constant noise.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator

NOISE_PREFIX = "noise."


def noise_key(index: int) -> str:
    return f"{NOISE_PREFIX}{index}"


def is_noise_key(key: str) -> bool:
    return key.startswith(NOISE_PREFIX)


def _noise_tensors(generator: Generator) -> list[torch.Tensor]:
    if not hasattr(generator, "noise_buffers"):
        raise GanInvError(
            f"generator {type(generator).__name__} has no noise_buffers(); noise optimisation "
            "needs a StyleGAN2-like generator with constant noise maps (set optimize_noise: false)"
        )
    bufs = generator.noise_buffers()
    return list(bufs.values()) if isinstance(bufs, dict) else list(bufs)


def _buffer_slots(generator: Generator) -> list[tuple[nn.Module, str]]:
    """(module, buffer name) of each noise buffer, found by identity, in `noise_buffers()` order."""
    wanted = _noise_tensors(generator)
    found: dict[int, tuple[nn.Module, str]] = {}
    for module in generator.modules():
        for name, buf in module._buffers.items():
            if buf is not None:
                found.setdefault(id(buf), (module, name))
    slots = []
    for buf in wanted:
        if id(buf) not in found:
            raise GanInvError("a tensor returned by noise_buffers() is not a registered buffer")
        slots.append(found[id(buf)])
    return slots


def initial_noise(
    generator: Generator, batch_size: int, seed: int | None = None
) -> dict[str, torch.Tensor]:
    """Fresh N(0, 1) maps [B, 1, R, R] for every noise buffer, as the projector starts them."""
    rng = torch.Generator().manual_seed(seed) if seed is not None else None
    out = {}
    for i, buf in enumerate(_noise_tensors(generator)):
        size = buf.shape[-1]
        noise = torch.randn(batch_size, 1, size, size, generator=rng)
        out[noise_key(i)] = noise.to(buf.device)
    return out


@contextlib.contextmanager
def noise_override(generator: Generator, noises: dict[str, torch.Tensor]) -> Iterator[None]:
    """Use the code's per-image noise maps instead of the generator's buffers inside the block."""
    if not noises:
        yield
        return
    slots = _buffer_slots(generator)
    if len(noises) != len(slots):
        raise GanInvError(
            f"code has {len(noises)} noise maps but the generator has {len(slots)} noise buffers; "
            "the code was made for another generator"
        )
    saved = [module._buffers[name] for module, name in slots]
    try:
        for i, (module, name) in enumerate(slots):
            module._buffers[name] = noises[noise_key(i)]
        yield
    finally:
        for (module, name), buf in zip(slots, saved):
            module._buffers[name] = buf


def noise_regularizer(noises: list[torch.Tensor]) -> torch.Tensor:
    """The projector's multi-scale autocorrelation penalty, per image, averaged over the batch.

    For each map and each 2x-downsampled version down to 8x8: squared mean of the product with
    itself rolled by one pixel, horizontally and vertically. Maps are [B, 1, R, R].
    """
    total = torch.zeros((), device=noises[0].device)
    for noise in noises:
        while True:
            for dim in (3, 2):
                shifted = torch.roll(noise, 1, dims=dim)
                total = total + (noise * shifted).mean(dim=(1, 2, 3)).square().mean()
            if noise.shape[2] <= 8:
                break
            noise = F.avg_pool2d(noise, kernel_size=2)
    return total


@torch.no_grad()
def renormalize_(noises: list[torch.Tensor]) -> None:
    """Zero mean and unit variance per image, in place (after each projector step)."""
    for noise in noises:
        noise -= noise.mean(dim=(1, 2, 3), keepdim=True)
        noise *= noise.square().mean(dim=(1, 2, 3), keepdim=True).rsqrt()
