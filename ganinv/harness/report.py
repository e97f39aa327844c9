"""One self-contained static HTML report of a benchmark: table, footnotes, plot, grids, environment.

Everything is inline (images as base64 PNG, the plot as SVG, CSS in a <style> block), so the file
can be mailed or attached to a paper's supplement and opens without network access.
"""

from __future__ import annotations

import base64
import io
import json
from html import escape
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganinv.harness.grids import ERROR_MAP_NOTE, comparison_tiles
from ganinv.harness.svg_plot import scatter_svg
from ganinv.harness.tables import BenchTable

# The tables, plots and grids (also shown inside the studio's Compare tab), then the page.
PARTS_CSS = """
div.table-scroll { overflow-x: auto; max-width: 100%; }
table.results { border-collapse: collapse; font-size: 14px; }
table.results th, table.results td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
table.results td:first-child, table.results th:first-child { text-align: left; }
td.best { font-weight: bold; background: #e7f5e7; }
span.sd { font-size: 11px; color: #666; font-weight: normal; white-space: nowrap; }
ul.notes { font-size: 12px; color: #444; list-style: none; padding-left: 0; }
.metric-pick { margin: 6px 0 10px; font-size: 14px; }
.metric-pick label { margin-right: 14px; cursor: pointer; }
.metric-pick input { display: none; }
.metric-pick label { border: 1px solid #aaa; border-radius: 4px; padding: 3px 9px;
  display: inline-block; margin-bottom: 6px; }
div.plot { display: none; }
/* scroll the wide grid inside its own box; the page itself never scrolls sideways */
div.grid-scroll { overflow-x: auto; max-width: 100%; border: 1px solid #ddd; }
table.grid { border-collapse: separate; border-spacing: 0; }
table.grid td, table.grid th { padding: 2px; font-size: 11px; text-align: center;
  font-weight: normal; background: #fff; vertical-align: bottom; }
table.grid th.method { white-space: normal; overflow-wrap: anywhere; max-width: 164px;
  border-left: 2px solid #bbb; font-weight: 600; }
table.grid th.sub { color: #666; font-size: 10px; }
table.grid td.recon { border-left: 2px solid #bbb; }
/* the input column stays in view while the grid scrolls sideways */
table.grid .sticky { position: sticky; left: 0; z-index: 2; border-right: 2px solid #555; }
table.grid img { width: 80px; height: 80px; image-rendering: pixelated; display: block;
  cursor: zoom-in; }
"""
_PAGE_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
#zoom { display: none; position: fixed; inset: 0; background: rgba(0, 0, 0, 0.82); z-index: 10;
  align-items: center; justify-content: center; flex-direction: column; cursor: zoom-out; }
#zoom.open { display: flex; }
#zoom img { width: min(80vh, 80vw); height: min(80vh, 80vw); image-rendering: pixelated; }
#zoom p { color: #fff; font-size: 15px; }
pre.env { font-size: 12px; background: #f4f4f4; padding: 8px; white-space: pre-wrap;
  overflow-wrap: anywhere; }
