"""Every registered metric streams (chunks = all at once) and merges across simulated ranks
(ganinv.testing.check_metric)."""

from __future__ import annotations

import pytest

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.registry import registry
from ganinv.testing import ContractError, check_metric

# Loading these networks takes tens of seconds on a CPU: checked in the slow run.
SLOW = {"lpips_alex", "lpips_vgg"}
# Metrics that sample (random projections, neighbourhood reservoirs) agree within noise only.
SAMPLING_RTOL = {"swd": 0.05}


def params():
    for name in registry("metrics").names():
        marks = [pytest.mark.slow] if name in SLOW else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.mark.parametrize("name", params())
def test_metric_contract(name):
    def make():
        return ganinv.build("metrics", name)

    try:
        make()
    except GanInvError as exc:
        if "weights file" in str(exc):  # a pretrained network this machine does not hold
            pytest.skip(str(exc))
        raise
    check_metric(make, rtol=SAMPLING_RTOL.get(name, 1e-5))


def test_check_metric_catches_a_metric_whose_state_does_not_merge():
    from ganinv.metrics.mse import MSEMetric

    class MeanOfBatches(MSEMetric):
        """Averages batch means: right for one batch, wrong in chunks."""

        name = "mean_of_batches"

        def reset(self):
            self.means = []

        def update(self, real, fake):
            self.means.append(float((real - fake).square().mean()))

        def state(self):
            import torch

            return {"mean": torch.tensor(sum(self.means) / max(len(self.means), 1))}

        def load_state(self, state):
            self.means = [float(state["mean"])]

        def compute(self):
            from ganinv.metrics.base import MetricResult

            return MetricResult(self.name, sum(self.means) / len(self.means))

    import torch

    real = torch.rand(8, 3, 8, 8) * 2 - 1
    fake = real.clone()
    fake[:2] += 0.5  # unequal errors across chunks
    with pytest.raises(ContractError):
        check_metric(MeanOfBatches, real, fake.clamp(-1, 1))
