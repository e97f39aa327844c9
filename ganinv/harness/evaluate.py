"""`ganinv eval`: one method on a test split -> metrics with protocols, time per image, memory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from ganinv.core.config import save_config, to_dict
from ganinv.core.io import atomic_write_text
from ganinv.harness.data import build_dataset, eval_loader
from ganinv.harness.device import DistContext
from ganinv.harness.method import Method
from ganinv.harness.resize import COMPARE_RESIZE_MODES, to_size_of
from ganinv.harness.sampling import shard_indices
from ganinv.harness.schema import EvalConfig
from ganinv.harness.scoring import build_metrics, compute_metrics
from ganinv.metrics.timing import PeakMemoryMetric, RecordMetric, SecondsPerImageMetric, measure


@dataclass
class EvalResult:
    """What one method scored. ``kept_*``: the first images and reconstructions (for grids)."""

    label: str
    metrics: dict[str, Any]
    seconds_per_image: float
    peak_memory: dict[str, Any]
    num_images: int
    protocol: dict[str, Any]
    kept_inputs: torch.Tensor | None = None
    kept_recons: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "metrics": self.metrics,
            "seconds_per_image": self.seconds_per_image,
            "peak_memory": self.peak_memory,
            "num_images": self.num_images,
            "protocol": self.protocol,
            **self.extra,
        }


def split_name(spec: Any) -> str:
    """A short description of the data split for protocol records."""
    if isinstance(spec, str):
        return spec
    parts = [str(spec.get("name", "?"))]
    for key in ("path", "split", "limit"):
        if spec.get(key) is not None:
            parts.append(f"{key}={spec[key]}")
    return " ".join(parts)


def evaluate_method(
    method: Method,
    data_spec: Any,
    metric_specs: list[Any],
    batch_size: int = 8,
    keep: int = 0,
    progress: bool = True,
    dist_ctx: DistContext | None = None,
    dataset: Any = None,
    compare_resize: str = "area",
) -> EvalResult:
    """Invert every image of the split (this process's shard) and score it.

    Time per image counts only the inversion (encoder, refiner, rendering), synchronised on GPUs;
    data loading and metrics are excluded. ``keep`` first inputs/reconstructions are returned.
    """
    dist_ctx = dist_ctx or DistContext()
    device = method.device
    dataset = dataset if dataset is not None else build_dataset(data_spec)
    indices = shard_indices(len(dataset), dist_ctx.rank, dist_ctx.world_size)
    metrics = build_metrics(metric_specs, device)
    # Time and memory of the inversion itself, always measured; listed as metrics they also
    # appear among the metric results.
    timer, memory = SecondsPerImageMetric(device), PeakMemoryMetric(device)
    recorders = [m for m in metrics if isinstance(m, RecordMetric)] + [timer, memory]
    kept_in, kept_out = [], []
    batches = eval_loader(dataset, batch_size, indices)
    bar = tqdm(
        batches,
        desc=f"eval {method.label}",
        disable=not (progress and dist_ctx.is_main),
        unit="batch",
        leave=False,
    )
    for real in bar:
        real = real.to(device)
        with measure(device) as measured:
            _, recon = method.invert(real)
        for recorder in recorders:
            recorder.record_measurement(measured, real.shape[0])
        recon = to_size_of(recon, real, compare_resize)
        with torch.no_grad():
            for metric in metrics:
                metric.update(real, recon)
        if sum(t.shape[0] for t in kept_in) < keep:
            kept_in.append(real.cpu())
            kept_out.append(recon.cpu())
    split = split_name(data_spec)
    results = compute_metrics(metrics, split)
    time_result, memory_result = compute_metrics([timer, memory]).values()
    protocol = {
        **method.protocol(),
        "reconstruction_resize": COMPARE_RESIZE_MODES[compare_resize],
        "split": split,
        "timing": "wall time of inversion only, per image, batch "
        f"{batch_size}, {dist_ctx.world_size} process(es), device {device}",
    }
    return EvalResult(
        label=method.label,
        metrics={name: r.as_dict() for name, r in results.items()},
        seconds_per_image=time_result.value,
        peak_memory={
            "bytes": int(memory_result.value * 2**20),
            "kind": memory_result.protocol["definition"],
        },
        num_images=int(time_result.protocol["images"]),
        protocol=protocol,
        kept_inputs=torch.cat(kept_in)[:keep] if kept_in else None,
        kept_recons=torch.cat(kept_out)[:keep] if kept_out else None,
    )


def run_eval(
    config: EvalConfig,
    device: torch.device,
    dist_ctx: DistContext | None = None,
    write: bool = True,
) -> dict[str, Any]:
    """Evaluate and (on rank 0) write ``metrics.json`` and the resolved config into ``out``."""
    from ganinv.harness.environment import environment_record
    from ganinv.harness.method import build_method

    torch.manual_seed(config.seed)
    dist_ctx = dist_ctx or DistContext()
    method = build_method(config.method, device)
    result = evaluate_method(
        method,
        config.data,
        config.metrics,
        config.batch_size,
        progress=config.progress,
        dist_ctx=dist_ctx,
        compare_resize=config.compare_resize,
    )
    record = {
        **result.as_dict(),
        "method": to_dict(method.config),
        "environment": environment_record(device),
    }
    if write and dist_ctx.is_main:
        out = Path(config.out)
        save_config(config, out / "config.yaml")
        atomic_write_text(out / "metrics.json", json.dumps(record, indent=2))
    return record
