"""Deterministic train/test splits by index, for data sets without an official split.

Each position i in the sorted listing gets the score blake2b(f"{seed}:{i}"); the
round(n * test_fraction) positions with the lowest scores form the test split, the rest the train
split, both kept in listing order. The split depends only on (n, test_fraction, seed): it is the
same on every machine and Python version, and the same after `ganinv data convert` (which keeps
the order).
"""

from __future__ import annotations

import hashlib
from typing import Literal

import numpy as np

from ganinv.core.errors import GanInvError
from ganinv.data.options import SPLITS

Split = Literal["all", "train", "test"]


def _score(seed: int, index: int) -> int:
    digest = hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def split_positions(n: int, split: str, test_fraction: float, seed: int) -> np.ndarray:
    """Positions (int64, ascending) of `split` among `n` items; see the module docstring."""
    if split not in SPLITS:
        raise GanInvError(f"unknown split {split!r}: use one of {list(SPLITS)}")
    if not 0.0 <= test_fraction <= 1.0:
        raise GanInvError(f"test_fraction must be in [0, 1], got {test_fraction}")
    positions = np.arange(n, dtype=np.int64)
    if split == "all":
        return positions
    n_test = int(round(n * test_fraction))
    scores = np.array([_score(seed, i) for i in range(n)], dtype=np.uint64)
    # Stable sort: ties (astronomically unlikely) are broken by position.
    is_test = np.zeros(n, dtype=bool)
    is_test[np.argsort(scores, kind="stable")[:n_test]] = True
    return positions[is_test] if split == "test" else positions[~is_test]


def take_indices(positions: np.ndarray, indices: list[int] | None) -> np.ndarray:
    """Positions picked by `indices` (positions within the split, in the given order)."""
    if indices is None:
        return positions
    bad = [i for i in indices if not 0 <= i < len(positions)]
    if bad:
        raise GanInvError(
            f"indices {bad[:5]} are out of range for a split of {len(positions)} images "
            f"(valid: 0..{len(positions) - 1})"
        )
    return positions[np.asarray(indices, dtype=np.int64)]
