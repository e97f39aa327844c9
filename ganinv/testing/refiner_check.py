"""`check_refiner`: the contract every `Refiner` keeps (see docs/plugins.md)."""

from __future__ import annotations

import torch

from ganinv.core.refiner import Refiner
from ganinv.core.space import Code, InversionSpace
from ganinv.testing.contract import expect


def reconstruction_mse(space: InversionSpace, code: Code, images: torch.Tensor) -> float:
    with torch.no_grad():
        return float((space.render(code).clamp(-1, 1) - images).square().mean())


def check_refiner(
    refiner: Refiner,
    space: InversionSpace,
    images: torch.Tensor,
    start: Code | None = None,
    max_ratio: float = 0.9,
) -> float:
    """From `start` (default: the space's neutral code), `refine` returns a detached code of the
    space that reconstructs `images` with at most `max_ratio` times the starting MSE, and leaves
    `start` unchanged. Returns the ratio."""
    code = space.init_code(images.shape[0]) if start is None else start
    before = {k: v.detach().clone() for k, v in code.tensors.items()}
    mse_before = reconstruction_mse(space, code, images)
    refined = refiner.refine(space, code, images)
    expect(isinstance(refined, Code), "refiner: refine must return a Code")
    expect(refined.space == space.name, f"refiner: returned a code of {refined.space!r}")
    expect(
        all(not t.requires_grad for t in refined.tensors.values()),
        "refiner: the returned code must be detached",
    )
    expect(
        all(torch.equal(code[k], v) for k, v in before.items()),
        "refiner: refine changed the code it was given; work on a copy",
    )
    ratio = reconstruction_mse(space, refined, images) / max(mse_before, 1e-12)
    expect(
        ratio <= max_ratio,
        f"refiner: MSE went from {mse_before:.4g} to {ratio * mse_before:.4g} (ratio "
        f"{ratio:.3f} > {max_ratio})",
    )
    return ratio
