"""The demo's editing and latent-map scripts run on the shipped networks and write their figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from demo_testkit import ROOT, has_fashion_mnist


def run_script(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@has_fashion_mnist
def test_editing_demo_writes_blend_custom_edit_and_direction(tmp_path: Path) -> None:
    args = ["--out", str(tmp_path), "--train-per-class", "100", "--pair-steps", "20"]
    out = run_script("demo_edit.py", *args)
    for figure in ("blend.png", "custom_edit.png", "direction.png"):
        assert (tmp_path / figure).stat().st_size > 1000, figure
    # T-shirts and pullovers differ in their codes: the held-out accuracy is far above chance.
    accuracy = float(re.search(r"held-out ([0-9.]+)", out).group(1))
    assert accuracy > 0.8, out


@pytest.mark.slow
@has_fashion_mnist
def test_latentmap_demo_prints_its_table(tmp_path: Path) -> None:
    out = run_script("demo_latentmap.py", "--images", "16", "--out", str(tmp_path))
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"mean code (w_avg)", "latent-map", "latent-map, trained with masks"} <= set(rows)
    assert (tmp_path / "masked_inversion.png").is_file()
