"""Comparison grids: input, each method's reconstruction, and error maps, one row per image.

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


def comparison_grid(
    inputs: torch.Tensor, recons: dict[str, torch.Tensor], tile: int = 128, pad: int = 4
) -> np.ndarray:
    """One labelled uint8 image [H, W, 3]: a title row, then one row per input image."""
    titles, rows = comparison_tiles(inputs, recons)
    ncol, nrow = len(titles), len(rows)
    header = 18
    canvas = Image.new(
        "RGB", (ncol * (tile + pad) + pad, header + nrow * (tile + pad) + pad), "white"
    )
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for c, title in enumerate(titles):
        x = pad + c * (tile + pad)
        text = title if len(title) <= tile // 6 else title[: tile // 6 - 1] + "…"
        draw.text((x + 2, 3), text, fill="black", font=font)
    for r, row in enumerate(rows):
        for c, array in enumerate(row):
            img = Image.fromarray(array).resize((tile, tile), Image.NEAREST)
            canvas.paste(img, (pad + c * (tile + pad), header + pad + r * (tile + pad)))
    return np.asarray(canvas)
