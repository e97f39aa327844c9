"""Images to invert from a file, a folder or a dataset spec, as [-1, 1] tensors with names.

Files and folders are decoded (EXIF orientation applied, RGB), centre-cropped to a square and
resized to the generator's resolution (bilinear with antialiasing); a dataset spec
(``{name: folder, path: ..., resolution: 64}``, given as YAML text on the command line) is built
through the `datasets` registry and brings its own transform.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import yaml

from ganinv.core.errors import GanInvError

logger = logging.getLogger("ganinv.inputs")

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


@dataclass
class Inputs:
    """Images to invert, one unique output name each, and what was left out (and why)."""

    images: torch.Tensor  # [N, 3, R, R] in [-1, 1]
    names: list[str]  # relative output names, unique: codes/<name>.safetensors
    sources: list[str]  # the file or dataset entry each image came from
    on_error: str = "raise"
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (entry, problem)

    def record(self) -> dict[str, Any]:
        """What `ganinv invert` writes to ``invert.json``."""
        return {
            "count": len(self.names),
            "on_error": self.on_error,
            "skipped_count": len(self.skipped),
            "skipped": [{"name": n, "problem": p} for n, p in self.skipped],
            "items": [{"name": n, "source": s} for n, s in zip(self.names, self.sources)],
        }


def _check_names(names: list[str], sources: list[str], where: str) -> None:
    """Output names must be plain relative paths and distinct: one output per input."""
    first: dict[str, str] = {}
    for name, source in zip(names, sources):
        parts = name.split("/")
        if not name or any(p in ("", ".", "..") for p in parts):
            raise GanInvError(f"{where}: {source!r} gives no usable output name ({name!r})")
        if name in first:
            raise GanInvError(
                f"{where}: {first[name]!r} and {source!r} would both be written as {name!r} "
                "(same name without extension); rename one of them"
            )
        first[name] = source


def _output_name(dataset: Any, index: int) -> str:
    """A stable output name for item `index` of a dataset: its own (`output_name`) or the
    index (datasets of plugins)."""
    namer = getattr(dataset, "output_name", None)
    return namer(index) if namer is not None else f"{index:06d}"


def _load_dataset(spec: dict[str, Any], limit: int | None) -> Inputs:
    from ganinv.data.base import ImageDataset
    from ganinv.data.decode import ImageDecodeError
    from ganinv.harness.data import build_dataset, image_of

    dataset = build_dataset(spec)
    count = len(dataset) if limit is None else min(limit, len(dataset))
    on_error = getattr(dataset, "on_error", "raise")
    skipped = list(getattr(dataset, "skipped", []))  # left out when the dataset was built
    images, names, sources = [], [], []
    for i in range(count):
        namer = getattr(dataset, "item_name", None)
        source = str(namer(i)) if namer is not None else str(i)
        if isinstance(dataset, ImageDataset):
            # Exactly item i: under `skip` a bad item is left out, never replaced by the next
            # one (that would pair its name with another image, and count that image twice).
            try:
                image = dataset.read_item(i)
            except ImageDecodeError as exc:
                if on_error != "skip":
                    raise
                skipped.append((source, exc.problem))
                continue
        else:
            image = image_of(dataset[i])
        images.append(image)
        names.append(_output_name(dataset, i))
        sources.append(source)
    if not images:
        raise GanInvError(f"no image of the dataset {spec!r} could be read")
    _check_names(names, sources, "--input")
    return Inputs(torch.stack(images), names, sources, on_error, skipped)


def load_inputs_recorded(
    source: str | os.PathLike[str] | dict[str, Any], resolution: int, limit: int | None = None
) -> Inputs:
    """`Inputs` from a file, a folder (its image files, not recursive) or a dataset spec.

    Names: a file's name without its extension; for a dataset, the item's `output_name` (its
    relative path without extension in a folder, its index in IDX, LMDB and zip). Two inputs
    that would get one name are refused; a name never depends on which other items exist.
    """
    if isinstance(source, dict):
        return _load_dataset(source, limit)
    path = Path(source)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES)
        if not files:
            raise GanInvError(
                f"folder {str(path)!r} holds no images ({', '.join(sorted(_SUFFIXES))})"
            )
    elif path.exists():  # a FIFO, device or socket: reported by the reader, without blocking
        from ganinv.data.decode import read_image_file

        read_image_file(path, size=0)
        raise GanInvError(f"input {str(path)!r} is not a regular file or a folder")
    else:
        raise GanInvError(
            f"input {str(path)!r} does not exist (a file, a folder or a dataset spec)"
        )
    files = files[:limit] if limit is not None else files
    names, sources = [f.stem for f in files], [f.name for f in files]
    _check_names(names, sources, f"--input {str(path)!r}")
    images = torch.stack([read_image(f, resolution) for f in files])
    _warn_if_upsampled(files, resolution, path)
    return Inputs(images, names, sources)


def _warn_if_upsampled(files: list[Path], resolution: int, source: Path) -> None:
    """Small images are resized up to the generator's side; a generator trained on padded images
    (the demo one: 28 px Fashion-MNIST padded by 2 px of black to 32) wants padding instead."""
    from PIL import Image

    try:
        with Image.open(files[0]) as first:
            side = min(first.size)
    except (OSError, ValueError):  # already decoded once; a failure here only skips the hint
        return
    if side >= resolution:
        return
    folder = source if source.is_dir() else source.parent
    hint = ""
    if (resolution - side) % 2 == 0:
        pad = (resolution - side) // 2
        hint = (
            f"; if the generator was trained on images padded with black (the demo generator: "
            f"28 px Fashion-MNIST padded by 2 px), pad instead: --input "
            f"'{{name: folder, path: {folder}, resolution: {side}, pad: {pad}}}'"
        )
    logger.warning(
        "input images of %d px are resized up to the generator's %d px%s", side, resolution, hint
    )


def load_inputs(
    source: str | os.PathLike[str] | dict[str, Any], resolution: int, limit: int | None = None
) -> tuple[torch.Tensor, list[str]]:
    """(images [N, 3, R, R] in [-1, 1], names) from a file, a folder or a dataset spec."""
    inputs = load_inputs_recorded(source, resolution, limit)
    return inputs.images, inputs.names
