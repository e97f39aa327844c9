"""A saved `ganinv bench` run, read back for the Compare tab: its table, plots and image grid.

The folder is what `ganinv bench` wrote (`ganinv.harness.bench`): ``table.json``,
``inputs/NNN.png`` and ``methods/<slug of label>/recon_NNN.png``. Everything in it is read as
untrusted data (`BenchTable.from_json`, `ganinv.data.decode`); the HTML is the report's own
(`ganinv.harness.report`), so the tab shows what ``report.html`` shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ganinv.core.errors import GanInvError
from ganinv.harness.bench import slugify
from ganinv.harness.tables import BenchTable

MAX_GRID_IMAGES = 16


@dataclass
class BenchRun:
    folder: Path
    table: BenchTable
    edit_table: BenchTable | None  # the editability table, when the run measured it
    inputs: torch.Tensor | None  # [N, 3, R, R] in [-1, 1]
    recons: dict[str, torch.Tensor]  # label -> [N, 3, R, R], methods with all N images


def _read_png(path: Path) -> torch.Tensor:
    from ganinv.data.decode import decode_image, read_image_file

    return decode_image(read_image_file(path), str(path)).float() / 127.5 - 1


def _numbered(folder: Path, prefix: str, count: int) -> list[Path]:
    return [folder / f"{prefix}{i:03d}.png" for i in range(count)]


def read_bench_run(folder: str | os.PathLike[str]) -> BenchRun:
    """The run in `folder`; images are shown only where every file is present and decodes."""
    folder = Path(folder)
    table_file = folder / "table.json"
    if not table_file.is_file():
        raise GanInvError(
            f"{folder} holds no table.json: give the output folder of a `ganinv bench` run"
        )
    table = BenchTable.from_json(table_file.read_text(encoding="utf-8"), str(table_file))
    edit_file = folder / "editability.json"
    edit_table = None
    if edit_file.is_file():
        edit_table = BenchTable.from_json(edit_file.read_text(encoding="utf-8"), str(edit_file))
    count = 0
    while count < MAX_GRID_IMAGES and (folder / "inputs" / f"{count:03d}.png").is_file():
        count += 1
    inputs, recons = None, {}
    if count:
        try:
            inputs = torch.stack([_read_png(p) for p in _numbered(folder / "inputs", "", count)])
        except GanInvError:
            inputs = None
    if inputs is not None:
        for label, _ in table.rows:
            files = _numbered(folder / "methods" / slugify(label), "recon_", count)
            if not all(f.is_file() for f in files):
                continue
            try:
                images = torch.stack([_read_png(f) for f in files])
            except GanInvError:
                continue
            if images.shape == inputs.shape:
                recons[label] = images
    return BenchRun(folder, table, edit_table, inputs, recons)


def bench_run_html(run: BenchRun) -> str:
    """Table, per-metric plots and the comparison grid, as the report draws them."""
    from html import escape

    from ganinv.harness.report import grid_html, plots_html, table_html

    parts = [f"<h3>{escape(str(run.folder))}</h3>", table_html(run.table)]
    if run.edit_table is not None:
        parts.append("<h4>editability</h4>" + table_html(run.edit_table))
    parts.append("<h4>quality against time</h4>" + plots_html(run.table))
    if run.inputs is not None and run.recons:
        parts.append("<h4>reconstructions and error maps</h4>" + grid_html(run.inputs, run.recons))
    footnotes = run.table.footnotes() + (run.edit_table.footnotes() if run.edit_table else [])
    notes = "".join(f"<li>{escape(n)}</li>" for n in footnotes)
    return "".join(parts) + f'<ul class="notes">{notes}</ul>'