"""

# Click any grid image to see it large (Escape or a click closes it); plain JS, no network.
_ZOOM_JS = """
(function () {
  var box = document.getElementById("zoom");
  var big = box.querySelector("img");
  var caption = box.querySelector("p");
  document.querySelectorAll("table.grid img").forEach(function (img) {
    img.addEventListener("click", function () {
      big.src = img.src;
      caption.textContent = img.alt;
      box.classList.add("open");
    });
  });
  box.addEventListener("click", function () { box.classList.remove("open"); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { box.classList.remove("open"); }
  });
})();
"""


def png_data_uri(array: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def table_html(table: BenchTable) -> str:
    head = "".join(
        f"<th>{escape(table.header_title(c))}" + (f"<sup>{i}</sup>" if c.protocol else "") + "</th>"
        for i, c in enumerate(table.columns, 1)
    )
    rows = []
    for label, values in table.rows:
        cells = "".join(
            f'<td class="{"best" if table.is_best(c, values.get(c.key)) else ""}">'
            f"{escape(table._cell(c, values.get(c.key)))}"
            + (
                f' <span class="sd">{escape(table.spread_text(label, c))}</span>'
                if table.std(label, c) is not None
                else ""
            )
            + "</td>"
            for c in table.columns
        )
        rows.append(f"<tr><td>{escape(label)}</td>{cells}</tr>")
    # Many metrics make a wide table: it scrolls inside its box, the page does not.
    return (
        f'<div class="table-scroll"><table class="results"><tr><th>method</th>{head}</tr>'
        + "".join(rows)
        + "</table></div>"
    )


def grid_html(inputs: torch.Tensor, recons: dict[str, torch.Tensor]) -> str:
    """Input column (sticky), then per method its reconstruction beside its error map."""
    titles, rows = comparison_tiles(inputs, recons)
    labels = list(recons)
    head = '<th class="sticky" rowspan="2">input</th>' + "".join(
        f'<th class="method" colspan="2">{escape(label)}</th>' for label in labels
    )
    sub = '<th class="sub">reconstruction</th><th class="sub">error</th>' * len(labels)
    n = len(labels)
    body = []
    for r, row in enumerate(rows):
        cells = [
            f'<td class="sticky"><img alt="input, image {r + 1}" src="{png_data_uri(row[0])}"></td>'
        ]
        for k, label in enumerate(labels):
            recon, err = row[1 + k], row[1 + n + k]
            cells.append(
                f'<td class="recon"><img alt="{escape(label)}, image {r + 1}" '
                f'src="{png_data_uri(recon)}"></td>'
                f'<td><img alt="{escape(label)}, error map, image {r + 1}" '
                f'src="{png_data_uri(err)}"></td>'
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="grid-scroll"><table class="grid"><tr>{head}</tr><tr>{sub}</tr>'
        + "".join(body)
        + "</table></div>"
    )


def plots_html(table: BenchTable) -> str:
    """One quality-vs-time plot per metric and a pure-CSS picker (radio buttons) between them."""
    time_key = "seconds_per_image"
    quality = [c for c in table.columns if c.key not in (time_key, "peak_memory_mib")]
    if not quality:
        return "<p>no metric to plot</p>"
    numbers = {label: i for i, (label, _) in enumerate(table.rows, 1)}
    radios, labels, plots, rules = [], [], [], []
    for i, column in enumerate(quality):
        points = [
            (label, v[time_key], v[column.key])
            for label, v in table.rows
            if v.get(column.key) is not None and v.get(time_key) is not None
        ]
        arrow = "higher is better" if column.higher_is_better else "lower is better"
        svg = scatter_svg(
            points,
            "seconds per image",
            f"{column.title} ({arrow})",
            numbers=[numbers[p[0]] for p in points],
        )
        checked = " checked" if i == 0 else ""
        radios.append(f'<input type="radio" name="metric" id="metric-{i}"{checked}>')
        labels.append(f'<label for="metric-{i}">{escape(column.title)}</label>')
        plots.append(
            f'<div class="plot" id="plot-{i}" data-metric="{escape(column.key)}">{svg}</div>'
        )
        rules.append(
            f"#metric-{i}:checked ~ .plots #plot-{i} {{ display: block; }}\n"
            f"#metric-{i}:checked ~ .pick label[for=metric-{i}] "
            "{ background: #333; color: #fff; border-color: #333; }"
        )
    return (
        f"<style>{chr(10).join(rules)}</style>"
        '<div class="metric-pick">'
        + "".join(radios)
        + '<div class="pick">metric: '
        + " ".join(labels)  # spaces: the buttons wrap onto more lines when many
        + '</div><div class="plots">'
        + "".join(plots)
        + "</div></div>"
    )


def _notes_html(table: BenchTable) -> str:
    return (
        '<ul class="notes">' + "".join(f"<li>{escape(n)}</li>" for n in table.footnotes()) + "</ul>"
    )


def render_report(
    title: str,
    table: BenchTable,
    inputs: torch.Tensor | None,
    recons: dict[str, torch.Tensor],
    environment: dict[str, Any],
    config_text: str = "",
    edit_table: BenchTable | None = None,
) -> str:
    """The report as one HTML string (with a second table when the bench measured editability)."""
    grids = (
        grid_html(inputs, recons) + f"<p class='notes'>{escape(ERROR_MAP_NOTE)}; click an image "
        "to enlarge it</p>"
        if inputs is not None and recons
        else "<p>no images kept</p>"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{PARTS_CSS}{_PAGE_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<h2>Results</h2>",
        table_html(table),
        _notes_html(table),
        *(
            ["<h2>Editability</h2>", table_html(edit_table), _notes_html(edit_table)]
            if edit_table is not None
            else []
        ),
        "<h2>Quality vs. time</h2>",
        plots_html(table),
        "<h2>Reconstructions</h2>",
        grids,
        "<h2>Environment</h2>",
        f'<pre class="env">{escape(json.dumps(environment, indent=2))}</pre>',
    ]
    if config_text:
        parts += ["<h2>Configuration</h2>", f'<pre class="env">{escape(config_text)}</pre>']
    parts += [
        '<div id="zoom"><img alt="" src=""><p></p></div>',
        f"<script>{_ZOOM_JS}</script>",
        "</body></html>",
    ]
    return "\n".join(parts)
