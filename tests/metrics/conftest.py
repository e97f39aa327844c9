import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def offline_cache(tmp_path_factory):
    """A fresh GANINV_CACHE; the LPIPS/VGG weights are converted into it on first use."""
    pytest.importorskip("lpips")
    old = os.environ.get("GANINV_CACHE")
    os.environ["GANINV_CACHE"] = str(tmp_path_factory.mktemp("ganinv-cache"))
    yield Path(os.environ["GANINV_CACHE"])
    if old is None:
        os.environ.pop("GANINV_CACHE", None)
    else:
        os.environ["GANINV_CACHE"] = old
