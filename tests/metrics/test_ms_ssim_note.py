"""An MS-SSIM computed on fewer than five scales says so wherever its value is shown."""

from __future__ import annotations

import torch

from ganinv.metrics.ssim import MSSSIMMetric


def test_fewer_scales_are_named_in_the_protocol_and_the_table_title():
    from ganinv.harness.tables import BenchTable

    torch.manual_seed(0)
    real = torch.rand(2, 3, 32, 32) * 2 - 1
    metric = MSSSIMMetric()
    metric.update(real, (real + 0.1 * torch.randn_like(real)).clamp(-1, 1))
    result = metric.compute()
    assert result.protocol["scales"] == 2 and result.protocol["note"] == "2 of 5 scales"
    record = {
        "label": "m",
        "method": "m",
        "metrics": {"ms_ssim": result.as_dict()},
        "seconds_per_image": 0.1,
        "protocol": {"timing": "t"},
        "peak_memory": {"kind": "cpu", "bytes": 0},
    }
    table = BenchTable.from_results([record])
    assert "ms_ssim (2 of 5 scales)" in table.to_markdown()
    big = MSSSIMMetric()
    images = torch.rand(1, 3, 176, 176) * 2 - 1
    big.update(images, images)
    assert big.compute().protocol["scales"] == 5 and "note" not in big.compute().protocol
