"""Comparison grids: the input, then each method's reconstruction beside its error map.

Error map: per-pixel mean absolute error over RGB on the [-1, 1] scale, coloured with a fixed
black-red-yellow-white ramp that saturates at `ERROR_SATURATION`, so maps of different methods
are comparable by eye.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ganinv.core.images import to_uint8

ERROR_SATURATION = 0.5
ERROR_MAP_NOTE = (
    "error map: mean |input - reconstruction| over RGB on the [-1, 1] scale; black = 0, "
    f"white >= {ERROR_SATURATION}"
)
_RAMP = np.array([[0, 0, 0], [180, 0, 0], [255, 160, 0], [255, 255, 255]], dtype=np.float64)


def error_map(real: torch.Tensor, recon: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] pair -> uint8 [B, H, W, 3] heat maps."""
    err = (real.float() - recon.float()).abs().mean(dim=1).cpu().numpy()  # [B, H, W]
    t = np.clip(err / ERROR_SATURATION, 0, 1) * (len(_RAMP) - 1)
    lo = np.floor(t).astype(int).clip(0, len(_RAMP) - 2)
    frac = (t - lo)[..., None]
    rgb = _RAMP[lo] * (1 - frac) + _RAMP[lo + 1] * frac
    return rgb.round().astype(np.uint8)


def comparison_tiles(
    inputs: torch.Tensor, recons: dict[str, torch.Tensor]
) -> tuple[list[str], list[list[np.ndarray]]]:
    """Column titles and rows of uint8 tiles: input | reconstructions | error maps."""
    titles = ["input"] + list(recons) + [f"error {label}" for label in recons]
    ins = to_uint8(inputs)
    outs = {label: to_uint8(r) for label, r in recons.items()}
    errs = {label: error_map(inputs, r) for label, r in recons.items()}
    rows = []
    for i in range(inputs.shape[0]):
        rows.append([ins[i]] + [outs[k][i] for k in recons] + [errs[k][i] for k in recons])
    return titles, rows


def _font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    # Pillow's bundled scalable font (Pillow >= 10.1); the tiny bitmap font before that.
    try:
        return ImageFont.load_default(size=13)
    except TypeError:
        return ImageFont.load_default()


def wrap_title(
    text: str, width: int, font: ImageFont.ImageFont, draw: ImageDraw.ImageDraw
) -> list[str]:
    """Greedy word wrap to `width` pixels; a word longer than a line is split (never cut off)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while draw.textlength(line, font=font) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and draw.textlength(line[:cut], font=font) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    return lines + ([line] if line else [])


def comparison_grid(
    inputs: torch.Tensor, recons: dict[str, torch.Tensor], tile: int = 96, pad: int = 4
) -> np.ndarray:
    """One labelled uint8 image [H, W, 3]: input, then per method its reconstruction beside its
    error map, under the method's full name (wrapped over the pair's width)."""
    _, rows = comparison_tiles(inputs, recons)
    labels = list(recons)
    n = len(labels)
    font = _font()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    pair_width = 2 * tile + pad
    wrapped = [["input"]] + [wrap_title(label, pair_width - 4, font, probe) for label in labels]
    line_height = 15
    header = line_height * max(len(w) for w in wrapped) + line_height + 6  # + "recon | error"
    group_gap = 3 * pad  # a wider gap between methods than between a pair's two tiles
    width = pad + tile + n * (group_gap + pair_width) + pad
    canvas = Image.new("RGB", (width, header + len(rows) * (tile + pad) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    lines = len(max(wrapped, key=len))
    x_of = [pad] + [pad + tile + group_gap + k * (group_gap + pair_width) for k in range(n)]
    for x, title_lines in zip(x_of, wrapped):
        top = 3 + line_height * (lines - len(title_lines))  # titles sit on a common baseline
        for j, text in enumerate(title_lines):
            draw.text((x + 2, top + j * line_height), text, fill="black", font=font)
    for x in x_of[1:]:
        draw.text((x + 2, header - line_height - 2), "recon", fill=(90, 90, 90), font=font)
        draw.text(
            (x + tile + pad + 2, header - line_height - 2), "error", fill=(90, 90, 90), font=font
        )
    for r, row in enumerate(rows):
        y = header + r * (tile + pad)
        tiles = [(x_of[0], row[0])]
        for k in range(n):
            tiles += [(x_of[k + 1], row[1 + k]), (x_of[k + 1] + tile + pad, row[1 + n + k])]
        for x, array in tiles:
            img = Image.fromarray(array).resize((tile, tile), Image.NEAREST)
            canvas.paste(img, (x, y))
    return np.asarray(canvas)


def label_figure(
    image: np.ndarray, row_labels: list[str], title: str = "", label_width: int = 150
) -> np.ndarray:
    """A uint8 [H, W, 3] figure of equal-height rows with each row's label on its left (wrapped
    to `label_width` pixels) and a wrapped title above: figures in the docs say what they show."""
    font = _font()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_height = 15
    h, w = image.shape[:2]
    margin = label_width + 8 if row_labels else 0
    title_lines = wrap_title(title, margin + w - 8, font, probe) if title else []
    top = line_height * len(title_lines) + (6 if title_lines else 0)
    canvas = Image.new("RGB", (margin + w, top + h), "white")
    canvas.paste(Image.fromarray(image), (margin, top))
    draw = ImageDraw.Draw(canvas)
    for j, text in enumerate(title_lines):
        draw.text((4, 3 + j * line_height), text, fill="black", font=font)
    row_height = h / max(len(row_labels), 1)
    for i, label in enumerate(row_labels):
        lines = wrap_title(label, label_width, font, probe)
        y = top + (i + 0.5) * row_height - line_height * len(lines) / 2
        for j, text in enumerate(lines):
            draw.text((4, y + j * line_height), text, fill="black", font=font)
    return np.asarray(canvas)
