"""Fashion-MNIST by class, for the editing scripts (demo_edit, hfgi_edit_check,
featurestyle_edit_check): the first images of each class, and the T-shirt -> pullover direction
they all learn (InterFaceGAN on a method's W+ codes of train images)."""

from __future__ import annotations

import torch

from ganinv.editing import operations as ops
from ganinv.editing.directions import LearnedDirection, learn_direction
from ganinv.harness.data import build_dataset, image_of
from ganinv.harness.method import Method

TSHIRT, PULLOVER, COAT, SHIRT = 0, 2, 4, 6


def images_of_classes(split: str, classes: list[int], per_class: int) -> dict[int, torch.Tensor]:
    """The first `per_class` images of each class of the Fashion-MNIST split, [-1, 1]."""
    dataset = build_dataset({"name": "fashion_mnist", "split": split})
    chosen = {}
    for c in classes:
        idx = (dataset.labels == c).nonzero()[0][:per_class]
        chosen[c] = torch.stack([image_of(dataset[int(i)]) for i in idx])
    return chosen


def tshirt_to_pullover(method: Method, per_class: int) -> LearnedDirection:
    """The direction learned on `method`'s W+ codes of the first `per_class` train T-shirts
    (label 0) and pullovers (label 1)."""
    train = images_of_classes("train", [TSHIRT, PULLOVER], per_class)
    codes = ops.code_or_inversion(method, torch.cat([train[TSHIRT], train[PULLOVER]]))
    labels = torch.cat([torch.zeros(per_class), torch.ones(per_class)]).long()
    return learn_direction(codes, labels, part="wplus")
