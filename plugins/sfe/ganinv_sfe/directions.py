"""The edits SFE's phase 2 trains on: directions in W+ and the strengths each is used with.

The paper samples, per training image, one of 13 face directions with one of its listed strengths
(docs/research/methods-2.md 6.5). A ganinv config names
- ``pca``: GANSpace-style principal directions of the generator's W (``count`` components of
  ``samples`` seeded mapped z, unit length), each used with ``strengths`` times its standard
  deviation (so the strengths are in sigmas, as GANSpace edits are);
- ``files``: direction files as ganinv writes them (``ganinv edit learn-direction``, GANSpace,
  SeFa: a safetensors file with a ``direction`` tensor [w_dim] or [num_ws, w_dim]), each
  ``{path, strengths}``.
A training step draws a direction and a strength per image from the global RNG, so a resumed run
draws what an uninterrupted one would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.latent_stats import sample_w
from ganinv.core.safetensors_io import read_table, read_tensors

# A W+ direction at 1024 px has 18 x 512 values; a file claiming more is not a direction file.
MAX_DIRECTION_VALUES = 1 << 20


def pca_directions(
    generator: Generator, count: int, samples: int = 10000, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(unit directions [count, w_dim], standard deviations [count]) of mapped W samples."""
    if not 1 <= count <= generator.w_dim:
        raise GanInvError(
            f"sfe directions.pca.count must be in [1, {generator.w_dim}], got {count}"
        )
    if samples <= count:
        raise GanInvError(f"sfe directions.pca.samples must exceed count={count}, got {samples}")
    w = sample_w(generator, samples, seed).double().cpu()
    centred = w - w.mean(0)
    _, singular, vh = torch.linalg.svd(centred, full_matrices=False)
    sigma = singular[:count] / (samples - 1) ** 0.5
    return vh[:count].float(), sigma.float()


def read_direction(path: str, num_ws: int, w_dim: int) -> torch.Tensor:
    """A direction file's ``direction`` as [num_ws, w_dim] (checked before anything is read)."""
    what = f"sfe training direction {path!r}"
    if not Path(path).is_file():
        raise GanInvError(f"{what} does not exist")
    _, table = read_table(path, "direction file")
    if "direction" not in table:
        raise GanInvError(f"{what} has no 'direction' tensor")
    total = sum(info.numel for info in table.values())
    if total > MAX_DIRECTION_VALUES:
        raise GanInvError(f"{what} holds {total:,} values; a direction file holds one direction")
    shape = tuple(table["direction"].shape)
    if shape not in ((w_dim,), (num_ws, w_dim)):
        raise GanInvError(
            f"{what} has shape {list(shape)}; this generator needs [{w_dim}] or [{num_ws}, {w_dim}]"
        )
    direction = read_tensors(path, "direction file")["direction"].float()
    if not bool(torch.isfinite(direction).all()):
        raise GanInvError(f"{what} holds NaN or infinite values")
    return direction.expand(num_ws, w_dim).clone()


class TrainingDirections:
    """Every (direction, strength) pair as a W+ step [K, num_ws, w_dim]; `sample` draws one
    pair per image, uniformly."""

    def __init__(self, generator: Generator, spec: dict[str, Any]) -> None:
        num_ws, w_dim = generator.num_ws, generator.w_dim
        unknown = sorted(set(spec) - {"pca", "files"})
        if unknown:
            raise GanInvError(f"sfe directions: unknown keys {unknown}; use 'pca' and/or 'files'")
        steps: list[torch.Tensor] = []  # each direction times each of its strengths
        pca = spec.get("pca")
        if pca:
            vectors, sigma = pca_directions(
                generator,
                int(pca["count"]),
                int(pca.get("samples", 10000)),
                int(pca.get("seed", 0)),
            )
            for vector, sd in zip(vectors, sigma):
                for strength in _strengths(pca, "directions.pca"):
                    steps.append(vector.expand(num_ws, w_dim) * (strength * float(sd)))
        for i, entry in enumerate(spec.get("files") or []):
            direction = read_direction(str(entry["path"]), num_ws, w_dim)
            for strength in _strengths(entry, f"directions.files[{i}]"):
                steps.append(direction * strength)
        if not steps:
            raise GanInvError(
                "sfe phase 2 needs training directions: set encoder.directions.pca and/or "
                "encoder.directions.files"
            )
        self.steps = torch.stack(steps)  # [K * strengths, num_ws, w_dim]

    def sample(self, batch_size: int, device: torch.device) -> torch.Tensor:
        """[B, num_ws, w_dim]: a direction times a strength per image (global RNG)."""
        index = torch.randint(len(self.steps), (batch_size,))
        return self.steps[index].to(device)


def _strengths(entry: dict[str, Any], where: str) -> list[float]:
    values = entry.get("strengths")
    if not values or not all(isinstance(v, (int, float)) for v in values):
        raise GanInvError(f"sfe {where}.strengths must be a non-empty list of numbers")
    return [float(v) for v in values]
