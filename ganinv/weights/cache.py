"""Where weight files live, and how their integrity is checked.

The cache is ``platformdirs.user_cache_dir("ganinv")/weights`` unless the environment variable
``GANINV_CACHE`` names another directory (CI, shared clusters, tests). Nothing here downloads.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CACHE_ENV = "GANINV_CACHE"


def cache_dir() -> Path:
    """The weights cache directory (not created here)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ganinv")) / "weights"


def sha256_file(path: str | os.PathLike[str], chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks (weights files reach hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()
