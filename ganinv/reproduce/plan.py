"""The plan of a recipe: its steps, images seen, memory per GPU and an estimate of GPU hours.

Compute figures come only from measurements (`TimingRecord`s: a short timed run of the real
training step, here or on a GPU with `scripts/reproduce_gpu_check.py`), never from guesses. The
estimate for a step of S iterations with global batch B on the recipe's G GPUs, from a record of
t seconds per step at batch b per device: each GPU runs B/G images per step, so
``wall = S * t * (B/G) / b`` (linear in the batch when b differs from B/G, which the plan says),
and ``GPU hours = wall * G``; the gradient all-reduce between GPUs is not in the record. A record
taken on a CPU gives CPU hours for this machine, printed as such and not as GPU hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganinv.reproduce.recipe import Recipe
from ganinv.reproduce.timing import TimingRecord


@dataclass
class StepPlan:
    label: str
    config: str
    steps: int
    global_batch: int
    images_seen: int
    gpus: int
    batch_per_gpu: float
    estimate: list[str] = field(default_factory=list)


@dataclass
class Plan:
    recipe: str
    title: str
    steps: list[StepPlan]
    bench: list[str]
    notes: list[str]

    def lines(self) -> list[str]:
        out = [f"plan for {self.recipe}: {self.title}"]
        for i, step in enumerate(self.steps, 1):
            out.append(
                f"  {i}. ganinv train {step.config}  ({step.label}): {step.steps:,} steps x batch "
                f"{step.global_batch} = {step.images_seen:,} images seen; {step.gpus} GPUs x "
                f"{step.batch_per_gpu:g} per GPU"
            )
            out += [f"       {line}" for line in step.estimate]
        for line in self.bench:
            out.append(f"  {len(self.steps) + 1}. {line}")
        out += [f"  note: {n}" for n in self.notes]
        return out


def _gib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**30:.1f} GiB"


def estimate_lines(
    steps: int, batch_per_gpu: float, gpus: int, record: TimingRecord | None
) -> list[str]:
    """What a timing record says about one training step (or that nothing was measured)."""
    if record is None:
        return [
            "time and memory: not measured; run `ganinv reproduce NAME --check --measure` here or "
            "scripts/reproduce_gpu_check.py on a GPU and pass its JSON with --timing"
        ]
    scale = batch_per_gpu / record.batch_per_device
    seconds = record.seconds_per_step * scale
    wall_hours = steps * seconds / 3600
    how = (
        f"measured {record.seconds_per_step:.3f} s/step at batch {record.batch_per_device} on "
        f"{record.device} ({record.generator}; {record.how})"
    )
    lines = [how]
    if scale != 1:
        lines.append(
            f"scaled linearly to batch {batch_per_gpu:g} per device: {seconds:.3f} s/step "
            "(an extrapolation, not a measurement)"
        )
    if record.device_kind == "cuda":
        lines.append(
            f"estimate: {wall_hours:,.1f} h wall on {gpus} such GPUs = {wall_hours * gpus:,.1f} "
            "GPU hours (all-reduce and data loading not included)"
        )
        memory = _gib(record.peak_memory_bytes)
        at = "" if scale == 1 else f" at batch {record.batch_per_device} (more at the full batch)"
        lines.append(f"memory per GPU: {memory} peak allocated{at}")
    else:
        lines.append(
            f"on this CPU: {wall_hours * gpus:,.1f} CPU-device hours for the whole run; this is "
            "not a GPU figure (no GPU measured: use scripts/reproduce_gpu_check.py)"
        )
        lines.append("memory per GPU: not measured on a CPU")
    return lines


def make_plan(
    recipe: Recipe,
    configs: dict[str, Any],
    timings: dict[str, TimingRecord],
    bench_config: Any = None,
) -> Plan:
    """`configs`: step label -> loaded `TrainConfig`; `timings`: step label -> record."""
    gpus = recipe.compute.gpus
    steps = []
    for train in recipe.train:
        config = configs.get(train.label)
        if config is None:
            continue
        step_gpus = train.gpus or gpus
        per_gpu = config.batch_size / step_gpus
        steps.append(
            StepPlan(
                train.label,
                train.config,
                config.steps,
                config.batch_size,
                config.steps * config.batch_size,
                step_gpus,
                per_gpu,
                estimate_lines(config.steps, per_gpu, step_gpus, timings.get(train.label)),
            )
        )
    bench = []
    if recipe.bench is not None:
        line = f"ganinv bench {recipe.bench.config}"
        if bench_config is not None:
            labels = ", ".join(m.label or "?" for m in bench_config.methods)
            metrics = ", ".join(
                m if isinstance(m, str) else m["name"] for m in bench_config.metrics
            )
            line += f": {len(bench_config.methods)} methods ({labels}); metrics {metrics}"
        bench.append(line)
    notes = [recipe.compute.note] if recipe.compute.note else []
    return Plan(recipe.name, recipe.title, steps, bench, notes)
