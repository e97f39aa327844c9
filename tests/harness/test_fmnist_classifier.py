"""The editability classifier: its file round-trips, a hostile file is one error line before
anything is built, and (with Fashion-MNIST installed) the shipped file scores the test accuracy
its header and card state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import read_table, read_tensors, write_file
from ganinv.nets.fmnist_classifier import (
    CLASSIFIER_FORMAT,
    FmnistClassifier,
    load_classifier,
    save_classifier,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "registry" / "assets" / "demo_fmnist_classifier.safetensors"
CONFIG = {"width": 2, "num_classes": 3, "resolution": 16}


@pytest.fixture()
def saved(tmp_path: Path) -> tuple[Path, FmnistClassifier]:
    torch.manual_seed(0)
    network = FmnistClassifier(**CONFIG)
    path = save_classifier(tmp_path / "c.safetensors", network, CONFIG, ["a", "b", "c"], {"x": 1})
    return path, network


def test_round_trip_gives_the_same_predictions(saved) -> None:
    path, network = saved
    loaded = load_classifier(path)
    images = torch.rand(5, 3, 16, 16) * 2 - 1
    assert torch.equal(loaded.network(images), network(images))
    assert loaded.class_names == ["a", "b", "c"] and loaded.info == {"x": 1}
    assert torch.equal(loaded.predict(images), network(images).argmax(1))
    # Colour is averaged: a grey image repeated to RGB equals its one-channel mean.
    assert torch.equal(
        loaded.network(images.mean(1, keepdim=True).expand(-1, 3, -1, -1)), loaded.network(images)
    )


def _rewrite(path: Path, out: Path, header: dict | None = None, drop: str | None = None) -> Path:
    old_header, _ = read_table(path)
    tensors = {k: v for k, v in read_tensors(path).items() if k != drop}
    return write_file(out, tensors, {**old_header, **(header or {})})


@pytest.mark.parametrize(
    "header, drop, message",
    [
        ({"format": "ganinv-direction"}, None, "is not a ganinv classifier"),
        ({"config": json.dumps({**CONFIG, "width": 10**9})}, None, r"width"),
        ({"config": json.dumps({**CONFIG, "resolution": 24})}, None, r"resolution"),
        ({"config": json.dumps({**CONFIG, "import": "os"})}, None, r"unknown keys \['import'\]"),
        ({"config": "[1, 2"}, None, "'config' is not valid JSON"),
        ({"class_names": json.dumps(["a", "b"])}, None, "must list 3 strings"),
        ({"info": json.dumps([1])}, None, "'info' must be a JSON dict"),
        ({}, "head.bias", "does not match"),
        ({"config": json.dumps({**CONFIG, "width": 4})}, None, "does not match"),
    ],
)
def test_a_hostile_file_is_one_error_line(saved, tmp_path, header, drop, message) -> None:
    path, _ = saved
    bad = _rewrite(path, tmp_path / "bad.safetensors", header, drop)
    with pytest.raises(GanInvError, match=message) as info:
        load_classifier(bad)
    assert "\n" not in str(info.value)


def test_wrong_image_size_is_refused(saved) -> None:
    path, _ = saved
    with pytest.raises(GanInvError, match=r"takes \[B, C, 16, 16\] images"):
        load_classifier(path).network(torch.zeros(1, 3, 32, 32))


def test_format_name_is_the_documented_one(saved) -> None:
    header, _ = read_table(saved[0])
    assert header["format"] == CLASSIFIER_FORMAT == "ganinv-classifier"


@pytest.mark.slow  # 10,000 test images through the classifier: ~30 s on 2 idle cores
@pytest.mark.skipif(not SHIPPED.is_file(), reason="the shipped classifier is not in this checkout")
def test_shipped_classifier_scores_its_recorded_test_accuracy() -> None:
    from ganinv.harness.data import build_dataset, image_of

    try:
        dataset = build_dataset({"name": "fashion_mnist", "split": "test"})
    except GanInvError:
        pytest.skip("Fashion-MNIST is not installed (dataset-fashion-mnist)")
    classifier = load_classifier(SHIPPED)
    images = torch.stack([image_of(dataset[i]) for i in range(len(dataset))])
    predicted = torch.cat([classifier.predict(images[i : i + 1000]) for i in range(0, 10000, 1000)])
    accuracy = float((predicted.numpy() == np.asarray(dataset.labels)).mean())
    assert classifier.info["test_images"] == len(dataset) == 10000
    assert accuracy == pytest.approx(classifier.info["test_accuracy"], abs=1e-4)
    assert accuracy > 0.85  # a judge that is mostly right (measured 0.9+ when trained)
