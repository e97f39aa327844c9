import pytest
import torch
from metrics_helpers import load_example

from ganinv.core.registry import METRICS

# refs/lpips/README.md: upstream (alex) and JAX-port-confirmed (vgg) distances
EXPECTED = {"lpips_alex": (0.7219, 0.1376), "lpips_vgg": (0.5686, 0.4217)}
# The published values have 4 decimals (rounding alone: up to 5e-5); measured max abs error 3.6e-5.
TOL = 1e-4


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_lpips_example_distances(offline_cache, name):
    ref, p0, p1 = (load_example(n) for n in ("ex_ref", "ex_p0", "ex_p1"))
    metric = METRICS.build(name)
    d0, d1 = EXPECTED[name]
    metric.update(ref, p0)
    assert metric.compute().value == pytest.approx(d0, abs=TOL)
    metric.reset()
    metric.update(ref, p1)
    assert metric.compute().value == pytest.approx(d1, abs=TOL)
    # per-image average over a batch, and the protocol says what was computed
    metric.reset()
    metric.update(torch.cat([ref, ref]), torch.cat([p0, p1]))
    result = metric.compute()
    assert result.value == pytest.approx((d0 + d1) / 2, abs=TOL)
    assert result.protocol["images"] == 2
    assert "v0.1" in result.protocol["network"]
    assert (offline_cache / "manifest.json").is_file()
