"""Per-image spread: a metric's standard deviation and the tables printing it beside the mean."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganinv.harness.report import table_html
from ganinv.harness.tables import BenchTable
from ganinv.metrics.mse import MSEMetric


def _pairs(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    real = torch.rand(n, 3, 8, 8, generator=g) * 2 - 1
    # Per-image noise levels that differ, so the per-image MSEs have a real spread.
    scale = torch.linspace(0.05, 0.6, n).view(n, 1, 1, 1)
    return real, real + scale * torch.randn(n, 3, 8, 8, generator=g)


def test_per_image_std_matches_numpy_and_survives_summed_states():
    real, fake = _pairs(0, 10)
    expected = ((real - fake) ** 2).mean(dim=(1, 2, 3)).double().numpy()
    whole = MSEMetric()
    whole.update(real, fake)
    result = whole.compute()
    assert result.value == pytest.approx(expected.mean(), rel=1e-6)
    assert result.std == pytest.approx(expected.std(ddof=1), rel=1e-6)
    assert result.as_dict()["std"] == result.std
    # Two processes' states added together (what the all-reduce does) give the same spread.
    a, b = MSEMetric(), MSEMetric()
    a.update(real[:3], fake[:3])
    b.update(real[3:], fake[3:])
    a.load_state({k: v + b.state()[k] for k, v in a.state().items()})
    assert a.compute().std == pytest.approx(expected.std(ddof=1), rel=1e-6)


def test_one_image_or_an_old_state_has_no_spread():
    real, fake = _pairs(1, 1)
    metric = MSEMetric()
    metric.update(real, fake)
    assert metric.compute().std is None and "std" not in metric.compute().as_dict()
    old = {k: v for k, v in metric.state().items() if k != "sum_sq"}
    old["count"] = torch.tensor(5.0, dtype=torch.float64)
    metric.load_state(old)  # a state saved before the squares were kept
    assert metric.compute().std is None


def _table() -> BenchTable:
    def result(label, value, std):
        metric = {"value": value, "higher_is_better": False, "protocol": {"images": 16}}
        if std is not None:
            metric["std"] = std
        return {
            "label": label,
            "metrics": {"mse": metric},
            "seconds_per_image": 0.1,
            "peak_memory": {"bytes": 2**20, "kind": "cuda"},
            "protocol": {"timing": "wall"},
        }

    return BenchTable.from_results([result("a", 0.02, 0.005), result("b_old", 0.03, None)])


def test_every_format_prints_the_spread_and_explains_it():
    table = _table()
    md = table.to_markdown()
    assert "| a | **0.0200** ± 0.0050 |" in md and "| b_old | 0.0300 |" in md
    assert "95% interval of the mean is mean ± 1.96·std/√images" in md
    lines = table.to_csv().splitlines()
    assert lines[0] == "method,mse,seconds_per_image,peak_memory_mib,mse_std,best_in"
    assert lines[1].split(",")[4] == "0.005" and lines[2].split(",")[4] == ""
    rows = json.loads(table.to_json())["rows"]
    assert rows[0]["std"] == {"mse": 0.005} and "std" not in rows[1]
    assert r"\textbf{0.0200} {\scriptsize$\pm$0.0050}" in table.to_latex()
    html = table_html(table)
    assert '0.0200 <span class="sd">± 0.0050</span></td>' in html
    assert html.count('class="sd"') == 1  # the old record shows its mean alone


def test_a_table_without_spread_has_no_spread_note():
    table = _table()
    table.spread = {}
    assert "±" not in table.to_markdown() and "_std" not in table.to_csv()
    assert np.isclose(table.rows[0][1]["mse"], 0.02)
