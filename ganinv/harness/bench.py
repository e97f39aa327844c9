"""`ganinv bench`: a grid of methods on one test split -> tables, image grids, an HTML report.

Layout of ``out``::

    config.yaml                     the resolved benchmark config
    methods/<label>/result.json     one per method, written as soon as it finishes (resume unit)
    methods/<label>/recon_NNN.png   its first `grid_images` reconstructions
    inputs/NNN.png                  the first `grid_images` test images
    inputs/data.json                the data they were taken from (grids use only matching ones)
    table.{md,csv,json,tex}         the table
    editability.{md,csv,json,tex}   the editability table (only with an `editability` section)
    grid.png                        input | reconstructions | error maps
    report.html                     self-contained report

`--resume` skips every method whose ``result.json`` was produced by the same method config, data,
metrics and batch size; grids are always rebuilt from the saved PNGs so a resumed bench gives the
same report as an uninterrupted one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import yaml

from ganinv.core.assets import resolve_file
from ganinv.core.config import save_config, to_dict
from ganinv.core.errors import GanInvError
from ganinv.core.images import from_uint8, save_image, to_uint8
from ganinv.core.io import atomic_write_text
from ganinv.core.outputs import claim_output_dir
from ganinv.harness.data import build_dataset
from ganinv.harness.device import DistContext
from ganinv.harness.editability import (
    editability_fingerprint,
    editability_table,
    evaluate_editability,
    prepare_editability,
)
from ganinv.harness.environment import environment_record
from ganinv.harness.evaluate import evaluate_method
from ganinv.harness.grids import comparison_grid
from ganinv.harness.method import (
    build_resolved_method,
    load_generator_for,
    resolve_method_config,
)
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
    edit_table: BenchTable | None = None  # with an `editability` section


def slugify(label: str) -> str:
    """The folder name of a method label (never hidden, never '.' or '..')."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", label).strip("_").lstrip(".") or "method"


def check_distinct_folders(labels: list[str]) -> None:
    """Refuse labels that would share ``methods/<folder>`` (also on case-insensitive disks)."""
    seen: dict[str, str] = {}
    for label in labels:
        key = slugify(label).casefold()
        if key in seen:
            raise GanInvError(
                f"bench methods {seen[key]!r} and {label!r} would share the folder "
                f"methods/{slugify(label)}; give them labels that differ in letters or digits"
            )
        seen[key] = label


def _clear_own(folder: Path, pattern: str) -> None:
    """Remove the files bench itself names `pattern` in `folder` (a previous run's)."""
    if folder.is_dir() and not folder.is_symlink():
        for path in folder.glob(pattern):
            if path.is_file() and not path.is_symlink():
                path.unlink()


