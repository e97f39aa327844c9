"""Shared by the closed-form directions (GANSpace, SeFa): W+ row ranges and sorted eigenvectors."""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError


def eigenvectors_descending(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvectors (rows) and eigenvalues of a symmetric matrix, largest first, each vector's
    sign fixed so that its largest-magnitude entry is positive (eigenvectors have no sign; this
    makes a direction file the same on every run)."""
    values, vectors = torch.linalg.eigh(matrix)
    values, vectors = values.flip(0), vectors.flip(1).T.contiguous()
    pivot = vectors.abs().argmax(dim=1)
    signs = torch.sign(vectors.gather(1, pivot[:, None]))
    return vectors * signs, values


def layer_range(layers: tuple[int, int] | None, num_ws: int) -> tuple[int, int]:
    """(start, end) rows of W+, end exclusive; None is every row."""
    if layers is None:
        return 0, num_ws
    start, end = layers
    if not 0 <= start < end <= num_ws:
        raise GanInvError(
            f"layers {start} {end} are not a range of W+ rows: need 0 <= start < end <= {num_ws} "
            "(end exclusive)"
        )
    return start, end


def layered(vector: torch.Tensor, layers: tuple[int, int], num_ws: int) -> torch.Tensor:
    """`vector` [w_dim] on rows start .. end-1 of a [num_ws, w_dim] direction, zero elsewhere;
    [w_dim] itself when the range is every row (then it applies in W as well as W+)."""
    start, end = layers
    if (start, end) == (0, num_ws):
        return vector.clone()
    out = torch.zeros(num_ws, vector.shape[0], dtype=vector.dtype)
    out[start:end] = vector
    return out
