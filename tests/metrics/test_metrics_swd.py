from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage
import torch

from ganinv.metrics.swd import SWDMetric, laplacian_pyramid

DATA = Path(__file__).resolve().parents[1] / "data" / "swd" / "fashion_mnist_1024_28px.npz"
# ProGAN's values over twenty seeds (tests/data/swd/README.md): (mean, std) per 32 / 16 / average
REFERENCE = {
    ("A", "A"): ((5.26, 0.33), (3.92, 0.38), (4.59, 0.30)),
    ("A", "B"): ((8.52, 0.58), (12.28, 0.64), (10.40, 0.47)),
    ("A", "C"): ((36.17, 0.93), (11.11, 0.34), (23.64, 0.53)),
}


def _sets() -> dict[str, np.ndarray]:
    raw = np.load(DATA)
    sets = {}
    for key in ("A", "B"):
        padded = np.zeros((raw[key].shape[0], 3, 32, 32), np.uint8)
        padded[:, :, 2:30, 2:30] = raw[key][:, None]
        sets[key] = padded
    t = sets["A"].astype(np.float32)
    blocky = t[:, :, 0::2, 0::2] + t[:, :, 0::2, 1::2] + t[:, :, 1::2, 0::2] + t[:, :, 1::2, 1::2]
    blocky = np.round(blocky * 0.25).clip(0, 255).astype(np.uint8)
    sets["C"] = blocky.repeat(2, axis=2).repeat(2, axis=3)
    return sets


def test_laplacian_pyramid_matches_progan_scipy_version():
    gaussian = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype(np.float32) / 256.0
    images = np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32)).astype(np.float32)

    def down(x):
        return scipy.ndimage.convolve(x, gaussian[None, None], mode="mirror")[:, :, ::2, ::2]

    def up(x):
        res = np.zeros((x.shape[0], x.shape[1], x.shape[2] * 2, x.shape[3] * 2), x.dtype)
        res[:, :, ::2, ::2] = x
        return scipy.ndimage.convolve(res, gaussian[None, None] * 4.0, mode="mirror")

    expected = [images]
    expected.append(down(expected[-1]))
    expected[-2] = expected[-2] - up(expected[-1])
    ours = laplacian_pyramid(torch.from_numpy(images), 2)
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a.numpy(), b, atol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("pair", sorted(REFERENCE))
def test_swd_lands_in_progan_spread(pair):
    sets = _sets()
    real = torch.from_numpy(sets[pair[0]]).float() / 127.5 - 1
    fake = torch.from_numpy(sets[pair[1]]).float() / 127.5 - 1
    metric = SWDMetric(max_descriptors=1024 * 128, seed=0)
    for i in range(0, 1024, 256):  # minibatches of 256, as the reference run
        metric.update(real[i : i + 256], fake[i : i + 256])
    result = metric.compute()
    levels = result.protocol["per_level_x1e3"]
    assert result.protocol["levels"] == [32, 16] and result.protocol["descriptors"] == "all"
    for value, (mean, std) in zip((levels[32], levels[16], result.value), REFERENCE[pair]):
        assert abs(value - mean) <= 3 * std, (pair, value, mean, std)
