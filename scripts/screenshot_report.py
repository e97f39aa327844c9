"""Screenshot a benchmark's HTML report with headless Chromium (offline, no GPU).

    python scripts/screenshot_report.py runs/bench/report.html report.png [--width W --height H]

Needs Debian's ``chromium`` (``apt-get install -y chromium``) or any Chromium/Chrome on PATH. The
report is self-contained, so the browser is started with networking features off. Exits 2 with a
one-line message when no browser is found or the screenshot was not written.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def browser_command(browser: str, profile: str, width: int, height: int) -> list[str]:
    """Headless Chromium with a throwaway profile, networking features off (the report is
    self-contained); append the action (``--screenshot=...`` or ``--dump-dom``) and the page."""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ]


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(
    report: Path, png: Path, width: int = 1400, height: int = 2000, timeout: float = 120
) -> Path:
    """Render `report` into `png`; raises RuntimeError with the browser's output on failure."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError("no Chromium on PATH; install it with `apt-get install -y chromium`")
    png = png.resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="ganinv-chromium-") as profile:
        command = [
            *browser_command(browser, profile, width, height),
            f"--screenshot={png}",
            report.resolve().as_uri(),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if not png.is_file() or png.stat().st_size == 0:
        raise RuntimeError(
            f"chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
        )
    return png


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args(argv)
    if not args.report.is_file():
        print(f"screenshot_report: {args.report} does not exist", file=sys.stderr)
        return 2
    try:
        path = screenshot(args.report, args.png, args.width, args.height)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"screenshot_report: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
