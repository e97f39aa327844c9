"""A bounded uniform sample of a stream of vectors (reservoir sampling, Vitter's algorithm R).

Used where a statistic needs the vectors themselves (KID's kernel, SWD's sorted projections).
Until `capacity` vectors have been seen it holds all of them, in order; afterwards each vector
seen so far is in the sample with probability capacity / seen. The buffer is allocated at full
size on first use, so memory does not grow with the number of images.

Its state is not sum-reducible: under torch.distributed, gather and concatenate the per-rank
samples (``state_reduction = "cat"`` on the metrics that use it).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch


class Reservoir:
    def __init__(self, capacity: int, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError("reservoir capacity must be positive")
        self.capacity = capacity
        self.seen = 0
        self.buffer: torch.Tensor | None = None
        self.generator = torch.Generator().manual_seed(seed)

    def update(self, vectors: torch.Tensor) -> None:
        """Add vectors [N, D] (float32, kept on the CPU)."""
        v = vectors.detach().float().cpu()
        if self.buffer is None:
            self.buffer = torch.empty(self.capacity, v.shape[1], dtype=torch.float32)
        n_direct = max(0, min(self.capacity - self.seen, v.shape[0]))
        if n_direct:
            self.buffer[self.seen : self.seen + n_direct] = v[:n_direct]
        rest = v[n_direct:]
        if rest.shape[0]:
            positions = torch.arange(
                self.seen + n_direct, self.seen + v.shape[0], dtype=torch.float64
            )
            slots = (
                torch.rand(rest.shape[0], generator=self.generator, dtype=torch.float64)
                * (positions + 1)
            ).long()
            keep = slots < self.capacity
            self.buffer[slots[keep]] = rest[keep]
        self.seen += v.shape[0]

    @property
    def size(self) -> int:
        return min(self.seen, self.capacity)

    @property
    def width(self) -> int:
        return 0 if self.buffer is None else self.buffer.shape[1]

    @property
    def rows(self) -> int:
        return self.size

    def blocks(self, block_rows: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, rows [n, D]) views of the sample, as `SpilledRows.blocks` gives them."""
        values = self.values().numpy()
        for start in range(0, self.size, block_rows):
            yield start, values[start : start + block_rows]

    def values(self) -> torch.Tensor:
        """The sample [size, D]."""
        if self.buffer is None:
            return torch.empty(0, 0)
        return self.buffer[: self.size]
