"""`ganinv invert`: codes (``Code.save``) and reconstructions (PNG) for a set of images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from ganinv.core.config import save_config
from ganinv.core.images import save_image, to_uint8
from ganinv.core.io import atomic_write_text
from ganinv.core.outputs import claim_output_dir, remove_listed_files, write_marker
from ganinv.core.space import Code
from ganinv.harness.inputs import load_inputs_recorded
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
    """Write ``codes/<name>.safetensors``, ``recon/<name>.png``, ``method.yaml`` and
    ``invert.json`` (every item with its source, the policy and the items skipped) into `out`.

    `out` must be new, empty or a previous `ganinv invert` output: the files that run wrote
    (listed in its marker) are removed first, so old codes never sit beside new ones; anything
    else in `out` is refused (`ganinv.core.outputs`).
    """
    out = Path(out)
    previous = claim_output_dir(out, "invert", "--out")
    inputs = load_inputs_recorded(source, method.generator.resolution, limit)
    code, recon = invert_images(method, inputs.images, batch_size, progress)
    remove_listed_files(out, previous.get("files", []))
    files = [f"codes/{n}.safetensors" for n in inputs.names]
    files += [f"recon/{n}.png" for n in inputs.names]
    # Listed before they are written: an interrupted run is cleared by the next one too.
    write_marker(out, "invert", files + ["method.yaml", "invert.json"])
    save_config(method.config, out / "method.yaml")
    arrays = to_uint8(recon)
    for i, name in enumerate(inputs.names):
        code.select(i).save(out / "codes" / f"{name}.safetensors")
        save_image(arrays[i], out / "recon" / f"{name}.png")
    atomic_write_text(out / "invert.json", json.dumps(inputs.record(), indent=2))
    return {
        "out": str(out),
        "images": list(inputs.names),
        "space": code.space,
        "on_error": inputs.on_error,
        "skipped": list(inputs.skipped),
    }
