"""`check_dataset`: the contract every data set keeps (see docs/plugins.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ganinv.testing.contract import ContractError, expect


def item_image(item: Any) -> torch.Tensor:
    """The image of an item: the item itself, or its ``"image"`` entry (paired data sets)."""
    if isinstance(item, dict):
        expect("image" in item, f"dataset: a dict item needs an 'image' entry, got {list(item)}")
        return item["image"]
    return item


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return torch.equal(a, b)


def check_dataset(make: Callable[[], Any], length: int | None = None) -> None:
    """`make()` builds the data set. It has a positive length (`length` when given); every item
    is an image [3, S, S] (or a dict with one) in [-1, 1] of one size, float32; out-of-range
    indices raise IndexError; reading an item twice, or from a second instance, gives the same
    tensors (determinism)."""
    dataset = make()
    n = len(dataset)
    expect(n > 0, "dataset: empty")
    if length is not None:
        expect(n == length, f"dataset: {n} items, expected {length}")
    sizes = set()
    for i in range(min(n, 8)):
        image = item_image(dataset[i])
        expect(
            isinstance(image, torch.Tensor) and image.ndim == 3 and image.shape[0] == 3,
            f"dataset: item {i} is not an image [3, S, S]",
        )
        expect(image.dtype == torch.float32, f"dataset: item {i} has dtype {image.dtype}")
        expect(
            float(image.min()) >= -1 and float(image.max()) <= 1,
            f"dataset: item {i} leaves [-1, 1]",
        )
        sizes.add(tuple(image.shape))
    expect(len(sizes) == 1, f"dataset: items of different sizes {sorted(sizes)}")
    try:
        dataset[n]
    except IndexError:
        pass
    else:
        raise ContractError(f"dataset: index {n} (= len) did not raise IndexError")
    again = make()
    for i in {0, n // 2, n - 1}:
        expect(_equal(dataset[i], dataset[i]), f"dataset: item {i} differs between two reads")
        expect(_equal(dataset[i], again[i]), f"dataset: item {i} differs between two instances")
