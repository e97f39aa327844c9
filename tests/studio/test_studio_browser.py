"""`ganinv studio` end to end: the server started as a user starts it, on a free loopback port, and
driven in real headless Chromium (Playwright pointed at the system Chromium): upload an image, run
two methods, cancel a long one, move an edit slider, blend, open a saved bench run; the images the
page shows are checked against the CLI's code paths run here. Screenshots of each tab are written
to ``$GANINV_STUDIO_SCREENSHOTS`` (default: the test's temporary folder)."""

from __future__ import annotations

import base64
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from ganinv.testing.browser import HEADLESS_CHROMIUM_ARGS, find_chromium

pytest.importorskip("gradio", reason="the studio extra (Gradio) is not installed")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = find_chromium()
if CHROMIUM is None:
    pytest.skip("no Chromium (scripts/setup.sh installs it)", allow_module_level=True)

from contract.acme_plugin import install as install_acme  # noqa: E402

from ganinv.core.images import to_uint8  # noqa: E402
from ganinv.core.space import Code  # noqa: E402
from ganinv.harness.inputs import read_image  # noqa: E402
from ganinv.studio.catalog import Catalog  # noqa: E402
from ganinv.studio.config import load_studio_config  # noqa: E402

GENERATOR = "demo_fmnist32_stylegan2"
SLOW = "slow W+ optimisation"
WAIT_MS = 90_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_test_images(folder: Path) -> Path:
    """Four Fashion-MNIST-like images rendered by the demo generator."""
    from ganinv.checkpoints.load import load_generator
    from ganinv.core.images import save_image

    g = load_generator(GENERATOR, "cpu")
    folder.mkdir()
    with torch.no_grad():
        images = g(torch.randn(4, g.z_dim, generator=torch.Generator().manual_seed(3)))
    for i, array in enumerate(to_uint8(images.clamp(-1, 1))):
        save_image(array, folder / f"{i:03d}.png")
    return folder


def saved_bench_run(images: Path, out: Path) -> Path:
    from ganinv.harness.bench import run_bench
    from ganinv.harness.configs import load
    from ganinv.harness.schema import BenchConfig

    config = {
        "generator": GENERATOR,
        "data": {"name": "folder", "path": str(images), "resolution": 32},
        "methods": [
            {"label": "pSp", "encoder_checkpoint": "demo_psp"},
            {"label": "e4e", "encoder_checkpoint": "demo_e4e"},
        ],
        "metrics": ["mse", "psnr"],
        "grid_images": 4,
        "out": str(out),
        "progress": False,
    }
    run_bench(load(BenchConfig, config), torch.device("cpu"), echo=lambda *_: None)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio")
    images = render_test_images(root / "images")
    config = {
        "generator": GENERATOR,
        "methods": [
            {"label": "pSp", "encoder_checkpoint": "demo_psp"},
            {"label": "e4e", "encoder_checkpoint": "demo_e4e"},
            {
                "label": SLOW,
                "space": "wplus",
                "refiner": {"name": "optimize", "steps": 1_000_000, "losses": {"mse": 1.0}},
            },
        ],
        "directions": ["demo_fmnist_tshirt_to_pullover"],
        "test_images": {"name": "folder", "path": str(images), "resolution": 32},
        "metrics": ["mse", "psnr", "ssim"],
        "bench_runs": [str(saved_bench_run(images, root / "bench"))],
    }
    (root / "studio.yaml").write_text(yaml.safe_dump(config))
    acme = install_acme(root / "acme")  # a third-party plugin, installed as pip would
    tmp = root / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(acme), *sys.path]),
        "TMPDIR": str(tmp),  # the studio's folder lands here, to check it is removed
        "OMP_NUM_THREADS": "1",
    }
    port = free_port()
    log = open(root / "server.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "ganinv", "studio", "--port", str(port), "--device", "cpu",
         "--config", str(root / "studio.yaml")],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise AssertionError(
                    "the studio did not start:\n" + (root / "server.log").read_text()
                ) from exc
            time.sleep(0.5)
    studio_folders = list(tmp.glob("ganinv-studio-*"))
    yield {"url": url, "root": root, "images": images, "config": config, "tmp": tmp,
           "folders": studio_folders, "process": process}  # fmt: skip
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    log.close()
    # Stopped like Ctrl-C: everything the studio wrote (uploads included) is gone.
    assert studio_folders and not any(f.exists() for f in studio_folders)
    assert list(tmp.iterdir()) == []


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=HEADLESS_CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("GANINV_STUDIO_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def catalog(server):
    """The same methods, built here: what the page shows must equal what they compute."""
    return Catalog(load_studio_config(server["config"]), "cpu")


@pytest.fixture()
def page(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"], wait_until="load")
    page.wait_for_selector("#invert-run", timeout=WAIT_MS)
    yield page
    page.close()


def data_uri_image(src: str) -> np.ndarray:
    assert src.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))


