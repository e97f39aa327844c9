"""`ganinv invert`: codes (``Code.save``) and reconstructions (PNG) for a set of images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from ganinv.core.config import save_config
from ganinv.core.images import save_image, to_uint8
from ganinv.core.space import Code
from ganinv.harness.inputs import load_inputs
from ganinv.harness.method import Method


def invert_images(
    method: Method, images: torch.Tensor, batch_size: int = 8, progress: bool = False
) -> tuple[Code, torch.Tensor]:
    """All images in batches -> (one concatenated code, recon [N, 3, R, R]), both on the CPU."""
    codes, recons = [], []
    batches = range(0, images.shape[0], batch_size)
    for start in tqdm(batches, desc=f"invert {method.label}", disable=not progress, unit="batch"):
        code, recon = method.invert(images[start : start + batch_size])
        codes.append(code.to("cpu"))
        recons.append(recon.cpu())
    return Code.cat(codes), torch.cat(recons)


def run_invert(
    method: Method,
    source: Any,
    out: str | Path,
    batch_size: int = 8,
    limit: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Write ``codes/<name>.safetensors``, ``recon/<name>.png`` and ``method.yaml`` into `out`."""
    out = Path(out)
    images, names = load_inputs(source, method.generator.resolution, limit)
    code, recon = invert_images(method, images, batch_size, progress)
    save_config(method.config, out / "method.yaml")
    arrays = to_uint8(recon)
    written = []
    for i, name in enumerate(names):
        code.select(i).save(out / "codes" / f"{name}.safetensors")
        save_image(arrays[i], out / "recon" / f"{name}.png")
        written.append(name)
    return {"out": str(out), "images": written, "space": code.space}
