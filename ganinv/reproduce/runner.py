"""Running a recipe through the harness: its training step(s), then the benchmark table.

Asset locations found by the check become ``key=value`` overrides of the step configs, so the
configs keep their own default paths and the recipe never forks them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.reproduce.checks import CheckReport
from ganinv.reproduce.recipe import BenchStep, Recipe, TrainStep
from ganinv.reproduce.timing import TimingRecord


def step_overrides(step: TrainStep | BenchStep, paths: dict[str, str]) -> list[str]:
    """The step's overrides: asset paths for the roles that were found, then its own."""
    found = [f"{key}={paths[role]}" for key, role in step.assets.items() if role in paths]
    return [*found, *step.overrides]


def load_train_configs(recipe: Recipe, paths: dict[str, str]) -> dict[str, Any]:
    """step label -> `TrainConfig` with the asset overrides (configs missing here are skipped)."""
    from ganinv.harness.configs import load
    from ganinv.harness.schema import TrainConfig

    configs = {}
    for step in recipe.train:
        if Path(step.config).is_file():
            configs[step.label] = load(TrainConfig, step.config, step_overrides(step, paths))
    return configs


def load_bench_config(recipe: Recipe, paths: dict[str, str]) -> Any:
    from ganinv.harness.configs import load
    from ganinv.harness.schema import BenchConfig

    if recipe.bench is None or not Path(recipe.bench.config).is_file():
        return None
    return load(BenchConfig, recipe.bench.config, step_overrides(recipe.bench, paths))


def read_timings(files: list[str]) -> dict[str, TimingRecord]:
    """Timing records from JSON files (one record or a list), by step label; later files win."""
    records: dict[str, TimingRecord] = {}
    for file in files:
        path = Path(file)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # ValueError: not UTF-8 or JSON
            raise GanInvError(f"timing file {file}: cannot read it as JSON ({exc})") from exc
        for item in data if isinstance(data, list) else [data]:
            try:
                record = TimingRecord(**item)
            except TypeError as exc:
                raise GanInvError(
                    f"timing file {file}: not a timing record (as written by "
                    f"scripts/reproduce_gpu_check.py): {exc}"
                ) from exc
            records[record.step_label] = record
    return records


def run_recipe(
    recipe: Recipe,
    report: CheckReport,
    device: torch.device,
    dist_ctx: Any = None,
    resume: bool = False,
    echo: Any = print,
) -> dict[str, Any]:
    """Train every step, then benchmark; refuses to start when the check found problems."""
    from ganinv.harness.bench import run_bench
    from ganinv.harness.train import run_training

    if not report.ok:
        raise GanInvError(
            f"recipe {recipe.name!r} is not ready; run `ganinv reproduce {recipe.name} --check` "
            "and obtain what it lists"
        )
    paths = report.paths()
    summaries = {}
    for label, config in load_train_configs(recipe, paths).items():
        echo(f"== training {label} ({config.steps:,} steps, out {config.out})")
        summaries[label] = run_training(config, device, dist_ctx, resume=resume)
    outcome = None
    bench = load_bench_config(recipe, paths)
    if bench is not None:
        echo(f"== benchmark {recipe.bench.config if recipe.bench else ''}")
        outcome = run_bench(bench, device, resume=resume, dist_ctx=dist_ctx)
    return {"train": summaries, "bench": outcome}
