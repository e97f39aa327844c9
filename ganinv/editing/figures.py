"""Labelled figures of edits: named columns of images side by side, one row per image (or per
component), titles wrapped rather than cut, row labels on the left. The font is PIL's built-in
one (no system fonts), which has Latin glyphs only: write "sigma", not the Greek letter."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ganinv.core.images import save_image, to_uint8

FONT_SIZE = 12
LINE = FONT_SIZE + 3


def labelled_grid(
    columns: list[tuple[str, torch.Tensor]],
    row_labels: list[str] | None = None,
    title: str | None = None,
    tile: int = 96,
    pad: int = 4,
) -> np.ndarray:
    """uint8 [H, W, 3]: each column is (title, images [B, 3, h, w] in [-1, 1]), all with the same
    B; a column of B = 1 repeats on every row (e.g. the shared input of several edits)."""
    rows = max(images.shape[0] for _, images in columns)
    tiles = []
    for name, images in columns:
        arrays = to_uint8(images)
        if arrays.shape[-1] == 1:
            arrays = np.repeat(arrays, 3, axis=-1)
        if len(arrays) not in (1, rows):
            raise ValueError(f"column {name!r} has {len(arrays)} images, the figure {rows} rows")
        tiles.append([arrays[0]] * rows if len(arrays) == 1 else list(arrays))
    font = ImageFont.load_default(size=FONT_SIZE)
    heads = [_wrap(name, tile + pad, font) for name, _ in columns]
    head_h = LINE * max(len(h) for h in heads) + pad
    labels = row_labels or []
    label_w = max((int(font.getlength(s)) for s in labels), default=0)
    label_w = label_w + 2 * pad if labels else 0
    width = label_w + pad + len(columns) * (tile + pad)
    title_lines = _wrap(title, width - 2 * pad, font) if title else []
    title_h = LINE * len(title_lines) + 2 * pad if title else 0
    height = title_h + head_h + pad + rows * (tile + pad)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    for k, line in enumerate(title_lines):
        draw.text((pad, pad + k * LINE), line, fill="black", font=font)
    for c, lines in enumerate(heads):
        x = label_w + pad + c * (tile + pad)
        for k, line in enumerate(lines):
            draw.text((x, title_h + k * LINE), line, fill="black", font=font)
    for r in range(rows):
        y = title_h + head_h + pad + r * (tile + pad)
        if r < len(labels):
            draw.text((pad, y + tile // 2 - LINE // 2), labels[r], fill="black", font=font)
        for c, column in enumerate(tiles):
            image = Image.fromarray(column[r]).resize((tile, tile), Image.NEAREST)
            canvas.paste(image, (label_w + pad + c * (tile + pad), y))
    return np.asarray(canvas)


def _wrap(text: str, width: int, font: ImageFont.FreeTypeFont) -> list[str]:
    """Lines of `text` no wider than `width` pixels, broken at spaces (a word longer than a line
    is broken inside, at the last character that fits)."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= width:
            lines[-1] = candidate
            continue
        while font.getlength(word) > width and len(word) > 1:
            cut = max(
                k for k in range(1, len(word) + 1) if font.getlength(word[:k]) <= width or k == 1
            )
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines or [""]


def save_labelled_grid(
    path: str | os.PathLike[str],
    columns: list[tuple[str, torch.Tensor]],
    row_labels: list[str] | None = None,
    title: str | None = None,
    tile: int = 96,
) -> Path:
    """`labelled_grid` written as a PNG."""
    save_image(labelled_grid(columns, row_labels, title, tile), path)
    return Path(path)
