"""The shipped demo ReStyle encoders improve with inference steps on held-out test images, as the
ReStyle table reports (configs/restyle/demo_restyle_bench.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganinv.data.idx import FashionMnistDataset
from ganinv.harness.configs import load_method
from ganinv.harness.data import build_dataset, image_of
from ganinv.harness.method import build_method

ASSETS = Path(__file__).resolve().parents[2] / "registry" / "assets"


@pytest.mark.slow
@pytest.mark.skipif(
    not (Path(FashionMnistDataset.DEFAULT_PATH) / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)
@pytest.mark.parametrize("name", ["restyle_psp", "restyle_e4e"])
def test_shipped_restyle_improves_from_one_to_three_steps(name):
    dataset = build_dataset({"name": "fashion_mnist", "split": "test", "limit": 64})
    images = torch.stack([image_of(dataset[i]) for i in range(len(dataset))])
    method = build_method(load_method(str(ASSETS / f"demo_{name}.safetensors")), "cpu")
    encoder = method.encoder
    with torch.no_grad():
        codes = encoder.iterate(images, 3)
        mse = [float((method.space.render(c) - images).square().mean()) for c in codes]
    # measured on 256 images: 0.095 -> 0.066 -> 0.062 (pSp), 0.111 -> 0.085 -> 0.078 (e4e)
    assert mse[2] < mse[0] * 0.85, mse
    assert mse[1] < mse[0], mse
