"""Shared by the demo tests: the repository root and the Fashion-MNIST guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganinv.data.idx import FashionMnistDataset

ROOT = Path(__file__).resolve().parents[2]
has_fashion_mnist = pytest.mark.skipif(
    not (Path(FashionMnistDataset.DEFAULT_PATH) / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)
