"""`ganinv eval`: one method on a test split -> metrics with protocols, time per image, memory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from ganinv.core.config import save_config, to_dict
from ganinv.core.io import atomic_write_text
from ganinv.core.outputs import claim_output_dir
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
    read_skips: list[tuple[str, str]] = []
    batches = _exact_batches(dataset, batch_size, indices, read_skips)
    bar = tqdm(
        batches,
        desc=f"eval {method.label}",
        disable=not (progress and dist_ctx.is_main),
        unit="batch",
        leave=False,
    )
    for real in bar:
        if real is None:  # every image of this batch was skipped
            continue
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
    data_record = _data_record(dataset, read_skips, dist_ctx)
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
        extra={"data": {**data_record, "images": int(time_result.protocol["images"])}},
    )


class _ExactItems(Dataset):
    """The items of an `ImageDataset` read exactly: under ``on_error: skip`` a bad item becomes
    (None, (name, problem)) instead of being replaced by the next one, which would count that
    image twice and leave the bad one unrecorded."""

    def __init__(self, dataset: Any, indices: list[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> tuple[torch.Tensor | None, tuple[str, str] | None]:
        from ganinv.data.decode import ImageDecodeError

        index = self.indices[k]
        try:
            return self.dataset.read_item(index), None
        except ImageDecodeError as exc:
            if self.dataset.on_error != "skip":
                raise
            return None, (self.dataset.item_name(index), exc.problem)


def _exact_batches(
    dataset: Any, batch_size: int, indices: list[int], skipped: list[tuple[str, str]]
) -> Any:
    """Batches [B, 3, H, W] (None when all of a batch was skipped); skips go to `skipped`."""
    from ganinv.data.base import ImageDataset

    if not isinstance(dataset, ImageDataset):  # datasets of plugins: no skip policy of ours
        yield from eval_loader(dataset, batch_size, indices)
        return
    loader = DataLoader(
        _ExactItems(dataset, list(indices)),
        batch_size=batch_size,
        shuffle=False,
        collate_fn=lambda items: items,
    )
    for items in loader:
        skipped.extend(problem for _, problem in items if problem is not None)
        images = [image for image, _ in items if image is not None]
        yield torch.stack(images) if images else None


def _data_record(
    dataset: Any, read_skips: list[tuple[str, str]], dist_ctx: DistContext
) -> dict[str, Any]:
    """The bad-input policy and every item left out: when the dataset was built (the same in
    every process) and while reading (gathered from every process's shard)."""
    if dist.is_available() and dist.is_initialized() and dist_ctx.world_size > 1:
        gathered: list[Any] = [None] * dist_ctx.world_size
        dist.all_gather_object(gathered, read_skips)
        read_skips = [item for part in gathered for item in part]
    skipped = list(getattr(dataset, "skipped", [])) + read_skips
    return {
        "on_error": getattr(dataset, "on_error", "raise"),
        "skipped_count": len(skipped),
        "skipped": [{"name": name, "problem": problem} for name, problem in skipped],
    }


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
    if write and dist_ctx.is_main:
        # Before the work: `out` must be new, empty or a previous eval's (config.yaml and
        # metrics.json are replaced; nothing someone else wrote is).
        claim_output_dir(config.out, "eval", "out")
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
