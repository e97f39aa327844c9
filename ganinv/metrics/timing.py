"""Speed and memory records that the harness fills while it inverts images.

These metrics ignore `update(real, fake)`; the harness calls `record(...)` around inversion.
`measure()` times a block and reads the peak memory of the device it ran on (CUDA: the allocator's
peak since the block began; CPU: the process's peak resident set size, which never decreases).
"""

from __future__ import annotations

import contextlib
import resource
import sys
import time
from collections.abc import Iterator
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.registry import METRICS
from ganinv.metrics.base import Metric, MetricResult


def peak_cpu_rss_bytes() -> int:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


@contextlib.contextmanager
def measure(device: torch.device | str = "cpu") -> Iterator[dict[str, float]]:
    """``with measure(dev) as m: ...`` then ``m["seconds"]``, ``m["peak_bytes"]``."""
    device = torch.device(device)
    record: dict[str, float] = {}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    yield record
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        record["peak_bytes"] = float(torch.cuda.max_memory_allocated(device))
    else:
        record["peak_bytes"] = float(peak_cpu_rss_bytes())
    record["seconds"] = time.perf_counter() - start


class RecordMetric(Metric):
    """A figure about the inversion itself, not the images: filled by `record`, not `update`."""

    def update(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        """Nothing to compare: the harness calls `record`."""

    def record_measurement(self, measurement: dict[str, float], images: int) -> None:
        """Take one `measure()` result covering `images` images."""
        raise NotImplementedError


@METRICS.register("seconds_per_image")
class SecondsPerImageMetric(RecordMetric):
    """Total inversion seconds / number of images (sum-reducible state)."""

    name = "seconds_per_image"
    higher_is_better = False

    def __init__(self, device: str | torch.device = "unspecified") -> None:
        self.device = str(device)
        self.reset()

    def reset(self) -> None:
        self._seconds = torch.zeros((), dtype=torch.float64)
        self._images = torch.zeros((), dtype=torch.float64)

    def record(self, seconds: float, images: int) -> None:
        self._seconds += float(seconds)
        self._images += int(images)

    def record_measurement(self, measurement: dict[str, float], images: int) -> None:
        self.record(measurement["seconds"], images)

    def state(self) -> dict[str, torch.Tensor]:
        return {"seconds": self._seconds.clone(), "images": self._images.clone()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self._seconds = state["seconds"].double().reshape(())
        self._images = state["images"].double().reshape(())

    def compute(self) -> MetricResult:
        if self._images.item() == 0:
            raise GanInvError("seconds_per_image has no records; the harness calls record()")
        value = float(self._seconds / self._images)
        return MetricResult(self.name, value, self.protocol(), self.higher_is_better)

    def protocol(self) -> dict[str, Any]:
        return {
            "definition": "wall-clock seconds of inversion / images (batched; excludes loading)",
            "device": self.device,
            "images": int(self._images.item()),
        }


@METRICS.register("peak_memory")
class PeakMemoryMetric(RecordMetric):
    """Largest recorded peak memory, in MiB. Reduce across processes with max, not sum."""

    name = "peak_memory"
    higher_is_better = False
    state_reduction = "max"

    def __init__(self, device: str | torch.device = "unspecified") -> None:
        self.device = str(device)
        self.reset()

    def reset(self) -> None:
        self._peak = torch.zeros((), dtype=torch.float64)

    def record(self, peak_bytes: float) -> None:
        self._peak = torch.maximum(self._peak, torch.tensor(float(peak_bytes), dtype=torch.float64))

    def record_measurement(self, measurement: dict[str, float], images: int) -> None:
        self.record(measurement["peak_bytes"])

    def state(self) -> dict[str, torch.Tensor]:
        return {"peak_bytes": self._peak.clone()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self._peak = state["peak_bytes"].double().reshape(())

    def compute(self) -> MetricResult:
        if self._peak.item() == 0:
            raise GanInvError("peak_memory has no records; the harness calls record()")
        return MetricResult(
            self.name, float(self._peak / 2**20), self.protocol(), self.higher_is_better
        )

    def protocol(self) -> dict[str, Any]:
        return {
            "unit": "MiB",
            "definition": "CUDA: max_memory_allocated; CPU: peak resident set size of the process",
            "device": self.device,
        }
