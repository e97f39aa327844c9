"""The wheels work: `scripts/build_wheels.py` builds the core, every plugin and the demo assets;
installed into a fresh virtual environment (torch from the system site, nothing else), they give
a `ganinv` that lists every plugin from the wheels and inverts with a demo encoder by name from
an empty folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p.parent.name for p in (ROOT / "plugins").glob("*/pyproject.toml"))

pytestmark = pytest.mark.slow


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_wheels_install_and_run_from_an_empty_folder(tmp_path):
    pytest.importorskip("build")
    dist = tmp_path / "dist"
    _run(sys.executable, ROOT / "scripts" / "build_wheels.py", "--out", dist, cwd=ROOT)
    wheels = sorted(dist.glob("*.whl"))
    names = {w.name.split("-")[0] for w in wheels}
    assert {"ganinv", "ganinv_demo_assets"} <= names
    assert {f"ganinv_{p}" for p in PLUGINS} <= names
    venv = tmp_path / "venv"
    # torch/torchvision come from the system site (no 5 GB download in a test); ganinv and its
    # plugins from the wheels, which come first on the venv's path.
    _run(sys.executable, "-m", "venv", "--system-site-packages", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    # --ignore-installed: the system site may hold the same versions (an editable checkout)
    pip = (python, "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-installed")
    _run(*pip, *wheels, cwd=tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GANINV_REGISTRY")}
    where = _run(python, "-c", "import ganinv; print(ganinv.__file__)", cwd=empty, env=env)
    assert where.startswith(str(venv)), where
    listing = _run(venv / "bin" / "ganinv", "plugins", cwd=empty, env=env)
    for plugin in PLUGINS:
        assert f"ganinv-{plugin} 0.1.0" in listing, plugin
    assert "FAILED" not in listing
    from PIL import Image

    Image.new("RGB", (32, 32), (250, 250, 250)).save(empty / "x.png")
    out = _run(
        venv / "bin" / "ganinv",
        "invert",
        "--method",
        "demo_psp",
        "--input",
        "x.png",
        "--out",
        "o",
        cwd=empty,
        env=env,
    )
    assert "inverted 1 image(s)" in out and (empty / "o" / "recon" / "x.png").is_file()
    shipped = _run(
        python,
        "-c",
        "from ganinv.core.assets import config_path; print(config_path('demo/bench'))",
        cwd=empty,
        env=env,
    )
    assert shipped.strip().startswith(str(venv)) and shipped.strip().endswith("bench.yaml")
