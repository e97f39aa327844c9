"""Labels stored next to images in NVlabs' ``dataset.json`` layout.

``{"labels": [["00000/img00000000.png", 6], ...]}`` (or ``"labels": null``), file names relative
to the folder or archive root. Our writers (`ganinv data convert`) write the same file when the
source has labels, so labels survive a conversion.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence

import numpy as np

logger = logging.getLogger("ganinv.data")

LABELS_FILE = "dataset.json"
# Largest labels file read (70,000 FFHQ labels take about 3 MB).
MAX_LABELS_BYTES = 64 << 20


def read_labels_file(path: str | os.PathLike[str]) -> str:
    """The text of a labels file, or "" (no labels, logged) when it is not a regular file of
    at most `MAX_LABELS_BYTES`; never blocks on a FIFO or device."""
    from ganinv.data.decode import ImageDecodeError, read_image_file

    try:
        if os.stat(path).st_size > MAX_LABELS_BYTES:
            raise ImageDecodeError(str(path), f"larger than {MAX_LABELS_BYTES} bytes")
        return read_image_file(path, str(path)).decode("utf-8", errors="replace")
    except (OSError, ImageDecodeError) as exc:
        logger.warning("%s cannot be read (%s); no labels", path, exc)
        return ""


def labels_from_json(text: str, names: Sequence[str], where: str) -> np.ndarray | None:
    """int64 labels aligned with `names`, or None (with a log line) when not usable."""
    try:
        pairs = json.loads(text).get("labels")
        if pairs is not None and not isinstance(pairs, list):
            raise ValueError("labels is not a list")
    except (ValueError, AttributeError, RecursionError):
        logger.warning("%s: %s is not JSON with a 'labels' list; no labels", where, LABELS_FILE)
        return None
    if pairs is None:
        return None
    table = {}
    for pair in pairs:
        ok = isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
        if not (ok and isinstance(pair[1], int) and not isinstance(pair[1], bool)):
            logger.warning("%s: %s holds non-integer labels; no labels", where, LABELS_FILE)
            return None
        table[pair[0]] = pair[1]
    missing = [n for n in names if n not in table]
    if missing:
        logger.warning(
            "%s: %s has no label for %d image(s) (e.g. %r); no labels",
            where,
            LABELS_FILE,
            len(missing),
            missing[0],
        )
        return None
    return np.asarray([table[n] for n in names], dtype=np.int64)


def labels_to_json(names: Sequence[str], labels: Sequence[int]) -> str:
    """The ``dataset.json`` text for `names` with integer `labels`."""
    return json.dumps({"labels": [[n, int(y)] for n, y in zip(names, labels)]})
