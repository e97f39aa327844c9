"""Checks shared by the baseline encoders: which space they feed and the input size."""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace


def require_space(space: InversionSpace, names: tuple[str, ...], encoder: str) -> None:
    if space.name not in names:
        raise GanInvError(
            f"encoder {encoder!r} predicts codes of space {' or '.join(map(repr, names))}, but was "
            f"given space {space.name!r}; build it with one of those spaces"
        )


def check_input(images: torch.Tensor, resolution: int, encoder: str) -> None:
    if images.ndim != 4 or images.shape[1] != 3 or images.shape[-2:] != (resolution, resolution):
        raise GanInvError(
            f"encoder {encoder!r} expects images [B, 3, {resolution}, {resolution}], got "
            f"{list(images.shape)}; resize them (or set input_resolution)"
        )


def wplus_code(space: InversionSpace, wplus: torch.Tensor) -> Code:
    """A code of `space` from W+ codes [B, num_ws, w_dim] ('wplus'), or from one W ('w')."""
    if space.name == "w":
        return Code("w", {"w": wplus[:, 0]})
    return Code(space.name, {"wplus": wplus})
