"""The Python API mirroring the CLI: `ganinv.invert`, `ganinv.evaluate`, `ganinv.benchmark`."""

from __future__ import annotations

import os
from typing import Any

import torch

from ganinv.core.space import Code
from ganinv.harness.tables import BenchTable


def invert(
    method: Any,
    images: torch.Tensor | str | os.PathLike[str] | dict[str, Any],
    *,
    device: str = "auto",
    batch_size: int = 8,
    overrides: tuple[str, ...] | list[str] = (),
) -> tuple[Code, torch.Tensor]:
    """Invert images with a method -> (codes, reconstructions [N, 3, R, R] in [-1, 1], CPU).

    method: a `Method` (built), a `MethodConfig`, a mapping, a YAML file (a method, or a config
            with a ``method:`` section) or an exported encoder ``.safetensors``.
    images: a tensor [N, 3, H, W] in [-1, 1], an image file, a folder or a dataset spec.
    """
    from ganinv.harness.configs import load_method
    from ganinv.harness.device import resolve_device
    from ganinv.harness.inputs import load_inputs
    from ganinv.harness.invert import invert_images
    from ganinv.harness.method import Method, build_method

    if not isinstance(method, Method):
        method = build_method(load_method(method, list(overrides)), resolve_device(device))
    if not isinstance(images, torch.Tensor):
        images, _ = load_inputs(images, method.generator.resolution)
    return invert_images(method, images, batch_size)


def evaluate(
    config: Any, *, device: str = "auto", overrides: tuple[str, ...] | list[str] = ()
) -> dict[str, Any]:
    """Run `ganinv eval` on an `EvalConfig` / mapping / YAML path; returns the metrics record."""
    from ganinv.harness.configs import load
    from ganinv.harness.device import resolve_device
    from ganinv.harness.evaluate import run_eval
    from ganinv.harness.schema import EvalConfig

    return run_eval(load(EvalConfig, config, list(overrides)), resolve_device(device))


def benchmark(
    config: Any,
    *,
    device: str = "auto",
    resume: bool = False,
    overrides: tuple[str, ...] | list[str] = (),
) -> BenchTable:
    """Run `ganinv bench`; returns the table (files are written to the config's ``out``)."""
    from ganinv.harness.bench import run_bench
    from ganinv.harness.configs import load
    from ganinv.harness.device import resolve_device
    from ganinv.harness.schema import BenchConfig

    cfg = load(BenchConfig, config, list(overrides))
    return run_bench(cfg, resolve_device(device), resume=resume, echo=lambda *_: None).table
