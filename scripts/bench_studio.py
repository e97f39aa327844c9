"""Time the studio as a user meets it: start-up, then upload -> first reconstruction in Chromium.

    python scripts/bench_studio.py [--config demo/studio] [--repeats 5] [--image PATH]
                                   [--screenshots docs/assets]

Starts `ganinv studio` (CPU) on a free loopback port, opens it in headless Chromium (Playwright
with the system Chromium) and, for each repeat, uploads the image, clicks Invert with pSp alone
ticked and waits until pSp's reconstruction is on the page. Prints the server's start-up time
and the upload -> reconstruction times: the first (which also loads the encoder) and the median
of the rest. With --screenshots, then takes the docs' pictures of the three tabs (Invert with four
methods, Edit at strength 4, Compare on the config's first bench run). Needs the studio extra,
playwright and Chromium (scripts/setup.sh).
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_image(folder: Path) -> Path:
    """The first Fashion-MNIST test image as a PNG (what a user would upload)."""
    from ganinv.core.images import save_image, to_uint8
    from ganinv.harness.inputs import load_inputs

    images, _ = load_inputs({"name": "fashion_mnist", "split": "test", "limit": 1}, 32)
    return save_image(to_uint8(images)[0], folder / "upload.png")


def screenshots(page, url: str, image: Path, folder: Path) -> None:
    page.goto(url, wait_until="load")
    page.wait_for_selector("#invert-run", timeout=120_000)
    for label in ("HFGI (on e4e)", "StyleFeatureEditor (F space)", "W+ optimisation"):
        page.locator("#invert-methods label", has_text=label).first.click()
    page.set_input_files("#invert-upload input[type=file]", str(image))
    page.wait_for_function("document.querySelector('#invert-ready').innerText.includes('ready')")
    page.click("#invert-run")
    page.wait_for_function(
        "document.querySelector('#invert-status').innerText.includes('done')", timeout=300_000
    )
    page.screenshot(path=str(folder / "studio_invert.png"), full_page=True)
    page.get_by_role("tab", name="Edit").click()
    slider = page.locator("#edit-strength input[type=range]")
    slider.fill("4")
    slider.dispatch_event("pointerup")
    page.wait_for_selector("#edit-result img", timeout=120_000)
    time.sleep(1)
    page.screenshot(path=str(folder / "studio_edit.png"))
    page.get_by_role("tab", name="Compare").click()
    page.click("#compare-show")
    page.wait_for_selector("#compare-view table.results", timeout=120_000)
    time.sleep(1)
    page.screenshot(path=str(folder / "studio_compare.png"))
    page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="demo/studio")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--image", default=None, help="image to upload (default: a test image)")
    parser.add_argument("--screenshots", default=None, help="folder for studio_*.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from ganinv.testing.browser import HEADLESS_CHROMIUM_ARGS, find_chromium

    chromium = find_chromium()
    work = Path(tempfile.mkdtemp(prefix="bench-studio-"))
    image = Path(args.image) if args.image else test_image(work)
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "ganinv", "studio", "--port", str(port), "--device", "cpu",
         "--config", args.config],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit("the studio did not start") from None
                time.sleep(0.1)
        startup = time.perf_counter() - started
        times = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=HEADLESS_CHROMIUM_ARGS)
            for _ in range(args.repeats):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, wait_until="load")
                page.wait_for_selector("#invert-run", timeout=120_000)
                page.locator("#invert-methods label", has_text="e4e").first.click()  # pSp only
                t0 = time.perf_counter()
                page.set_input_files("#invert-upload input[type=file]", str(image))
                page.wait_for_function(
                    "document.querySelector('#invert-ready').innerText.includes('ready')"
                )
                page.click("#invert-run")
                page.wait_for_selector('#invert-results img[alt="pSp, image 1"]', timeout=120_000)
                times.append(time.perf_counter() - t0)
                page.close()
            if args.screenshots:
                screenshots(browser.new_page(viewport={"width": 1300, "height": 900}), url, image,
                            Path(args.screenshots))  # fmt: skip
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    print(f"studio start-up (process start -> page served): {startup:.2f} s")
    print(f"upload -> first pSp reconstruction, first time (loads the encoder): {times[0]:.2f} s")
    if len(times) > 1:
        rest = times[1:]
        print(
            f"upload -> first pSp reconstruction, later: median {statistics.median(rest):.2f} s "
            f"(min {min(rest):.2f}, max {max(rest):.2f}, {len(rest)} runs)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
