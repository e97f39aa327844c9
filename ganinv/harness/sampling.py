"""Deterministic data order: a per-epoch permutation, sliced by step and by rank.

Step ``s`` of a run with global batch ``B`` takes positions ``[s*B, (s+1)*B)`` of the sequence of
epoch permutations (``randperm(N)`` seeded with ``seed + epoch``; the incomplete tail of an epoch is
dropped). Rank ``r`` of ``W`` takes the r-th slice of ``B / W`` of that global batch. So the data a
step sees depends only on (seed, step), which makes resuming exact and makes N processes see the
same global batch as one.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ganinv.core.errors import GanInvError


def epoch_permutation(num_items: int, seed: int, epoch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(num_items, generator=generator)


class StepBatchSampler:
    """Yields this rank's index lists for steps ``start_step .. total_steps - 1``."""

    def __init__(
        self,
        num_items: int,
        global_batch: int,
        seed: int,
        start_step: int,
        total_steps: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if global_batch % world_size:
            raise GanInvError(
                f"batch_size {global_batch} is not divisible by the {world_size} processes; "
                "choose a multiple of the process count"
            )
        if num_items < global_batch:
            raise GanInvError(
                f"the training set has {num_items} images, fewer than one batch ({global_batch})"
            )
        self.num_items = num_items
        self.global_batch = global_batch
        self.seed = seed
        self.start_step = start_step
        self.total_steps = total_steps
        self.rank = rank
        self.local_batch = global_batch // world_size
        self.steps_per_epoch = num_items // global_batch

    def indices_for_step(self, step: int) -> list[int]:
        epoch, within = divmod(step, self.steps_per_epoch)
        perm = epoch_permutation(self.num_items, self.seed, epoch)
        start = within * self.global_batch + self.rank * self.local_batch
        return perm[start : start + self.local_batch].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.total_steps):
            yield self.indices_for_step(step)

    def __len__(self) -> int:
        return max(0, self.total_steps - self.start_step)


def shard_indices(num_items: int, rank: int, world_size: int) -> list[int]:
    """Evaluation sharding: rank r takes items r, r + W, r + 2W, ... (every item exactly once)."""
    return list(range(rank, num_items, world_size))
