"""What the studio's buttons and sliders do, as plain functions over the catalogue's methods.

Inversion is `Method.invert` (the code path of ``ganinv invert``), edits are
`ganinv.editing.operations` (``ganinv edit apply|blend|custom``), closed-form directions are
`ganinv.editing.ganspace` / `sefa` (``ganinv edit ganspace|sefa``), learned ones are read with
`load_direction`, and the numbers beside a reconstruction are the registered metrics. Work that
loops (refiners) runs under the session's step observer, so Cancel stops it between two steps.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.images import to_uint8
from ganinv.core.progress import StepObserver, observe_steps
from ganinv.core.space import Code
from ganinv.editing import operations
from ganinv.harness.grids import error_map
from ganinv.harness.scoring import build_metrics
from ganinv.metrics.base import Metric
from ganinv.metrics.per_image import PerImageMeanMetric
from ganinv.studio.catalog import Catalog

GANSPACE = "GANSpace component"
SEFA = "SeFa component"


@dataclass
class Reconstruction:
    """One method's answer for one image."""

    label: str
    code: Code
    image: np.ndarray  # uint8 [R, R, 3]
    error: np.ndarray  # uint8 [R, R, 3], `ganinv.harness.grids.error_map`
    metrics: dict[str, float]
    seconds: float


class PerImageScores:
    """The studio's metrics, built once; one image pair at a time (thread-safe)."""

    def __init__(self, specs: list[Any], device: torch.device) -> None:
        self.metrics: list[Metric] = build_metrics(list(specs), device)  # as `ganinv eval`
        for spec, metric in zip(specs, self.metrics):
            if not isinstance(metric, PerImageMeanMetric):
                raise GanInvError(
                    f"studio metrics: {metric.name or spec!r} is not a per-image metric; list "
                    "per-image ones (mse, psnr, ssim, lpips_alex, ...)"
                )
        self._lock = threading.Lock()

    def __call__(self, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        with self._lock:
            scores = {}
            for metric in self.metrics:
                metric.reset()
                metric.update(real, fake)
                scores[metric.name] = metric.compute().value
            return scores


def invert(
    catalog: Catalog,
    label: str,
    image: torch.Tensor,
    scores: PerImageScores,
    observer: StepObserver | None = None,
) -> Reconstruction:
    """`image` [1, 3, R, R] in [-1, 1] through the method `label`, timed and scored."""
    method = catalog.method(label)
    image = image.to(catalog.device)
    start = time.perf_counter()
    with observe_steps(observer or (lambda *_: None)):
        code, recon = method.invert(image)
    seconds = time.perf_counter() - start
    return Reconstruction(
        label=label,
        code=code,
        image=to_uint8(recon)[0],
        error=error_map(image.cpu(), recon.cpu())[0],
        metrics=scores(image, recon),
        seconds=seconds,
    )


def save_code(folder: Path, label: str, code: Code) -> Path:
    """The code as ``ganinv invert`` saves it (``Code.save``), named after its method's label as
    ``ganinv bench`` names method folders, in the session's folder (removed with the session)."""
    from ganinv.harness.bench import slugify

    return code.save(folder / f"{slugify(label)}.safetensors")


class Directions:
    """Edit directions by name: the config's learned files, and GANSpace / SeFa components of
    the catalogue's generator (computed on first use, then kept)."""

    def __init__(self, catalog: Catalog) -> None:
        from ganinv.editing.directions import load_direction

        self.catalog = catalog
        self.learned: dict[str, torch.Tensor] = {}
        for name in catalog.config.directions:
            tensor, _ = load_direction(str(name))
            self.learned[str(name)] = tensor
        self._ganspace: Any = None
        self._sefa: Any = None
        self._lock = threading.Lock()

    @property
    def kinds(self) -> list[str]:
        return [*self.learned, GANSPACE, SEFA]

    def direction(self, kind: str, component: int = 0) -> torch.Tensor:
        from ganinv.editing.ganspace import ganspace_direction, ganspace_pca
        from ganinv.editing.sefa import sefa, sefa_direction

        generator = self.catalog.generator
        if kind in self.learned:
            return self.learned[kind]
        with self._lock:
            if kind == GANSPACE:
                if self._ganspace is None:
                    samples = self.catalog.config.ganspace_samples
                    self._ganspace = ganspace_pca(generator, samples, seed=0, components=80)
                return ganspace_direction(self._ganspace, component, None, generator.num_ws)[0]
            if kind == SEFA:
                if self._sefa is None:
                    self._sefa = sefa(generator)
                return sefa_direction(self._sefa, component, generator.num_ws)[0]
        raise GanInvError(f"studio: no edit direction called {kind!r}; choose one of {self.kinds}")


def edit(
    catalog: Catalog, label: str, code: Code, direction: torch.Tensor, strength: float
) -> np.ndarray:
    """The code moved along `direction` by `strength`, rendered (``ganinv edit apply``)."""
    _, image = operations.apply_direction(catalog.method(label), code, direction, strength)
    return to_uint8(image)[0]


def blend(catalog: Catalog, label: str, structure: Code, appearance: Code) -> np.ndarray:
    """Structure of one image, appearance of the other (``ganinv edit blend``)."""
    _, image = operations.blend(catalog.method(label), structure, appearance)
    return to_uint8(image)[0]


def custom_edit(
    catalog: Catalog, label: str, source: Code, edited: Code, target: Code, alpha: float
) -> np.ndarray:
    """``target + alpha x (edited - source)`` (``ganinv edit custom``)."""
    _, image = operations.custom_edit(catalog.method(label), source, edited, target, alpha)
    return to_uint8(image)[0]
