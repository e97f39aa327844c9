"""Registered metrics over a test split: streaming updates, all-reduced state, protocol records."""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from ganinv.core.components import build_component
from ganinv.metrics.base import Metric, MetricResult


def build_metrics(specs: list[str | dict[str, Any]], device: torch.device) -> list[Metric]:
    metrics = [build_component("metrics", spec, device=device) for spec in specs]
    for metric in metrics:
        metric.reset()
    return metrics


def _backend_device() -> torch.device:
    # gloo reduces CPU tensors, NCCL CUDA ones: move to where the backend wants them.
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate every process's tensor along dim 0 (sizes may differ between processes)."""
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [torch.zeros_like(size) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, size)
    longest = int(max(s.item() for s in sizes))
    padded = tensor.new_zeros((longest, *tensor.shape[1:]))
    padded[: tensor.shape[0]] = tensor
    gathered = [torch.zeros_like(padded) for _ in sizes]
    dist.all_gather(gathered, padded)
    return torch.cat([g[: int(s.item())] for g, s in zip(gathered, sizes)])


def all_reduce_metric(metric: Metric) -> None:
    """Combine the metric's state over processes, as its ``state_reduction`` says.

    ``sum`` (default): sums and counts. ``max``: peaks. ``cat``: samples (KID, SWD reservoirs) are
    concatenated along dim 0, while scalar counters in the same state are summed.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    mode = getattr(metric, "state_reduction", "sum")
    reduced = {}
    for key, value in metric.state().items():
        tensor = value.detach().to(_backend_device()).clone()
        if mode == "cat" and tensor.ndim > 0:
            tensor = _gather_cat(tensor)
        else:
            op = dist.ReduceOp.MAX if mode == "max" else dist.ReduceOp.SUM
            dist.all_reduce(tensor, op=op)
        reduced[key] = tensor.to(value.device)
    metric.load_state(reduced)


def compute_metrics(metrics: list[Metric], split: str = "") -> dict[str, MetricResult]:
    """All-reduce (under torch.distributed), then compute; the split joins the protocol record."""
    results = {}
    for metric in metrics:
        all_reduce_metric(metric)
        result = metric.compute()
        if split and "split" not in result.protocol:
            result.protocol = {**result.protocol, "split": split}
        results[result.name or metric.name] = result
    return results
