import math

import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.registry import METRICS


def _images(seed: int, n: int = 5) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 16, 16, generator=g) * 2 - 1


def test_mse_is_per_image_mean_on_minus_one_one():
    real, fake = _images(0), _images(1)
    metric = METRICS.build("mse")
    metric.update(real[:2], fake[:2])  # unequal batches: still a per-image average
    metric.update(real[2:], fake[2:])
    expected = ((fake.double() - real.double()) ** 2).mean(dim=(1, 2, 3)).mean().item()
    assert metric.compute().value == pytest.approx(expected, rel=1e-12)


def test_psnr_on_unit_range_per_image():
    real, fake = _images(2), _images(3)
    metric = METRICS.build("psnr")
    metric.update(real, fake)
    per_image = [
        10 * math.log10(1 / (((f.double() - r.double()) / 2) ** 2).mean().item())
        for r, f in zip(real, fake)
    ]
    result = metric.compute()
    assert result.value == pytest.approx(sum(per_image) / len(per_image), rel=1e-12)
    assert result.protocol["max"] == 1.0 and result.higher_is_better


def test_state_sums_across_processes():
    real, fake = _images(4, 6), _images(5, 6)
    whole, part_a, part_b = (METRICS.build("psnr") for _ in range(3))
    whole.update(real, fake)
    part_a.update(real[:4], fake[:4])
    part_b.update(real[4:], fake[4:])
    summed = {k: part_a.state()[k] + part_b.state()[k] for k in part_a.state()}
    part_a.load_state(summed)
    assert part_a.compute().value == pytest.approx(whole.compute().value, rel=1e-12)


def test_shape_mismatch_and_empty_are_user_errors():
    metric = METRICS.build("mse")
    with pytest.raises(GanInvError, match="same shape"):
        metric.update(_images(0), _images(1)[:, :, :8])
    with pytest.raises(GanInvError, match="no images"):
        metric.compute()


def test_timing_records():
    spi = METRICS.build("seconds_per_image", device="cpu")
    spi.record(2.0, 4)
    spi.record(1.0, 2)
    assert spi.compute().value == pytest.approx(0.5)
    peak = METRICS.build("peak_memory")
    peak.record(2**20)
    peak.record(3 * 2**20)
    assert peak.compute().value == pytest.approx(3.0)