def _fingerprint(config: BenchConfig, method: MethodConfig) -> dict[str, Any]:
    """What must match for a saved method result to be reused on --resume."""
    fingerprint = {
        "method": to_dict(method),
        "data": to_dict(config.data),
        "metrics": to_dict(config.metrics),
        "batch_size": config.batch_size,
        "compare_resize": config.compare_resize,
        "seed": config.seed,
        "grid_images": config.grid_images,
    }
    if config.editability is not None:  # absent otherwise: earlier results stay current
        fingerprint["editability"] = editability_fingerprint(config.editability)
    return fingerprint


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
    if config.editability is not None:  # card names -> their verified files
        edit = config.editability
        files = {"direction": edit.direction, "classifier": edit.classifier}
        files = {key: resolve_file(value) for key, value in files.items()}
        config = replace(config, editability=replace(edit, **files))
    out = Path(config.out)
    if not config.methods:
        raise GanInvError("bench.methods is empty; list at least one method")
    resolved = [resolve_method_config(m, config.generator) for m in config.methods]
    labels = [m.label or _auto_label(m) for m in resolved]
    resolved = [MethodConfig(**{**to_dict(m), "label": lab}) for m, lab in zip(resolved, labels)]
    duplicates = sorted({lab for lab in labels if labels.count(lab) > 1})
    if duplicates:
        raise GanInvError(f"bench methods need distinct labels; repeated: {duplicates}")
    check_distinct_folders(labels)
    if dist_ctx.is_main:
        claim_output_dir(out, "bench", "out")
        save_config(config, out / "config.yaml")
    dataset = build_dataset(config.data)
    edit_context = (
        prepare_editability(config.editability, device) if config.editability is not None else None
    )
    generators: dict[str, Any] = {}
    results: list[dict[str, Any]] = []
    ran, skipped = [], []
    for method_config in resolved:
        label = method_config.label
        method_dir = out / "methods" / slugify(label)
        result_path = method_dir / "result.json"
        fingerprint = _fingerprint(config, method_config)
        if resume and _result_is_current(method_dir, config, method_config):
            results.append(json.loads(result_path.read_text(encoding="utf-8")))
            skipped.append(label)
            echo(f"bench: {label}: finished before, skipped (--resume)")
            continue
        if resume and result_path.is_file():
            echo(f"bench: {label}: saved result was made with another config; running again")
        seed_everything(config.seed)
        gen_key = method_config.generator
        if gen_key not in generators:
            generators[gen_key] = load_generator_for(gen_key, device)
        if edit_context is not None:
            edit_context.check_generator(generators[gen_key])
        method = build_resolved_method(method_config, device, generator=generators[gen_key])
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
        if edit_context is not None:
            seed_everything(config.seed)  # edits do not depend on how much data came before
            record["editability"] = evaluate_editability(
                method, edit_context, config.batch_size, config.compare_resize
            )
        if dist_ctx.is_main:
            # A previous run's files go first: its result must not outlive new images, and
            # its extra images must not be shown beside this run's.
            if result_path.is_file():
                result_path.unlink()
            _clear_own(method_dir, "recon_*.png")
            if result.kept_recons is not None:
                for i, array in enumerate(to_uint8(result.kept_recons)):
                    save_image(array, method_dir / f"recon_{i:03d}.png")
            if result.kept_inputs is not None and _inputs_stamp(out) != _data_stamp(config):
                _clear_own(out / "inputs", "*.png")
                (out / INPUTS_STAMP).unlink(missing_ok=True)
                for i, array in enumerate(to_uint8(result.kept_inputs)):
                    save_image(array, out / "inputs" / f"{i:03d}.png")
                atomic_write_text(out / INPUTS_STAMP, json.dumps(_data_stamp(config)))
            # Last: its presence marks the method finished.
            atomic_write_text(result_path, json.dumps(record, indent=2))
        results.append(record)
        ran.append(label)
        echo(f"bench: {label}: done ({result.seconds_per_image:.4g} s/img)")

    table = BenchTable.from_results(results)
    edit_table = (
        editability_table(results, edit_context.protocol) if edit_context is not None else None
    )
    paths: dict[str, Path] = {}
    if dist_ctx.is_main:
        paths = _write_outputs(config, out, table, resolved, device, edit_table)
    return BenchOutcome(table, paths, ran, skipped, edit_table)


INPUTS_STAMP = "inputs/data.json"


def _data_stamp(config: BenchConfig) -> dict[str, Any]:
    """What decides which images are kept in ``inputs/``."""
    return {
        "data": to_dict(config.data),
        "grid_images": config.grid_images,
        "batch_size": config.batch_size,
    }


def _inputs_stamp(out: Path) -> Any:
    try:
        return json.loads((out / INPUTS_STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _result_is_current(method_dir: Path, config: BenchConfig, method: MethodConfig) -> bool:
    try:
        saved = json.loads((method_dir / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and saved.get("fingerprint") == _fingerprint(config, method)


def _auto_label(method: MethodConfig) -> str:
    from ganinv.harness.method import method_label

    return method_label(method)


def _write_outputs(
    config: BenchConfig,
    out: Path,
    table: BenchTable,
    methods: list[MethodConfig],
    device: torch.device,
    edit_table: BenchTable | None = None,
) -> dict[str, Path]:
    paths = {
        "markdown": atomic_write_text(out / "table.md", table.to_markdown()),
        "csv": atomic_write_text(out / "table.csv", table.to_csv()),
        "json": atomic_write_text(out / "table.json", table.to_json()),
        "latex": atomic_write_text(out / "table.tex", table.to_latex()),
    }
    if edit_table is not None:
        for kind, suffix, text in (
            ("edit_markdown", "md", edit_table.to_markdown()),
            ("edit_csv", "csv", edit_table.to_csv()),
            ("edit_json", "json", edit_table.to_json()),
            ("edit_latex", "tex", edit_table.to_latex()),
        ):
            paths[kind] = atomic_write_text(out / f"editability.{suffix}", text)
    # Only inputs made from this config's data are shown, and only with reconstructions of
    # those very inputs (a result.json of this config marks them).
    current = _inputs_stamp(out) == _data_stamp(config)
    input_paths = sorted((out / "inputs").glob("*.png"))[: config.grid_images] if current else []
    inputs = _load_pngs(input_paths) if input_paths else None
    recons: dict[str, torch.Tensor] = {}
    if inputs is not None:
        for m in methods:
            method_dir = out / "methods" / slugify(m.label)
            files = sorted(method_dir.glob("recon_*.png"))
            if _result_is_current(method_dir, config, m) and len(files) >= len(input_paths):
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
        edit_table,
    )
    paths["report"] = atomic_write_text(out / "report.html", html)
    return paths
