"""InterFaceGAN's conditional boundary: a direction with its components along other (condition)
directions removed, so that editing one attribute leaves the conditions unchanged to first order.

The reference (genforce/interfacegan `project_boundary`) has closed forms for one and two
conditions and a linear solve for more; all three are the orthogonal projection onto the
complement of the conditions' span, computed here through a QR factorisation in float64.
"""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError


def project_out(direction: torch.Tensor, conditions: list[torch.Tensor]) -> torch.Tensor:
    """`direction` minus its projection on span(conditions), unit norm, in `direction`'s shape.

    A [w_dim] condition applies to every W+ row alike, so it conditions a [num_ws, w_dim]
    direction as that row repeated; a per-row condition cannot condition a [w_dim] direction.
    """
    flat = direction.double().flatten()
    columns = []
    for i, condition in enumerate(conditions):
        c = condition.double()
        if c.ndim == 1 and direction.ndim == 2:
            c = c.expand_as(direction)
        if c.shape != direction.shape:
            raise GanInvError(
                f"condition {i} has shape {list(condition.shape)}, the direction "
                f"{list(direction.shape)}; use directions of one generator and code layout"
            )
        columns.append(c.flatten() / c.norm().clamp_min(1e-12))
    if not columns:
        return direction / direction.norm()
    q, r = torch.linalg.qr(torch.stack(columns, dim=1))
    if bool((r.diagonal().abs() < 1e-8).any()):
        raise GanInvError("the condition directions are linearly dependent; drop the repeated one")
    projected = flat - q @ (q.T @ flat)
    norm = projected.norm()
    if norm < 1e-6 * flat.norm():
        raise GanInvError("the direction lies in the span of the conditions: nothing is left")
    return (projected / norm).to(direction.dtype).reshape(direction.shape)
