"""Conversion between dataset formats (the library side of `ganinv data convert`)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from ganinv.core.errors import GanInvError
from ganinv.data.base import ImageDataset
from ganinv.data.decode import ImageDecodeError, encode_image
from ganinv.data.options import ENCODINGS
from ganinv.data.transforms import ImageTransform, float_to_uint8
from ganinv.data.writers import open_writer

logger = logging.getLogger("ganinv.data")

EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


@dataclass
class ConvertReport:
    """What a conversion did: images written and images skipped as (name, problem)."""

    destination: Path
    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    labels: bool = False


def convert_dataset(
    source: ImageDataset,
    destination: str | os.PathLike[str],
    format: str,
    *,
    resolution: int | None = None,
    resize: str = "antialias",
    center_crop: bool = True,
    encoding: str = "png",
    quality: int = 95,
    on_error: str = "raise",
    overwrite: bool = False,
    progress: bool = True,
) -> ConvertReport:
    """Write every image of `source`, in order, to `destination` in `format`.

    Pixels are decoded (robustly, `ganinv.data.decode`) and re-encoded, by default as PNG, so the
    output holds exactly the decoded RGB pixels. With `resolution`, each image is centre-cropped
    (unless `center_crop` is False) and resized with `resize`, then rounded to 8 bits. Unreadable
    images raise (`on_error="raise"`, nothing is written) or are left out and listed in the
    report (`"skip"`). Labels of the source are carried over. The output appears atomically.
    """
    if encoding not in ENCODINGS:
        raise GanInvError(f"unknown image encoding {encoding!r}: use one of {list(ENCODINGS)}")
    if on_error not in ("raise", "skip"):
        raise GanInvError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    destination = Path(destination)
    if destination.resolve() == source.path.resolve():
        raise GanInvError("the destination is the source; choose another destination")
    geometry = (
        ImageTransform(resolution=resolution, resize=resize, center_crop=center_crop)
        if resolution is not None
        else None
    )
    report = ConvertReport(destination)
    source_labels = source.labels
    labels: list[int] = []
    with open_writer(format, destination, overwrite=overwrite, source=source.path) as writer:
        for index in tqdm(range(len(source)), desc="converting", unit="img", disable=not progress):
            try:
                image = source.read_uint8(index)
            except ImageDecodeError as exc:
                if on_error == "raise":
                    raise
                report.skipped.append((exc.name, exc.problem))
                logger.warning("skipped image %r: %s", exc.name, exc.problem)
                continue
            if geometry is not None:
                image = float_to_uint8(geometry.geometry(image))
            writer.add(encode_image(image.to(torch.uint8), encoding, quality), EXTENSIONS[encoding])
            if source_labels is not None:
                labels.append(int(source_labels[index]))
        if writer.count == 0:
            raise GanInvError(f"no image of {str(source.path)!r} could be read; nothing written")
        writer.finish(labels if source_labels is not None else None)
    report.written = writer.count
    report.labels = source_labels is not None
    return report