def served_image(page, selector: str) -> np.ndarray:
    """The PNG an image element shows, fetched from the server as the browser did."""
    src = page.get_attribute(selector, "src")
    data = page.request.get(src).body()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def shrink(image: np.ndarray, size: int = 32) -> np.ndarray:
    """Undo the studio's nearest-neighbour display upscaling."""
    step = image.shape[0] // size
    return image[::step, ::step]


def assert_same_image(shown: np.ndarray, want: np.ndarray) -> None:
    # Same code, another process: float sums may round a pixel differently by one level.
    diff = np.abs(shown.astype(int) - want.astype(int))
    assert shown.shape == want.shape and diff.max() <= 1 and diff.mean() < 0.05


def upload(page, path: Path) -> None:
    page.set_input_files("#invert-upload input[type=file]", str(path))
    page.wait_for_function(
        "document.querySelector('#invert-ready').innerText.includes('input ready')",
        timeout=WAIT_MS,
    )


def wait_status(page, word: str) -> str:
    try:
        page.wait_for_function(
            f"document.querySelector('#invert-status').innerText.includes('{word}')",
            timeout=WAIT_MS,
        )
    except playwright.TimeoutError as exc:
        raise AssertionError(
            f"status never said {word!r}: {page.inner_text('#invert-status')!r}"
        ) from exc
    return page.inner_text("#invert-status")


def test_upload_and_invert_two_methods_side_by_side(page, server, catalog, shots, tmp_path):
    labels = [x.strip() for x in page.locator("#invert-methods label").all_inner_texts()]
    assert labels[:3] == ["pSp", "e4e", SLOW]
    assert "acme_tint + optimisation" in labels  # the third-party plugin's space is offered
    assert "demo_sdic" in labels  # an encoder card for this generator, not in the config

    upload(page, server["images"] / "002.png")
    page.click("#invert-run")
    status = wait_status(page, "done")
    assert "2 of 2 method(s) inverted" in status
    image = read_image(server["images"] / "002.png", 32)[None]
    alts = page.locator("#invert-results img").evaluate_all("els => els.map(e => e.alt)")
    assert alts == [
        "input, image 1",
        "pSp, image 1",
        "pSp, error map, image 1",
        "e4e, image 1",
        "e4e, error map, image 1",
    ]
    links = page.locator("#invert-codes a").evaluate_all(
        "els => els.map(e => [e.getAttribute('download'), e.href])"
    )
    assert [name for name, _ in links] == ["01_pSp.safetensors", "02_e4e.safetensors"]
    for (name, href), label in zip(links, ("pSp", "e4e")):
        src = page.get_attribute(f'#invert-results img[alt="{label}, image 1"]', "src")
        code, recon = catalog.method(label).invert(image)
        assert_same_image(data_uri_image(src), to_uint8(recon)[0])
        # The code offered for download is the method's code, in `ganinv invert`'s format.
        saved = tmp_path / name
        saved.write_bytes(page.request.get(href).body())
        loaded = Code.load(saved)
        assert loaded.space == code.space and set(loaded.tensors) == set(code.tensors)
        assert all(torch.allclose(loaded[k], code[k], atol=1e-5) for k in code.tensors)
    scores = page.inner_text("#invert-scores")
    assert all(word in scores for word in ("mse", "psnr", "ssim", "seconds", "pSp", "e4e"))
    page.screenshot(path=str(shots / "invert.png"), full_page=True)


def test_a_test_image_can_be_picked_instead_of_uploading(page, server):
    page.click('#invert-tests button[aria-label="Thumbnail 2 of 4"]')
    page.wait_for_function(
        "document.querySelector('#invert-ready').innerText.includes('input ready')",
        timeout=WAIT_MS,
    )
    shown = shrink(served_image(page, "#invert-input img"))
    want = to_uint8(read_image(server["images"] / "001.png", 32)[None])[0]
    assert (shown == want).all()


