"""Statements of docs/metrics.md not covered by the per-metric test files."""

import numpy as np
import pytest
import torch

from ganinv.core.registry import METRICS
from ganinv.metrics.feature_stats import frechet_distance
from ganinv.metrics.inception_features import extract


def _covariances(rank: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(rank, 16))
    x = rng.normal(size=(200, rank)) @ basis
    y = (rng.normal(size=(200, rank)) * 1.3 + 0.2) @ basis
    return x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False)


@pytest.mark.parametrize("rank", [16, 4, 0])  # full, rank-deficient, zero covariances
def test_frechet_distance_equals_pytorch_fid(rank):
    from pytorch_fid.fid_score import calculate_frechet_distance  # test extra: must not skip

    mu1, s1, mu2, s2 = _covariances(max(rank, 1), rank)
    if rank == 0:
        s1, s2 = np.zeros_like(s1), np.zeros_like(s2)
    expected = calculate_frechet_distance(mu1, s1, mu2, s2)
    # measured difference 0.0 in all three cases
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_fid_quantize_rounds_to_8bit_levels_and_is_recorded():
    images = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0)) * 2 - 1
    flat = torch.nn.Flatten()
    levels = torch.round((images + 1) * 127.5) / 127.5 - 1
    assert torch.equal(extract(flat, images, quantize=True), flat(levels))
    assert torch.equal(extract(flat, images, quantize=False), flat(images))
    metric = METRICS.build("fid", feature_extractor=flat, feature_dim=48, quantize=True)
    assert metric.protocol()["quantize_uint8"] is True


def test_psnr_of_identical_images_is_floored_at_100_db():
    images = torch.rand(3, 3, 8, 8) * 2 - 1
    metric = METRICS.build("psnr")
    metric.update(images, images.clone())
    assert metric.compute().value == pytest.approx(100.0, abs=1e-9)


def test_kid_defaults_are_stylegan2_ada_and_a_10000_reservoir():
    metric = METRICS.build("kid", feature_extractor=torch.nn.Identity())
    assert (metric.num_subsets, metric.subset_size, metric.max_features) == (100, 1000, 10_000)


def test_mse_is_four_times_the_unit_range_value():
    g = torch.Generator().manual_seed(1)
    real, fake = (torch.rand(4, 3, 8, 8, generator=g) * 2 - 1 for _ in range(2))
    metric = METRICS.build("mse")
    metric.update(real, fake)
    unit = (((fake.double() + 1) / 2 - (real.double() + 1) / 2) ** 2).mean().item()
    assert metric.compute().value == pytest.approx(4 * unit, rel=1e-12)


class _Capture(torch.nn.Module):
    """Stands in for an identity backbone: records its input, returns a fixed embedding."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = x
        return torch.ones(x.shape[0], 512)


def test_identity_networks_preprocess_as_documented():
    import torch.nn.functional as F

    from ganinv.nets.face_id import ArcFaceIdentity, FaceNetIdentity

    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(2)) * 2 - 1
    arcface = ArcFaceIdentity()
    arcface.net = _Capture()
    arcface(images)
    at_256 = F.interpolate(images, size=(256, 256), mode="bilinear", align_corners=False)
    expected = F.adaptive_avg_pool2d(at_256[:, :, 35:223, 32:220], (112, 112))
    torch.testing.assert_close(arcface.net.seen, expected, rtol=0, atol=1e-6)

    pytest.importorskip("facenet_pytorch")  # optional: FaceNet's architecture comes from it
    facenet = FaceNetIdentity()
    facenet.net = _Capture()
    embedding = facenet(images)
    at_160 = F.interpolate(images, size=(160, 160), mode="bilinear", align_corners=False)
    # facenet-pytorch's (x_255 - 127.5) / 128 with x_255 = (x + 1) * 127.5
    torch.testing.assert_close(
        facenet.net.seen, ((at_160 + 1) * 127.5 - 127.5) / 128, atol=1e-6, rtol=0
    )
    torch.testing.assert_close(embedding.norm(dim=1), torch.ones(2))
