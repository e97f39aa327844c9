"""What a data source holds (the library side of `ganinv data info`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from ganinv.data.base import ImageDataset
from ganinv.data.decode import ImageDecodeError


@dataclass
class SourceInfo:
    """Counts of sizes, modes and formats, and the images that could not be read."""

    path: str
    format: str
    count: int
    sizes: Counter = field(default_factory=Counter)  # "WxH" -> images
    modes: Counter = field(default_factory=Counter)  # Pillow mode -> images
    formats: Counter = field(default_factory=Counter)  # "png", "jpeg", ... -> images
    problems: list[tuple[str, str]] = field(default_factory=list)
    ignored_files: int = 0
    labels: dict[int, int] | None = None  # label -> images

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "count": self.count,
            "readable": self.count - len(self.problems),
            "sizes": dict(self.sizes.most_common()),
            "modes": dict(self.modes.most_common()),
            "formats": dict(self.formats.most_common()),
            "problems": [{"name": n, "problem": p} for n, p in self.problems],
            "ignored_files": self.ignored_files,
            "labels": self.labels,
        }


def inspect_dataset(
    dataset: ImageDataset, decode: bool = True, progress: bool = True
) -> SourceInfo:
    """Read the header of every image (and decode it, when `decode`) and tally what was found.

    `dataset` should be built with ``check: none`` so that nothing is left out before this look.
    """
    info = SourceInfo(
        str(dataset.path),
        dataset.FORMAT,
        len(dataset),
        ignored_files=getattr(dataset, "ignored_files", 0),
    )
    for index in tqdm(range(len(dataset)), desc="inspecting", unit="img", disable=not progress):
        try:
            header = dataset.describe(index)
            if decode:
                dataset.read_uint8(index)
        except ImageDecodeError as exc:
            info.problems.append((exc.name, exc.problem))
            continue
        width, height = header["size"]
        info.sizes[f"{width}x{height}"] += 1
        info.modes[header["mode"]] += 1
        info.formats[header["format"]] += 1
    if dataset.labels is not None:
        info.labels = dict(sorted(Counter(int(y) for y in dataset.labels).items()))
    return info
