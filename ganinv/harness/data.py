"""Datasets for the harness: built from the `datasets` registry, batched as [-1, 1] tensors."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from ganinv.core.components import build_component
from ganinv.core.errors import GanInvError


def build_dataset(spec: str | dict[str, Any]) -> Dataset:
    """A map-style dataset (``len`` and indexing) from a registered dataset spec."""
    dataset = build_component("datasets", spec)
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise GanInvError(
            f"dataset {spec!r} is not indexable; the harness needs a map-style dataset"
        )
    return dataset


def image_of(item: Any) -> torch.Tensor:
    """The image [3, H, W] of one dataset item (a tensor, a (image, ...) tuple or a dict)."""
    if isinstance(item, torch.Tensor):
        return item
    if isinstance(item, dict):
        for key in ("image", "img", "images"):
            if key in item:
                return item[key]
        raise GanInvError(f"dataset item has no 'image' key; keys: {sorted(item)}")
    if isinstance(item, (tuple, list)) and item and isinstance(item[0], torch.Tensor):
        return item[0]
    raise GanInvError(f"cannot find an image in a dataset item of type {type(item).__name__}")


def collate_images(items: list[Any]) -> torch.Tensor:
    return torch.stack([image_of(item) for item in items])


def collate_with_extras(items: list[Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(images [B, 3, H, W], extras): for dict items, every other tensor entry stacked by key.

    Training passes the extras to the losses as ``LossInputs.extra`` (e.g. the target codes of
    synthetic pairs for a latent loss); items that are tensors or tuples give no extras.
    """
    images = collate_images(items)
    extras: dict[str, torch.Tensor] = {}
    if items and isinstance(items[0], dict):
        image_key = next(k for k in ("image", "img", "images") if k in items[0])
        for key, value in items[0].items():
            if key != image_key and isinstance(value, torch.Tensor):
                extras[key] = torch.stack([item[key] for item in items])
    return images, extras


def eval_loader(
    dataset: Dataset, batch_size: int, indices: list[int] | None = None, num_workers: int = 0
) -> DataLoader:
    """In-order batches (optionally of a subset, e.g. one rank's shard)."""
    if indices is not None:
        dataset = Subset(dataset, indices)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        collate_fn=collate_images,
        num_workers=num_workers,
    )
