"""Build the wheels of ganinv: the core, every plugin distribution (plugins/*), and
`ganinv-demo-assets` (the demo networks, their registry cards and the demo bench config).

    python scripts/build_wheels.py            # -> dist/*.whl
    pip install dist/*.whl                    # in any environment with torch + torchvision
    ganinv bench demo/bench                   # the demo benchmark, from any folder

The demo-assets wheel is assembled in a temporary folder from `registry/demo_*.yaml`, the files
those cards name in `registry/assets/`, and `configs/demo/bench.yaml` and `studio.yaml` (which
name their networks by card name, so they run from anywhere); it declares the entry point group
``ganinv.asset_registries`` through which `ganinv.core.assets` finds its cards.
Builds run without isolation (`python -m build --no-isolation`): the build needs only the
setuptools and wheel already installed, no network.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ASSETS_PACKAGE = "ganinv_demo_assets"


def build(source: Path, out: Path) -> None:
    scratch = source / "build"
    ours = not scratch.exists()  # setuptools' scratch folder: removed after, if we made it
    try:
        subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), "."],
            cwd=source,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    finally:
        if ours and scratch.is_dir():
            shutil.rmtree(scratch)


def demo_assets_project(stage: Path, version: str) -> Path:
    """A project folder holding the demo cards, their files and the demo bench config."""
    package = stage / ASSETS_PACKAGE
    (package / "registry" / "assets").mkdir(parents=True)
    (package / "configs" / "demo").mkdir(parents=True)
    names = []
    for card in sorted((ROOT / "registry").glob("demo_*.yaml")):
        data = yaml.safe_load(card.read_text(encoding="utf-8"))
        filename = data["file"]["filename"]
        shutil.copyfile(card, package / "registry" / card.name)
        shutil.copyfile(
            ROOT / "registry" / "assets" / filename, package / "registry" / "assets" / filename
        )
        names.append(card.stem)
    for config in ("bench.yaml", "studio.yaml"):  # `ganinv bench demo/bench`, `ganinv studio`
        shutil.copyfile(ROOT / "configs" / "demo" / config, package / "configs/demo" / config)
    (package / "__init__.py").write_text(
        '"""The ganinv demo networks (Fashion-MNIST 32 px), their registry cards and the demo '
        'bench config: `ganinv bench demo/bench`."""\n'
    )
    (stage / "pyproject.toml").write_text(
        f"""[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "ganinv-demo-assets"
version = "{version}"
description = "ganinv demo networks trained on Fashion-MNIST: {len(names)} cards and their files"
requires-python = ">=3.10"
dependencies = ["ganinv"]

[project.entry-points."ganinv.asset_registries"]
demo = "{ASSETS_PACKAGE}"

[tool.setuptools]
packages = ["{ASSETS_PACKAGE}"]

[tool.setuptools.package-data]
{ASSETS_PACKAGE} = ["registry/*.yaml", "registry/assets/*", "configs/demo/*.yaml"]
"""
    )
    return stage


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "dist"), help="wheel folder (default dist/)")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    sources = [ROOT, *sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))]
    for source in sources:
        build(source, out)
        print(f"built {source.relative_to(ROOT.parent)}")
    from ganinv import __version__

    with tempfile.TemporaryDirectory(prefix="ganinv-demo-assets-") as stage:
        build(demo_assets_project(Path(stage), __version__), out)
    print("built ganinv-demo-assets")
    for wheel in sorted(out.glob("*.whl")):
        print(f"  {wheel.name}  {wheel.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
