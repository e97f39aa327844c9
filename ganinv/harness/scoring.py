"""Registered metrics over a test split: streaming updates, all-reduced state, protocol records."""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from ganinv.harness.components import build_component
from ganinv.metrics.base import Metric, MetricResult


def build_metrics(specs: list[str | dict[str, Any]], device: torch.device) -> list[Metric]:
    metrics = [build_component("metrics", spec, device=device) for spec in specs]
    for metric in metrics:
        metric.reset()
    return metrics


def all_reduce_metric(metric: Metric) -> None:
    """Sum the metric's state over processes (its state tensors are sum-reducible)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    reduced = {}
    for key, value in metric.state().items():
        # gloo reduces CPU tensors, NCCL CUDA ones: move to where the backend wants them.
        device = (
            torch.device("cuda", torch.cuda.current_device())
            if dist.get_backend() == "nccl"
            else torch.device("cpu")
        )
        tensor = value.detach().to(device).clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
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
