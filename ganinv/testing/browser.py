"""Headless Chromium on a machine without network, for tests and scripts that drive a page
(the studio's browser test, `scripts/bench_studio.py`): where it is, and the flags it needs."""

from __future__ import annotations

import shutil

# No GPU, no sandbox (root in CI), and none of the background connections that a closed network
# refuses many at a time.
HEADLESS_CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """The system Chromium (Debian's `chromium`, which scripts/setup.sh installs), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")
