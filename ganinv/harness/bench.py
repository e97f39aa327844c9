"""`ganinv bench`: a grid of methods on one test split -> tables, image grids, an HTML report.

Layout of ``out``::

    config.yaml                     the resolved benchmark config
    methods/<label>/result.json     one per method, written as soon as it finishes (resume unit)
    methods/<label>/recon_NNN.png   its first `grid_images` reconstructions
    inputs/NNN.png                  the first `grid_images` test images
    table.{md,csv,json,tex}         the table
    grid.png                        input | reconstructions | error maps
    report.html                     self-contained report

`--resume` skips every method whose ``result.json`` was produced by the same method config, data,
metrics and batch size; grids are always rebuilt from the saved PNGs so a resumed bench gives the
same report as an uninterrupted one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml

from ganinv.core.config import save_config, to_dict
from ganinv.core.errors import GanInvError
from ganinv.core.images import from_uint8, save_image, to_uint8
from ganinv.core.io import atomic_write_text
from ganinv.harness.data import build_dataset
from ganinv.harness.device import DistContext
from ganinv.harness.environment import environment_record
from ganinv.harness.evaluate import evaluate_method
from ganinv.harness.grids import comparison_grid
from ganinv.harness.method import build_method, load_generator_for, resolve_method_config
from ganinv.harness.report import render_report
from ganinv.harness.rng import seed_everything
from ganinv.harness.schema import BenchConfig, MethodConfig
from ganinv.harness.tables import BenchTable


@dataclass
class BenchOutcome:
    table: BenchTable
    paths: dict[str, Path]
    ran: list[str]
    skipped: list[str]


def slugify(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", label).strip("_") or "method"


def _fingerprint(config: BenchConfig, method: MethodConfig) -> dict[str, Any]:
    """What must match for a saved method result to be reused on --resume."""
    return {
        "method": to_dict(method),
        "data": to_dict(config.data),
        "metrics": to_dict(config.metrics),
        "batch_size": config.batch_size,
        "compare_resize": config.compare_resize,
        "seed": config.seed,
        "grid_images": config.grid_images,
    }


def _load_pngs(paths: list[Path]) -> torch.Tensor:
    import numpy as np
    from PIL import Image

    return from_uint8(np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths]))


def run_bench(
    config: BenchConfig,
    device: torch.device,
    resume: bool = False,
    dist_ctx: DistContext | None = None,
    echo: Any = print,
) -> BenchOutcome:
    dist_ctx = dist_ctx or DistContext()
    out = Path(config.out)
    if not config.methods:
        raise GanInvError("bench.methods is empty; list at least one method")
    resolved = [resolve_method_config(m, config.generator) for m in config.methods]
    labels = [m.label or _auto_label(m) for m in resolved]
    resolved = [MethodConfig(**{**to_dict(m), "label": lab}) for m, lab in zip(resolved, labels)]
    duplicates = sorted({lab for lab in labels if labels.count(lab) > 1})
    if duplicates:
        raise GanInvError(f"bench methods need distinct labels; repeated: {duplicates}")
    if dist_ctx.is_main:
        save_config(config, out / "config.yaml")
    dataset = build_dataset(config.data)
    generators: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    ran, skipped = [], []
    for method_config in resolved:
        label = method_config.label
        method_dir = out / "methods" / slugify(label)
        result_path = method_dir / "result.json"
        fingerprint = _fingerprint(config, method_config)
        if resume and result_path.is_file():
            saved = json.loads(result_path.read_text(encoding="utf-8"))
            if saved.get("fingerprint") == fingerprint:
                results.append(saved)
                skipped.append(label)
                echo(f"bench: {label}: finished before, skipped (--resume)")
                continue
            echo(f"bench: {label}: saved result was made with another config; running again")
        seed_everything(config.seed)
        gen_key = method_config.generator
        if gen_key not in generators:
            generators[gen_key] = load_generator_for(gen_key, device)
        method = build_method(method_config, device, generator=generators[gen_key])
        result = evaluate_method(
            method,
            config.data,
            config.metrics,
            config.batch_size,
            keep=config.grid_images,
            progress=config.progress,
            dist_ctx=dist_ctx,
            dataset=dataset,
            compare_resize=config.compare_resize,
        )
        record = {**result.as_dict(), "fingerprint": fingerprint}
        if dist_ctx.is_main:
            if result.kept_recons is not None:
                for i, array in enumerate(to_uint8(result.kept_recons)):
                    save_image(array, method_dir / f"recon_{i:03d}.png")
            if result.kept_inputs is not None and not (out / "inputs").is_dir():
                for i, array in enumerate(to_uint8(result.kept_inputs)):
                    save_image(array, out / "inputs" / f"{i:03d}.png")
            # Last: its presence marks the method finished.
            atomic_write_text(result_path, json.dumps(record, indent=2))
        results.append(record)
        ran.append(label)
        echo(f"bench: {label}: done ({result.seconds_per_image:.4g} s/img)")

    table = BenchTable.from_results(results)
    paths: dict[str, Path] = {}
    if dist_ctx.is_main:
        paths = _write_outputs(config, out, table, resolved, device)
    return BenchOutcome(table, paths, ran, skipped)


def _auto_label(method: MethodConfig) -> str:
    from ganinv.harness.method import method_label

    return method_label(method)


def _write_outputs(
    config: BenchConfig,
    out: Path,
    table: BenchTable,
    methods: list[MethodConfig],
    device: torch.device,
) -> dict[str, Path]:
    paths = {
        "markdown": atomic_write_text(out / "table.md", table.to_markdown()),
        "csv": atomic_write_text(out / "table.csv", table.to_csv()),
        "json": atomic_write_text(out / "table.json", table.to_json()),
        "latex": atomic_write_text(out / "table.tex", table.to_latex()),
    }
    input_paths = sorted((out / "inputs").glob("*.png"))[: config.grid_images]
    inputs = _load_pngs(input_paths) if input_paths else None
    recons: dict[str, torch.Tensor] = {}
    if inputs is not None:
        for m in methods:
            files = sorted((out / "methods" / slugify(m.label)).glob("recon_*.png"))
            if len(files) >= len(input_paths):
                recons[m.label] = _load_pngs(files[: len(input_paths)])
        if recons:
            paths["grid"] = out / "grid.png"
            save_image(comparison_grid(inputs, recons), paths["grid"])
    html = render_report(
        config.title,
        table,
        inputs,
        recons,
        environment_record(device),
        yaml.safe_dump(to_dict(config), sort_keys=False),
    )
    paths["report"] = atomic_write_text(out / "report.html", html)
    return paths
