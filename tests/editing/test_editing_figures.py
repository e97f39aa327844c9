"""Labelled edit figures: layout, wrapping, the closed-form figure script on a tiny generator."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganinv.editing.figures import labelled_grid
from ganinv.testing.world import save_tiny_networks, tiny_generator

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "closed_form_figure.py"


def test_grid_layout_repeats_single_images_and_wraps_long_titles():
    shared = torch.full((1, 3, 8, 8), -1.0)  # black
    edits = torch.ones(3, 3, 8, 8)  # white
    short = labelled_grid([("in", shared), ("out", edits)], tile=16, pad=4)
    assert short.shape == (15 + 4 + 4 + 3 * 20, 4 + 2 * 20, 3)  # one header line, three rows
    for row in range(3):  # the shared input is on every row, each edit on its own
        y = short.shape[0] - 3 * 20 + row * 20
        assert (short[y : y + 16, 4:20] == 0).all() and (short[y : y + 16, 24:40] == 255).all()
    long = labelled_grid([("a long column title in words", shared), ("out", edits)], tile=16)
    assert long.shape[1] == short.shape[1] and long.shape[0] > short.shape[0]
    titled = labelled_grid([("in", shared)], title="a title " * 10, tile=16)
    assert titled.shape[1] == 24 and titled.shape[0] > 100  # wrapped onto many lines
    gray = labelled_grid([("g", torch.zeros(2, 1, 8, 8))], row_labels=["r0", "r1"], tile=16)
    assert gray.shape[2] == 3
    with pytest.raises(ValueError, match="column 'b' has 2 images"):
        labelled_grid([("a", edits), ("b", edits[:2])])


def test_closed_form_figure_script_on_a_tiny_generator(tmp_path, monkeypatch, capsys):
    g = save_tiny_networks(
        tmp_path / "demo_tiny.safetensors", tiny_generator(0), discriminator=False
    )
    argv = [str(SCRIPT), "--generator", str(g), "--out", str(tmp_path), "--components", "2"]
    argv += ["--samples", "600", "--strengths", "-1", "0", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(SCRIPT), run_name="__main__")
    printed = capsys.readouterr().out
    assert "wrote" in printed and "explained_variance_ratio" in printed
    for name in ("ganspace_tiny.png", "sefa_tiny.png", "ganspace_layers_tiny.png"):
        figure = np.asarray(Image.open(tmp_path / name).convert("RGB"))
        # Two rows of 64 px tiles under the title and headers; three strength columns.
        assert figure.shape[0] > 2 * 64 and figure.shape[1] > 3 * 64
        # Strength 0 is the base sample in both rows: the middle column's two tiles are equal.
        tiles = _tiles(figure, rows=2, cols=3)
        np.testing.assert_array_equal(tiles[0][1], tiles[1][1])
        assert not np.array_equal(tiles[0][0], tiles[0][2])


def _tiles(figure: np.ndarray, rows: int, cols: int, tile: int = 64, pad: int = 4) -> list:
    """The tiles, located from the bottom-right corner of the grid."""
    h, w = figure.shape[:2]
    out = []
    for r in range(rows):
        y = h - (rows - r) * (tile + pad)
        row = []
        for c in range(cols):
            x = w - (cols - c) * (tile + pad)
            row.append(figure[y : y + tile, x : x + tile])
        out.append(row)
    return out
