"""Fashion-MNIST from the Debian package `dataset-fashion-mnist`, checked against the raw IDX."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.data import build_dataset
from ganinv.data.idx import FashionMnistDataset

ROOT = Path(FashionMnistDataset.DEFAULT_PATH)
FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]
pytestmark = pytest.mark.skipif(
    not all((ROOT / f).is_file() for f in FILES),
    reason=f"Fashion-MNIST IDX files not in {ROOT} (apt-get install dataset-fashion-mnist)",
)


@pytest.fixture(scope="module", autouse=True)
def idx_cache(tmp_path_factory):
    """Decompressed copies go to a temporary cache, not the user's."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GANINV_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


def _raw(name: str, offset: int) -> np.ndarray:
    with gzip.open(ROOT / name, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def test_official_split_counts_shape_range_and_labels():
    train = build_dataset({"name": "fashion_mnist", "split": "train"})
    test = build_dataset({"name": "fashion_mnist", "split": "test"})
    everything = build_dataset("fashion_mnist")
    assert (len(train), len(test), len(everything)) == (60000, 10000, 70000)
    x = test[0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert test.labels.shape == (10000,) and test.labels.dtype == np.int64
    assert np.array_equal(np.bincount(test.labels), np.full(10, 1000))
    assert np.array_equal(np.bincount(train.labels), np.full(10, 6000))
    assert np.array_equal(everything.labels[60000:], test.labels)
    assert test.protocol()["official_split"] and test.protocol()["transform"]["pad"] == 2


def test_pixels_and_labels_equal_the_raw_idx_bytes():
    images = _raw("t10k-images-idx3-ubyte.gz", 16).reshape(10000, 28, 28)
    labels = _raw("t10k-labels-idx1-ubyte.gz", 8)
    picks = [0, 1, 4321, 9999]
    dataset = build_dataset({"name": "fashion_mnist", "split": "test", "indices": picks})
    assert dataset.labels.tolist() == labels[picks].tolist()
    for i, k in enumerate(picks):
        x = dataset[i]
        expected = torch.from_numpy(images[k].astype(np.float32)) / 127.5 - 1
        for channel in range(3):  # gray repeated on R, G, B
            assert torch.allclose(x[channel, 2:30, 2:30], expected, atol=1e-6)
        border = torch.ones(3, 32, 32, dtype=torch.bool)
        border[:, 2:30, 2:30] = False
        assert torch.all(x[border] == -1.0)  # padding is black
    # A few raw pixels spelled out: row 14 of training image 59999.
    train = build_dataset({"name": "fashion_mnist", "split": "train", "pad": 0, "indices": [59999]})
    raw_train = _raw("train-images-idx3-ubyte.gz", 16).reshape(60000, 28, 28)
    assert train.read_uint8(0).shape == (3, 28, 28)
    assert train.read_uint8(0)[0, 14].tolist() == raw_train[59999, 14].tolist()
    assert train.item_name(0) == "train-images-idx3-ubyte.gz#59999"


def test_limit_and_folder_copy(tmp_path: Path):
    first = build_dataset({"name": "fashion_mnist", "split": "test", "limit": 256})
    assert len(first) == 256 and first.labels.shape == (256,)
    copy = tmp_path / "fm"
    copy.mkdir()
    for name in FILES[2:]:  # test files only
        (copy / name).write_bytes((ROOT / name).read_bytes())
    local = build_dataset({"name": "idx", "path": str(copy), "split": "test", "limit": 3})
    assert torch.equal(
        torch.stack([local[i] for i in range(3)]), torch.stack([first[i] for i in range(3)])
    )
    with pytest.raises(GanInvError, match="train-images-idx3-ubyte"):
        build_dataset({"name": "idx", "path": str(copy), "split": "train"})
    with pytest.raises(GanInvError, match="official"):
        build_dataset({"name": "fashion_mnist", "test_fraction": 0.2})


def test_truncated_idx_file_is_reported(tmp_path: Path):
    broken = tmp_path / "broken"
    broken.mkdir()
    raw = gzip.decompress((ROOT / "t10k-images-idx3-ubyte.gz").read_bytes())
    (broken / "t10k-images-idx3-ubyte").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(GanInvError, match="truncated"):
        build_dataset({"name": "idx", "path": str(broken), "split": "test"})


def test_info_and_convert_keep_labels(tmp_path: Path, capsys):
    from ganinv.cli.main import main

    args = ["--split", "test", "--limit", "40"]
    assert main(["data", "info", str(ROOT), "--json", *args]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "idx" and report["count"] == report["readable"] == 40
    assert report["sizes"] == {"28x28": 40} and report["modes"] == {"L": 40}
    assert sum(report["labels"].values()) == 40
    assert main(["data", "convert", str(ROOT), str(tmp_path / "fm.zip"), *args]) == 0
    converted = build_dataset({"name": "zip", "path": str(tmp_path / "fm.zip"), "pad": 2})
    original = build_dataset({"name": "fashion_mnist", "split": "test", "limit": 40})
    assert np.array_equal(converted.labels, original.labels)
    assert torch.equal(converted[39], original[39])  # same pixels, same 2-pixel black pad
