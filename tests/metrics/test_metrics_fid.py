import numpy as np
import pytest
import scipy.linalg
import torch

from ganinv.core.registry import METRICS
from ganinv.metrics.kid import kernel_inception_distance
from ganinv.nets.fid_inception import FIDInception
from ganinv.nets.state_dict import load_strict

DIM = 8


def _gaussian_features(seed: int, n: int = 4000):
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=DIM), rng.normal(size=DIM)
    a1, a2 = rng.normal(size=(DIM, DIM)), rng.normal(size=(DIM, DIM))
    s1, s2 = a1 @ a1.T / DIM + np.eye(DIM), a2 @ a2.T / DIM + np.eye(DIM)
    x = rng.multivariate_normal(mu1, s1, size=n)
    y = rng.multivariate_normal(mu2, s2, size=n)
    return (mu1, s1, mu2, s2), x, y


def _closed_form_fid(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_fid_streaming_statistics_equal_direct_computation():
    params, x, y = _gaussian_features(0)
    metric = METRICS.build("fid", feature_extractor=torch.nn.Identity(), feature_dim=DIM)
    for i in range(0, len(x), 700):  # uneven batches
        metric.update_features(torch.from_numpy(x[i : i + 700]), torch.from_numpy(y[i : i + 700]))
    direct = _closed_form_fid(
        x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False)
    )
    result = metric.compute()
    assert result.value == pytest.approx(direct, rel=1e-12)  # measured 1.8e-15
    # and the sample statistic estimates the population FID
    assert result.value == pytest.approx(_closed_form_fid(*params), rel=0.05)
    assert result.protocol["images"] == len(x)


def test_fid_of_identical_distributions_is_near_zero():
    _, x, _ = _gaussian_features(1)
    metric = METRICS.build("fid", feature_extractor=torch.nn.Identity(), feature_dim=DIM)
    metric.update_features(torch.from_numpy(x), torch.from_numpy(x))
    assert abs(metric.compute().value) < 1e-12  # measured 3.6e-15


def _direct_mmd(x: np.ndarray, y: np.ndarray) -> float:
    # unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3 over all features
    d, m = x.shape[1], x.shape[0]
    kxx, kyy, kxy = ((x @ x.T / d + 1) ** 3), ((y @ y.T / d + 1) ** 3), ((x @ y.T / d + 1) ** 3)
    offdiag = lambda k: (k.sum() - np.trace(k)) / (m * (m - 1))  # noqa: E731
    return float(offdiag(kxx) + offdiag(kyy) - 2 * kxy.mean())


def test_kid_equals_direct_unbiased_mmd():
    _, x, y = _gaussian_features(2, n=300)
    metric = METRICS.build(
        "kid", feature_extractor=torch.nn.Identity(), subset_size=300, num_subsets=3
    )
    metric.update_features(torch.from_numpy(x[:150]), torch.from_numpy(y[:150]))
    metric.update_features(torch.from_numpy(x[150:]), torch.from_numpy(y[150:]))
    # subsets of all 300 features: each subset estimate is the full unbiased MMD^2
    assert metric.compute().value == pytest.approx(_direct_mmd(x, y), rel=1e-4)
    # two samples of one distribution: near zero next to two different distributions
    _, x2, _ = _gaussian_features(2, n=600)
    same, _ = kernel_inception_distance(x2[:300], x2[300:], 5, 300)
    assert abs(same) < 0.05 * _direct_mmd(x, y)


def test_kid_reservoir_is_bounded():
    metric = METRICS.build("kid", feature_extractor=torch.nn.Identity(), max_features=100)
    for seed in range(5):
        g = torch.Generator().manual_seed(seed)
        metric.update_features(torch.randn(64, DIM, generator=g), torch.randn(64, DIM, generator=g))
    assert metric.state()["real_features"].shape == (100, DIM)
    assert metric.protocol()["images"] == 320


def _fid_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in pytorch-fid's key layout (torchvision Inception3, 1008 classes)."""
    import torchvision  # a dependency of ganinv and of pytorch-fid

    reference = torchvision.models.inception_v3(
        weights=None, aux_logits=False, num_classes=1008, init_weights=False
    )
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in reference.state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue  # absent from the 2019 pytorch-fid file
        if key.endswith("running_var"):
            state[key] = torch.rand(value.shape, generator=g) + 0.5
        elif key.endswith("bn.weight"):
            state[key] = torch.rand(value.shape, generator=g) * 0.5 + 0.75
        elif key.endswith("conv.weight"):
            fan_in = value[0].numel()
            state[key] = torch.randn(value.shape, generator=g) / fan_in**0.5
        else:
            state[key] = torch.randn(value.shape, generator=g) * 0.05
    return state


def test_fid_inception_loads_pytorch_fid_layout():
    state = _fid_state_dict()
    model = FIDInception().eval()
    load_strict(model, state, "FID Inception")
    assert model.Mixed_7c.branch3x3dbl_3b.conv.weight.shape == (384, 384, 3, 1)
    with torch.no_grad():
        features = model(torch.rand(2, 3, 64, 64) * 2 - 1)
    assert features.shape == (2, 2048) and torch.isfinite(features).all()


def test_fid_inception_matches_pytorch_fid(monkeypatch):
    """Same random weights in both networks, offline: pytorch-fid's weight download is replaced
    by the state dict. Measured max abs difference 0.0 (features up to 0.41)."""
    import pytorch_fid.inception as inception  # test extra: must not skip

    state = _fid_state_dict(1)
    monkeypatch.setattr(inception, "load_state_dict_from_url", lambda *a, **k: state)
    reference = inception.InceptionV3([3], use_fid_inception=True).eval()
    ours = FIDInception().eval()
    load_strict(ours, state, "FID Inception")
    images = torch.rand(2, 3, 80, 80) * 2 - 1
    with torch.no_grad():
        expected = reference((images + 1) / 2)[0].flatten(1)
        torch.testing.assert_close(ours(images), expected, rtol=0, atol=1e-6)
