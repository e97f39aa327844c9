"""Images to invert from a file, a folder or a dataset spec, as [-1, 1] tensors with names.

Files and folders are decoded (EXIF orientation applied, RGB), centre-cropped to a square and
resized to the generator's resolution (bilinear with antialiasing); a dataset spec
(``{name: folder, path: ..., resolution: 64}``, given as YAML text on the command line) is built
through the `datasets` registry and brings its own transform.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import yaml

from ganinv.core.errors import GanInvError

INPUT_TRANSFORM = "centre crop to square, bilinear antialiased resize to the generator resolution"
_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


def read_image(path: Path, resolution: int) -> torch.Tensor:
    """One image file -> [3, R, R] in [-1, 1]."""
    from ganinv.data.decode import decode_image, read_image_file

    # ImageDecodeError is a GanInvError naming the file: FIFOs, devices, bombs and corrupt
    # files are reported the same way as in the data commands.
    image = decode_image(read_image_file(path), str(path))
    x = image.float() / 127.5 - 1
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    x = x[:, top : top + side, left : left + side]
    if side != resolution:
        x = F.interpolate(
            x[None],
            size=(resolution, resolution),
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )[0]
    return x.clamp(-1, 1)


def parse_input_spec(text: str) -> str | dict[str, Any]:
    """A path, or YAML mapping text (``{name: folder, path: x}``) for a dataset spec."""
    if text.lstrip().startswith("{"):
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise GanInvError(
                f"--input looks like a dataset spec but is not valid YAML: {exc}"
            ) from exc
        if not isinstance(spec, dict):
            raise GanInvError(f"--input dataset spec must be a mapping; got {spec!r}")
        return spec
    return text


def load_inputs(
    source: str | os.PathLike[str] | dict[str, Any], resolution: int, limit: int | None = None
) -> tuple[torch.Tensor, list[str]]:
    """(images [N, 3, R, R] in [-1, 1], names) from a file, a folder or a dataset spec."""
    if isinstance(source, dict):
        from ganinv.harness.data import build_dataset, image_of

        dataset = build_dataset(source)
        count = len(dataset) if limit is None else min(limit, len(dataset))
        images = torch.stack([image_of(dataset[i]) for i in range(count)])
        namer = getattr(dataset, "item_name", None)
        names = [Path(str(namer(i))).stem if namer else f"{i:06d}" for i in range(count)]
        return images, names
    path = Path(source)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES)
        if not files:
            raise GanInvError(
                f"folder {str(path)!r} holds no images ({', '.join(sorted(_SUFFIXES))})"
            )
    else:
        raise GanInvError(
            f"input {str(path)!r} does not exist (a file, a folder or a dataset spec)"
        )
    files = files[:limit] if limit is not None else files
    stems = [f.stem for f in files]
    # a.png and a.jpg would write the same code file: keep the suffix when stems collide.
    names = [f.name if stems.count(f.stem) > 1 else f.stem for f in files]
    return torch.stack([read_image(f, resolution) for f in files]), names
