"""SeFa (Shen & Zhou, CVPR 2021): closed-form directions from the style affine weights.

As the reference (genforce/sefa ``factorize_weight``): for each chosen W+ row the weight of the
affine layer that turns that w into per-channel styles ([channels, w_dim]) is taken (row i styles
conv layer i; the last row, which styles no conv, the final ToRGB), every row of it (one channel)
is normalised to unit length, the matrices are stacked into A, and the directions are the
eigenvectors of AᵀA, largest eigenvalue first (eigenvalue = ||A n||²). An edit w_l + d·n changes
only the factorised rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator, LayerInfo
from ganinv.editing.rows import eigenvectors_descending, layer_range, layered


@dataclass
class SeFaResult:
    """directions [w_dim, w_dim] (rows, unit norm, eigenvalue descending), eigenvalues [w_dim]."""

    directions: torch.Tensor
    eigenvalues: torch.Tensor
    layers: tuple[int, int]
    layer_names: list[str]
    normalize_rows: bool


def styled_layer(generator: Generator, row: int) -> LayerInfo:
    """The layer whose style W+ row `row` drives, as genforce's SeFa picks it: the conv layer of
    that row, else (the last row) the ToRGB layer."""
    convs = [i for i in generator.layers if i.w_index == row and i.kind in ("conv", "conv_up")]
    rgbs = [i for i in generator.layers if i.w_index == row and i.kind == "torgb"]
    chosen = convs or rgbs
    if not chosen:
        raise GanInvError(f"no synthesis layer of the generator is styled by W+ row {row}")
    return chosen[0]


def affine_weight(generator: Generator, info: LayerInfo) -> torch.Tensor:
    """The effective weight [channels, w_dim] of the affine map w -> styles of one layer."""
    try:
        affine = generator.get_submodule(f"synthesis.{info.name}").get_submodule("affine")
        weight = affine.weight * getattr(affine, "weight_gain", 1.0)
    except AttributeError as exc:
        raise GanInvError(
            f"generator {type(generator).__name__} has no style affine layer "
            f"'synthesis.{info.name}.affine'; SeFa needs a StyleGAN2-style generator"
        ) from exc
    if weight.ndim != 2 or weight.shape[1] != generator.w_dim:
        raise GanInvError(
            f"affine weight of {info.name} has shape {list(weight.shape)}, not [channels, "
            f"{generator.w_dim}]"
        )
    return weight.detach().double().cpu()


def sefa(
    generator: Generator, layers: tuple[int, int] | None = None, normalize_rows: bool = True
) -> SeFaResult:
    """SeFa on W+ rows start .. end-1 (all by default). `normalize_rows=False` is rosinality's
    variant (no row normalisation); the reference (genforce) normalises."""
    rows = layer_range(layers, generator.num_ws)
    infos = [styled_layer(generator, r) for r in range(*rows)]
    weights = [affine_weight(generator, info) for info in infos]
    if normalize_rows:
        weights = [w / w.norm(dim=1, keepdim=True).clamp_min(1e-12) for w in weights]
    a = torch.cat(weights)
    directions, eigenvalues = eigenvectors_descending(a.T @ a)
    return SeFaResult(
        directions=directions,
        eigenvalues=eigenvalues.clamp_min(0),
        layers=rows,
        layer_names=[i.name for i in infos],
        normalize_rows=normalize_rows,
    )


def sefa_direction(
    result: SeFaResult, component: int, num_ws: int
) -> tuple[torch.Tensor, dict[str, object]]:
    """Direction `component` (unit norm, on the factorised rows) and its protocol record."""
    if not 0 <= component < result.directions.shape[0]:
        raise GanInvError(
            f"component {component} is not among the {result.directions.shape[0]} SeFa directions "
            f"(0 .. {result.directions.shape[0] - 1})"
        )
    direction = layered(result.directions[component].float(), result.layers, num_ws)
    eigenvalues = result.eigenvalues
    info: dict[str, object] = {
        "method": "sefa",
        "part": "w" if direction.ndim == 1 else "wplus",
        "component": component,
        "layers": list(result.layers),
        "layer_names": result.layer_names,
        "eigenvalue": float(eigenvalues[component]),
        "eigenvalue_ratio": float(eigenvalues[component] / eigenvalues.sum()),
        "normalize_rows": result.normalize_rows,
        "strength_unit": "latent units along a unit direction (SeFa's d, default range -3..3)",
    }
    return direction, info
