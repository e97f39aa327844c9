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

_CSS = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table.results { border-collapse: collapse; font-size: 14px; }
table.results th, table.results td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
table.results td:first-child, table.results th:first-child { text-align: left; }
td.best { font-weight: bold; background: #e7f5e7; }
ul.notes { font-size: 12px; color: #444; list-style: none; padding-left: 0; }
table.grid td, table.grid th { padding: 2px; font-size: 11px; text-align: center;
  font-weight: normal; }
table.grid img { width: 96px; height: 96px; image-rendering: pixelated; display: block; }
pre.env { font-size: 12px; background: #f4f4f4; padding: 8px; }
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
            f"{escape(table._cell(c, values.get(c.key)))}</td>"
            for c in table.columns
        )
        rows.append(f"<tr><td>{escape(label)}</td>{cells}</tr>")
    return f'<table class="results"><tr><th>method</th>{head}</tr>' + "".join(rows) + "</table>"


def grid_html(inputs: torch.Tensor, recons: dict[str, torch.Tensor]) -> str:
    titles, rows = comparison_tiles(inputs, recons)
    head = "".join(f"<th>{escape(t)}</th>" for t in titles)
    body = "".join(
        "<tr>" + "".join(f'<td><img alt="" src="{png_data_uri(a)}"></td>' for a in row) + "</tr>"
        for row in rows
    )
    return f'<table class="grid"><tr>{head}</tr>{body}</table>'


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
    quality = next(
        (c for c in table.columns if c.key not in ("seconds_per_image", "peak_memory_mib")), None
    )
    plot = ""
    if quality is not None:
        points = [
            (label, v["seconds_per_image"], v[quality.key])
            for label, v in table.rows
            if v.get(quality.key) is not None
        ]
        arrow = "higher is better" if quality.higher_is_better else "lower is better"
        plot = scatter_svg(points, "seconds per image", f"{quality.title} ({arrow})")
    notes = "".join(f"<li>{escape(n)}</li>" for n in table.footnotes())
    grids = (
        grid_html(inputs, recons) + f"<p class='notes'>{escape(ERROR_MAP_NOTE)}</p>"
        if inputs is not None and recons
        else "<p>no images kept</p>"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<h2>Results</h2>",
        table_html(table),
        f'<ul class="notes">{notes}</ul>',
        *(
            [
                "<h2>Editability</h2>",
                table_html(edit_table),
                '<ul class="notes">'
                + "".join(f"<li>{escape(n)}</li>" for n in edit_table.footnotes())
                + "</ul>",
            ]
            if edit_table is not None
            else []
        ),
        "<h2>Quality vs. time</h2>",
        plot,
        "<h2>Reconstructions</h2>",
        grids,
        "<h2>Environment</h2>",
        f'<pre class="env">{escape(json.dumps(environment, indent=2))}</pre>',
    ]
    if config_text:
        parts += ["<h2>Configuration</h2>", f'<pre class="env">{escape(config_text)}</pre>']
    parts.append("</body></html>")
    return "\n".join(parts)
