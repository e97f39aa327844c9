import numpy as np
import pytest
import torch
import torch.nn.functional as F
from metrics_helpers import load_example

from ganinv.core.registry import METRICS
from ganinv.metrics.ssim import ms_ssim_scales


def _pairs(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    ref, p0, p1 = (load_example(n) for n in ("ex_ref", "ex_p0", "ex_p1"))
    real, fake = torch.cat([ref, ref, p0]), torch.cat([p0, p1, p1])
    if size != 64:
        real = F.interpolate(real, size=(size, size), mode="bicubic", align_corners=False)
        fake = F.interpolate(fake, size=(size, size), mode="bicubic", align_corners=False)
    return real.clamp(-1, 1), fake.clamp(-1, 1)


# Measured max abs differences (docs/metrics.md): scikit-image (float64) 9e-15 at 64 px;
# pytorch-msssim (float32) SSIM 5.8e-6 (64, 199, 256 px), MS-SSIM 3.2e-5 (199, 256 px).
TOL_SKIMAGE = 1e-9
TOL_SSIM_PYTORCH_MSSSIM = 1e-5
TOL_MS_SSIM = 5e-5


def test_ssim_matches_scikit_image():
    import skimage.metrics as skimage_metrics  # test extra: must not skip

    real, fake = _pairs(64)
    metric = METRICS.build("ssim")
    metric.update(real, fake)
    expected = [
        skimage_metrics.structural_similarity(
            ((r + 1) / 2).permute(1, 2, 0).double().numpy(),
            ((f + 1) / 2).permute(1, 2, 0).double().numpy(),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=2,
        )
        for r, f in zip(real, fake)
    ]
    assert metric.compute().value == pytest.approx(np.mean(expected), abs=TOL_SKIMAGE)


@pytest.mark.parametrize("size", [64, 256, 199])
def test_ssim_matches_pytorch_msssim_ssim(size):
    import pytorch_msssim  # test extra: must not skip

    real, fake = _pairs(size)
    metric = METRICS.build("ssim")
    metric.update(real, fake)
    expected = pytorch_msssim.ssim(
        (real + 1) / 2, (fake + 1) / 2, data_range=1.0, size_average=False
    )
    value = metric.compute().value
    assert value == pytest.approx(expected.double().mean().item(), abs=TOL_SSIM_PYTORCH_MSSSIM)
    assert 0.2 < value < 0.9  # the pairs differ: not a trivial 1.0


@pytest.mark.parametrize("size", [256, 199])
def test_ms_ssim_matches_pytorch_msssim(size):
    import pytorch_msssim  # test extra: must not skip

    real, fake = _pairs(size)
    metric = METRICS.build("ms_ssim")
    metric.update(real, fake)
    result = metric.compute()
    expected = pytorch_msssim.ms_ssim(
        (real + 1) / 2, (fake + 1) / 2, data_range=1.0, size_average=False
    )
    assert result.value == pytest.approx(expected.double().mean().item(), abs=TOL_MS_SSIM)
    assert result.protocol["scales"] == 5


def test_ms_ssim_small_images_use_fewer_scales():
    assert ms_ssim_scales(256, 256) == 5
    assert ms_ssim_scales(64, 64) == 3  # 64, 32, 16 (8 < window 11)
    assert ms_ssim_scales(32, 32) == 2
    real, fake = _pairs(64)
    metric = METRICS.build("ms_ssim")
    metric.update(real, fake)
    result = metric.compute()
    assert result.protocol["scales"] == 3
    assert sum(result.protocol["weights"]) == pytest.approx(1.0, abs=1e-5)
    metric.reset()
    metric.update(real, real)
    assert metric.compute().value == pytest.approx(1.0, abs=1e-9)
