"""The report's figures and layout: markers, axes, grid order, wrapped titles, and a 15-method
report measured in headless Chromium at 1400 px (DOM measurements dumped with --dump-dom)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from ganinv.harness.grids import _font, comparison_grid, label_figure, wrap_title
from ganinv.harness.report import render_report
from ganinv.harness.svg_plot import marker_style, nice_ticks, scatter_svg
from ganinv.harness.tables import BenchTable

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot_report.py"
LABELS = [
    "W optimisation",
    "W+ optimisation",
    "PadInv space + optimisation",
    "W encoder",
    "pSp",
    "e4e",
    "PadInv (released parametrisation)",
    "PadInv (residual maps)",
    "PadInv (residual maps, pSp's losses)",
    "IDInvert encoder",
    "SDIC (on e4e)",
    "Latent-map (VGG16 features)",
    "pSp + refinement",
    "PadInv (residual maps, pSp's losses) + refinement",
    "IDInvert encoder + in-domain optimisation",
]


def test_markers_differ_for_fifty_methods_and_neighbours_differ_in_both():
    styles = [marker_style(i) for i in range(50)]
    assert len(set(styles)) == 50
    for a, b in zip(styles, styles[1:]):
        assert a[0] != b[0] and a[1] != b[1]


def test_axes_never_go_negative_for_non_negative_values_and_ticks_are_round():
    svg = scatter_svg([("a", 0.01, 0.001), ("b", 3.0, 0.5)], "s/img", "mse")
    y_ticks = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert y_ticks and all(float(t) >= 0 for t in y_ticks)
    assert y_ticks == ["0", "0.1", "0.2", "0.3", "0.4", "0.5"]
    x_ticks = re.findall(r'text-anchor="middle">([^<]+)</text>', svg)
    assert x_ticks[:3] == ["0.01", "0.1", "1"]  # decades on the log time axis
    # A signed quantity keeps its negative range.
    assert -1.0 in nice_ticks(-1.2, 2.0)


def test_every_method_has_a_numbered_legend_entry_and_point():
    points = [(label, 10 ** (i / 5 - 2), i / 10) for i, label in enumerate(LABELS)]
    svg = scatter_svg(points, "s/img", "mse")
    for i, label in enumerate(LABELS, 1):
        escaped = label.replace("'", "&#x27;")
        assert f'class="legend">{i}. {escaped}</text>' in svg
        assert f'data-method="{escaped}"' in svg
    assert svg.count('<g class="point"') == len(LABELS)


def test_grid_png_puts_each_error_map_beside_its_reconstruction():
    inputs = torch.zeros(1, 3, 4, 4)
    recons = {"first": torch.full((1, 3, 4, 4), 1.0), "second": torch.full((1, 3, 4, 4), -1.0)}
    image = comparison_grid(inputs, recons, tile=20, pad=4)
    row = image[-10]  # through the middle of the last (only) tile row
    # input grey, first recon white, its error map (0.5 = saturated) white, second recon black
    # and its error map white: the order is input | first, err first | second, err second.
    x = [4 + 10, 4 + 20 + 12 + 10, 4 + 20 + 12 + 24 + 10, 4 + 2 * (20 + 12) + 24 + 10]
    assert row[x[0]].tolist() == [128, 128, 128]
    assert row[x[1]].tolist() == [255, 255, 255] and row[x[2]].tolist() == [255, 255, 255]
    assert row[x[3]].tolist() == [0, 0, 0]


def test_long_titles_wrap_and_are_never_cut():
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    font = _font()
    for label in LABELS + ["a_very_long_single_word_label_without_any_space_at_all"]:
        lines = wrap_title(label, 120, font, draw)
        assert "".join(lines).replace(" ", "") == label.replace(" ", "")
        assert all(draw.textlength(line, font=font) <= 120 for line in lines)


# -- the whole report in Chromium --------------------------------------------------------------


def _load_script():
    spec = importlib.util.spec_from_file_location("screenshot_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    results = []
    for label in LABELS:
        u = torch.rand(3, generator=g).tolist()
        results.append(
            {
                "label": label,
                "seconds_per_image": 10 ** (-2.5 + 3 * u[0]),
                "peak_memory": {"bytes": 2**30, "kind": "cpu ru_maxrss"},
                "protocol": {"timing": "wall"},
                "metrics": {
                    "mse": {"value": 0.005 + 0.05 * u[1], "std": 0.01, "higher_is_better": False},
                    "psnr": {"value": 17 + 8 * u[2], "std": 2.0, "higher_is_better": True},
                    # More columns than fit in 1400 px with their spread: the table must scroll
                    # inside its box, not widen the page.
                    **{
                        f"metric_with_a_long_name_{k}": {
                            "value": 123.456,
                            "std": 12.345,
                            "higher_is_better": False,
                        }
                        for k in range(8)
                    },
                },
            }
        )
    inputs = torch.zeros(3, 3, 32, 32)
    inputs[:, 0] = 1.0  # pure red inputs
    recons = {label: torch.zeros(3, 3, 32, 32) for label in LABELS}
    html = render_report("layout", BenchTable.from_results(results), inputs, recons, {"d": "cpu"})
    path.write_text(html.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")


# Runs after the report's own script: scrolls the grid to its right end, picks the second metric,
# clicks an image, and writes what it measured into the DOM for --dump-dom.
_MEASURE = """<script>
(function () {
  var out = {};
  var de = document.documentElement;
  out.pageWidth = de.scrollWidth;
  out.viewport = window.innerWidth;
  out.legend = Array.from(document.querySelectorAll(".plot svg text.legend"))
    .filter(function (t) { return t.getBoundingClientRect().width > 0; })
    .map(function (t) { return t.textContent; });
  out.titles = Array.from(document.querySelectorAll("table.grid th.method")).map(function (th) {
    var range = document.createRange();
    range.selectNodeContents(th);
    return {text: th.textContent, cut: th.scrollWidth > th.clientWidth + 1,
            lines: range.getClientRects().length};
  });
  var box = document.querySelector(".grid-scroll");
  var input = document.querySelector("table.grid td.sticky");
  out.boxLeft = box.getBoundingClientRect().left;
  out.boxScrollable = box.scrollWidth > box.clientWidth;
  box.scrollLeft = box.scrollWidth;
  out.inputLeftAfterScroll = input.getBoundingClientRect().left;
  var cells = document.querySelectorAll("table.grid tr:nth-child(3) td");
  var last = cells[cells.length - 1].getBoundingClientRect();
  out.lastErrorRight = last.right;
  out.boxRight = box.getBoundingClientRect().right;
  var recon = cells[1].getBoundingClientRect(), err = cells[2].getBoundingClientRect();
  out.pairGap = err.left - recon.right;
  out.pairSameRow = recon.top === err.top;
  function shown() {
    return Array.from(document.querySelectorAll("div.plot"))
      .filter(function (p) { return p.offsetParent !== null; })
      .map(function (p) { return p.dataset.metric; });
  }
  out.plotsBefore = shown();
  document.querySelector("label[for=metric-1]").click();
  out.plotsAfter = shown();
  cells[1].querySelector("img").click();
  var zoom = document.getElementById("zoom");
  out.zoomOpen = getComputedStyle(zoom).display;
  out.zoomWidth = zoom.querySelector("img").getBoundingClientRect().width;
  out.zoomCaption = zoom.querySelector("p").textContent;
  var pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def _dump_dom(shot, browser: str, page: Path, width: int, height: int) -> str:
    with tempfile.TemporaryDirectory(prefix="ganinv-chromium-") as profile:
        command = [
            *shot.browser_command(browser, profile, width, height),
            "--dump-dom",
            page.resolve().as_uri(),
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=120).stdout


def test_fifteen_method_report_layout_at_1400_px(tmp_path):
    shot = _load_script()
    browser = shot.find_browser()
    if browser is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium); report not rendered")
    page = tmp_path / "report.html"
    _report(page)
    dom = _dump_dom(shot, browser, page, 1400, 1000)
    found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    m = json.loads(found.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    assert m["viewport"] == 1400
    assert m["pageWidth"] <= 1400  # the page never scrolls sideways; the grid box does
    assert m["boxScrollable"]
    # Every method in the visible plot's legend, numbered in table order.
    assert m["legend"] == [f"{i}. {label}" for i, label in enumerate(LABELS, 1)]
    # Titles complete: every method named, none clipped, the long ones wrapped onto more lines.
    assert [t["text"] for t in m["titles"]] == LABELS
    assert not any(t["cut"] for t in m["titles"])
    lines = {t["text"]: t["lines"] for t in m["titles"]}
    assert lines["pSp"] == 1 and lines["PadInv (residual maps, pSp's losses) + refinement"] >= 2
    # After scrolling the grid to its right end the input column is still at the box's left
    # edge, and the last error map is inside the box.
    assert abs(m["inputLeftAfterScroll"] - m["boxLeft"]) <= 3
    assert m["lastErrorRight"] <= m["boxRight"] + 1
    # A method's error map sits right beside its reconstruction.
    assert m["pairSameRow"] and 0 <= m["pairGap"] <= 8
    # One plot shown at a time; the picker switches it.
    assert m["plotsBefore"] == ["mse"] and m["plotsAfter"] == ["psnr"]
    # A click enlarges the image with its caption.
    assert m["zoomOpen"] == "flex" and m["zoomWidth"] >= 600
    assert m["zoomCaption"] == "W optimisation, image 1"


def test_label_figure_keeps_the_image_and_writes_a_label_beside_every_row():
    image = np.full((90, 60, 3), 200, np.uint8)
    out = label_figure(image, ["first", "second", "third"], title="a title", label_width=80)
    top = out.shape[0] - 90
    assert top > 0 and out.shape[1] == 60 + 88
    assert (out[top:, 88:] == image).all()  # the figure itself is untouched
    margin = out[top:, :88].min(axis=-1)
    for row in range(3):  # dark label pixels in each row's band of the left margin
        assert (margin[row * 30 : (row + 1) * 30] < 100).sum() > 10
    assert (out[:top].min(axis=-1) < 100).sum() > 10  # the title