def test_cancel_stops_a_long_optimisation_and_the_studio_stays_usable(page, server):
    upload(page, server["images"] / "000.png")
    page.locator("#invert-methods label", has_text="pSp").first.click()  # untick
    page.locator("#invert-methods label", has_text="e4e").first.click()
    page.locator("#invert-methods label", has_text=SLOW).click()
    page.click("#invert-run")
    # A million steps: the progress bar counts them while the work runs.
    page.wait_for_function(
        "document.querySelector('#invert-status').innerText.includes('steps')", timeout=WAIT_MS
    )
    started = time.monotonic()
    page.click("#invert-cancel")
    assert "0 of 1 method(s) inverted" in wait_status(page, "cancelled")
    # The server's worker stopped between two steps: a new inversion runs at once.
    page.locator("#invert-methods label", has_text=SLOW).click()
    page.locator("#invert-methods label", has_text="pSp").first.click()
    page.click("#invert-run")
    assert "1 of 1 method(s) inverted" in wait_status(page, "done")
    assert time.monotonic() - started < 60


def test_edit_slider_blend_and_custom_edit(page, server, catalog, shots):
    from ganinv.core.assets import resolve_file
    from ganinv.editing.directions import load_direction
    from ganinv.studio import actions

    upload(page, server["images"] / "003.png")
    page.get_by_role("tab", name="Edit").click()
    slider = page.locator("#edit-strength input[type=range]")
    slider.fill("4")
    slider.dispatch_event("pointerup")  # the slider's release event
    page.wait_for_selector("#edit-result img", timeout=WAIT_MS)
    image = read_image(server["images"] / "003.png", 32)[None]
    code, _ = catalog.method("pSp").invert(image)
    direction, _ = load_direction(resolve_file(catalog.config.directions[0]))
    want = actions.edit(catalog, "pSp", code, direction, 4.0)
    assert_same_image(shrink(served_image(page, "#edit-result img")), want)
    unedited = actions.edit(catalog, "pSp", code, direction, 0.0)
    assert_same_image(shrink(served_image(page, "#edit-unedited img")), unedited)
    page.screenshot(path=str(shots / "edit.png"), full_page=True)

    page.get_by_text("Blend: structure of one image").click()
    page.click("#blend-run")
    page.wait_for_selector("#blend-result img", timeout=WAIT_MS)
    last = read_image(server["images"] / "003.png", 32)[None]  # "test image 4": the default
    codes = [catalog.method("pSp").invert(x)[0] for x in (image, last)]
    assert_same_image(
        shrink(served_image(page, "#blend-result img")), actions.blend(catalog, "pSp", *codes)
    )
    page.get_by_text("Custom edit: target").click()
    page.click("#custom-run")
    page.wait_for_selector("#custom-result img", timeout=WAIT_MS)
    page.screenshot(path=str(shots / "edit_blend_custom.png"), full_page=True)


def test_compare_shows_a_saved_bench_run(page, server, shots):
    page.get_by_role("tab", name="Compare").click()
    page.click("#compare-show")
    page.wait_for_selector("#compare-view table.results", timeout=WAIT_MS)
    rows = page.locator("#compare-view table.results tr").all_inner_texts()
    assert [r.split("\t")[0].strip() for r in rows[1:]] == ["pSp", "e4e"]
    alts = page.locator("#compare-view table.grid img").evaluate_all("els => els.map(e => e.alt)")
    assert "e4e, error map, image 4" in alts
    assert page.locator("#compare-view svg").count() == 2  # mse and psnr against time
    page.screenshot(path=str(shots / "compare.png"), full_page=True)


def test_a_closed_page_leaves_no_session_folder(browser, server):
    sessions = server["folders"][0] / "sessions"
    before = set(sessions.iterdir())
    page = browser.new_page()
    page.goto(server["url"], wait_until="load")
    page.wait_for_selector("#invert-run", timeout=WAIT_MS)
    deadline = time.monotonic() + 30
    while not set(sessions.iterdir()) - before and time.monotonic() < deadline:
        time.sleep(0.2)
    (new,) = set(sessions.iterdir()) - before
    page.close()
    deadline = time.monotonic() + 90
    while new.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not new.exists()
