"""Edits on codes through a method's space: move along a direction, blend two images, and apply
the difference of an (image, edited image) pair to another image."""

from __future__ import annotations

from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.space import Code
from ganinv.harness.method import Method


def code_or_inversion(method: Method, source: Any) -> Code:
    """A code file (``.safetensors`` from `ganinv invert`), a `Code`, an image path or a tensor
    [B, 3, H, W] in [-1, 1] (inverted with `method`)."""
    return code_and_input(method, source)[0]


def code_and_input(method: Method, source: Any) -> tuple[Code, torch.Tensor | None]:
    """`code_or_inversion` and the input images it inverted (None for a code)."""
    from pathlib import Path

    from ganinv.harness.inputs import load_inputs

    images = None
    if isinstance(source, Code):
        code = source
    elif isinstance(source, torch.Tensor):
        images = source
        code, _ = method.invert(source)
    elif Path(str(source)).suffix == ".safetensors":
        code = Code.load(source, device=method.device)
    else:
        images, _ = load_inputs(source, method.generator.resolution)
        code, _ = method.invert(images)
    method.space.check(code)
    return code.to(method.device), images


def apply_direction(
    method: Method, code: Code, direction: torch.Tensor, strength: float
) -> tuple[Code, torch.Tensor]:
    """(edited code, rendered image) for ``code + strength * direction`` in W+."""
    method.space.check(code)
    edited = method.space.apply_direction(code, direction.to(method.device), strength)
    return edited, render(method, edited)


def blend(method: Method, structure: Code, appearance: Code) -> tuple[Code, torch.Tensor]:
    """`space.blend`: the structure of one image with the appearance of another."""
    method.space.check(structure)
    method.space.check(appearance)
    mixed = method.space.blend(structure, appearance)
    return mixed, render(method, mixed)


def custom_edit(
    method: Method,
    source: Code,
    edited: Code,
    target: Code,
    alpha: float = 1.0,
    parts: list[str] | None = None,
) -> tuple[Code, torch.Tensor]:
    """``target + alpha * (edited - source)`` on the chosen code parts (all by default)."""
    for code in (source, edited, target):
        method.space.check(code)
    if source.batch_size != edited.batch_size:
        raise GanInvError("source and edited must hold the same number of images")
    delta = method.space.difference(edited, source)
    result = method.space.add(target, delta, alpha, parts)
    return result, render(method, result)


def render(method: Method, code: Code) -> torch.Tensor:
    with torch.no_grad():
        return method.space.render(code).clamp(-1, 1)
