"""A small Fashion-MNIST classifier: the judge of the editability benchmark ("is this edited
T-shirt now classified as a pullover?"), trained here by ``scripts/train_classifier.py`` and
shipped as ``registry/assets/demo_fmnist_classifier.safetensors``.

Network: the channel mean of a [B, 3, R, R] image in [-1, 1] (the data sets repeat grey to RGB; a
generator's slight colour is averaged away), then three blocks of 3x3 conv + ReLU + 2x2 max-pool
(width, 2 width, 4 width channels) and one linear layer to logits. No batch norm, so train and
eval mode compute the same function.

File: safetensors with the header ``format`` (``ganinv-classifier``), ``config`` (JSON
``{width, num_classes, resolution}``, bounded), ``class_names`` (JSON list) and ``info`` (JSON
object: test accuracy, training recipe). The header is checked and the network built on the meta
device and matched with the file's tensor table before any tensor is read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganinv.checkpoints.state import build_network, load_exact
from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import read_table, read_tensors, write_file

CLASSIFIER_FORMAT = "ganinv-classifier"
CLASS_KEY = "classifier/fmnist"
# What a file's config may say (kind, low, high), checked before anything is built.
CONFIG_BOUNDS = {
    "width": ("int", 1, 512),
    "num_classes": ("int", 2, 1000),
    "resolution": ("pow2", 8, 256),
}
MAX_HEADER_TEXT = 1 << 16  # class names and info: a few hundred bytes in real files


class FmnistClassifier(nn.Module):
    """Images [B, C, R, R] in [-1, 1] -> logits [B, num_classes]."""

    def __init__(self, width: int = 32, num_classes: int = 10, resolution: int = 32) -> None:
        super().__init__()
        if resolution % 8:
            raise GanInvError(f"classifier resolution {resolution} must be a multiple of 8")
        self.resolution = resolution
        channels = [1, width, 2 * width, 4 * width]
        blocks: list[nn.Module] = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(channels[-1] * (resolution // 8) ** 2, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or tuple(images.shape[-2:]) != (self.resolution,) * 2:
            raise GanInvError(
                f"the classifier takes [B, C, {self.resolution}, {self.resolution}] images, got "
                f"{list(images.shape)}"
            )
        gray = images.mean(dim=1, keepdim=True)
        return self.head(self.features(gray).flatten(1))


@dataclass
class LoadedClassifier:
    """A classifier network (eval mode, frozen) with its class names and recorded facts."""

    network: FmnistClassifier
    class_names: list[str]
    info: dict[str, Any] = field(default_factory=dict)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Class indices [B] (argmax of the logits)."""
        with torch.no_grad():
            return self.network(images.to(next(self.network.parameters()).device)).argmax(1)


def save_classifier(
    path: str | os.PathLike[str],
    network: FmnistClassifier,
    config: dict[str, int],
    class_names: list[str],
    info: dict[str, Any],
) -> Path:
    header = {
        "format": CLASSIFIER_FORMAT,
        "config": json.dumps(config),
        "class_names": json.dumps(list(class_names)),
        "info": json.dumps(info),
    }
    return write_file(path, network.state_dict(), header)


def _header_json(header: dict[str, str], key: str, what: str, kind: type) -> Any:
    text = header.get(key)
    if not isinstance(text, str) or len(text) > MAX_HEADER_TEXT:
        raise GanInvError(f"{what}: header field {key!r} is missing or longer than allowed")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise GanInvError(f"{what}: header field {key!r} is not valid JSON") from exc
    if not isinstance(value, kind):
        raise GanInvError(f"{what}: header field {key!r} must be a JSON {kind.__name__}")
    return value


def load_classifier(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> LoadedClassifier:
    """The classifier of a file written by `save_classifier`, checked before it is built."""
    path = Path(path)
    what = f"classifier file {str(path)!r}"
    header, table = read_table(path, "classifier file")
    if header.get("format") != CLASSIFIER_FORMAT:
        raise GanInvError(
            f"{what} is not a ganinv classifier (header format {header.get('format')!r}, "
            f"expected {CLASSIFIER_FORMAT!r}); train one with scripts/train_classifier.py"
        )
    config = _header_json(header, "config", what, dict)
    names = _header_json(header, "class_names", what, list)
    info = _header_json(header, "info", what, dict)
    shapes = {k: v.shape for k, v in table.items()}
    network = build_network(CLASS_KEY, FmnistClassifier, config, shapes, what, CONFIG_BOUNDS)
    if len(names) != network.head.out_features or not all(isinstance(n, str) for n in names):
        raise GanInvError(
            f"{what}: header field 'class_names' must list {network.head.out_features} strings"
        )
    load_exact(network, read_tensors(path, "classifier file"), what)
    network = network.to(device).eval().requires_grad_(False)
    return LoadedClassifier(network, names, info)
