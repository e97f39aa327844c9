"""Tables (best marking, formats), the SVG plot, error maps and the HTML report in Chromium."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganinv.harness.grids import error_map
from ganinv.harness.report import render_report
from ganinv.harness.svg_plot import scatter_svg
from ganinv.harness.tables import BenchTable

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot_report.py"


def _result(label, mse, psnr, seconds, kind="torch.cuda.max_memory_allocated during inversion"):
    return {
        "label": label,
        "metrics": {
            "mse": {"value": mse, "higher_is_better": False, "protocol": {"range": "[-1, 1]"}},
            "psnr": {"value": psnr, "higher_is_better": True, "protocol": {"max": 1.0}},
        },
        "seconds_per_image": seconds,
        "peak_memory": {"bytes": int(seconds * 2**30), "kind": kind},
        "protocol": {"timing": "inversion only"},
    }


def _table(kind="torch.cuda.max_memory_allocated during inversion"):
    return BenchTable.from_results(
        [
            _result("A_method", 0.02, 18.0, 0.5, kind),
            _result("B & co", 0.03, 21.0, 0.01, kind),
        ]
    )


def test_best_respects_direction_in_every_format():
    table = _table()
    md = table.to_markdown()
    assert "**0.0200**" in md and "**21.0000**" in md and "**0.01**" in md
    assert "| A_method | **0.0200** | 18.0000 |" in md
    tex = table.to_latex()
    assert r"A\_method" in tex and r"B \& co" in tex and r"\textbf{21.0000}" in tex
    assert r"psnr$\uparrow$" in tex and r"mse$\downarrow$" in tex
    data = json.loads(table.to_json())
    assert data["rows"][0]["best"] == {
        "mse": True,
        "psnr": False,
        "seconds_per_image": False,
        "peak_memory_mib": False,
    }
    csv_lines = table.to_csv().splitlines()
    assert csv_lines[0] == "method,mse,psnr,seconds_per_image,peak_memory_mib,best_in"
    assert csv_lines[2].endswith("psnr;seconds_per_image;peak_memory_mib")
    assert "[1] mse: range=[-1, 1]" in md and "[2] psnr: max=1.0" in md


def test_cpu_memory_is_shown_but_not_ranked():
    table = _table(kind="process peak resident memory (ru_maxrss; includes loading)")
    data = json.loads(table.to_json())
    assert not any(r["best"]["peak_memory_mib"] for r in data["rows"])
    assert data["rows"][0]["values"]["peak_memory_mib"] == pytest.approx(512)


def test_missing_values_are_dashes_and_never_best():
    results = [_result("a", 0.1, 10.0, 1.0), _result("b", 0.2, 12.0, 2.0)]
    del results[1]["metrics"]["mse"]
    table = BenchTable.from_results(results)
    assert "| b | – |" in table.to_markdown()
    assert table.to_csv().splitlines()[2].startswith("b,,")


def test_scatter_svg_places_points_by_value():
    svg = scatter_svg([("fast", 0.01, 0.3), ("slow", 1.0, 0.1)], "s/img", "mse")
    # Method 1 is a circle, method 2 a square (point + legend each).
    assert svg.startswith("<svg") and svg.count("<circle") == 2 and svg.count("<rect") == 3
    fast = float(svg.split('data-method="fast"')[1].split('cx="')[1].split('"')[0])
    slow_x = float(svg.split('data-method="slow"')[1].split('<rect x="')[1].split('"')[0])
    assert fast < slow_x  # the faster method is further left (log x)


def test_error_map_is_black_for_zero_and_white_when_saturated():
    real = torch.zeros(1, 3, 2, 2)
    fake = real.clone()
    fake[0, :, 0, 0] = 1.0
    m = error_map(real, fake)
    assert m.shape == (1, 2, 2, 3) and m.dtype == np.uint8
    assert m[0, 1, 1].tolist() == [0, 0, 0] and m[0, 0, 0].tolist() == [255, 255, 255]


def _load_script():
    spec = importlib.util.spec_from_file_location("screenshot_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_renders_in_headless_chromium(tmp_path):
    shot = _load_script()
    if shot.find_browser() is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium); report not rendered")
    # Pure red inputs and pure blue reconstructions: easy to find in the screenshot.
    inputs = torch.zeros(2, 3, 16, 16)
    inputs[:, 0] = 1.0
    inputs[:, 1:] = -1.0
    recon = -torch.ones(2, 3, 16, 16)
    recon[:, 2] = 1.0
    html = render_report("report test", _table(), inputs, {"A_method": recon}, {"device": "cpu"})
    report = tmp_path / "report.html"
    report.write_text(html, encoding="utf-8")
    png = shot.screenshot(report, tmp_path / "report.png", width=1000, height=1200)
    image = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert image.shape == (1200, 1000, 3)

    def count(rgb, tol=12):
        return int((np.abs(image - np.array(rgb)).max(axis=-1) <= tol).sum())

    assert count((231, 245, 231)) > 500  # the table's highlighted best cells
    assert count((255, 0, 0)) > 2 * 70 * 70  # the input tiles (80 px each, in the grid)
    assert count((0, 0, 255)) > 2 * 70 * 70  # the reconstruction tiles
