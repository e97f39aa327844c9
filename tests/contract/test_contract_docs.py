"""docs/plugins.md is executed: its `# file:` blocks are written, its Python blocks and console
commands run in order in a fresh folder, and the benchmark it ends with lists the new space."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, str]]:
    return [(lang, body) for lang, body in BLOCK.findall(DOC.read_text())]


def test_walkthrough_blocks_are_what_the_test_expects():
    kinds = [lang for lang, _ in blocks()]
    assert kinds.count("python") == 3 and kinds.count("console") == 2, kinds
    written = [body.splitlines()[0] for _, body in blocks() if body.startswith("# file: ")]
    assert "# file: my_plugin/shifted_space.py" in written and "# file: bench.yaml" in written


def run(command: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only what the doc sets
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{command}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


@pytest.mark.slow
def test_plugins_walkthrough_runs(tmp_path):
    for lang, body in blocks():
        if body.startswith("# file: "):
            path = tmp_path / body.splitlines()[0][len("# file: ") :].strip()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        elif lang == "python":
            run([sys.executable, "-c", body], tmp_path)
        elif lang == "console":
            for line in body.splitlines():
                if line.startswith("$ "):
                    run(["bash", "-c", line[2:]], tmp_path)
    rows = json.loads((tmp_path / "runs" / "bench" / "table.json").read_text())["rows"]
    mse = {r["method"]: r["values"]["mse"] for r in rows}
    assert set(mse) == {"shifted_wplus + generic", "shifted_wplus, neutral code", "W+ optimisation"}
    # 30 steps of the generic encoder improve on the space's neutral code.
    assert mse["shifted_wplus + generic"] < 0.9 * mse["shifted_wplus, neutral code"], mse
    evaluated = json.loads((tmp_path / "runs" / "eval" / "metrics.json").read_text())
    assert evaluated["metrics"]["mse"]["value"] == pytest.approx(mse["shifted_wplus + generic"])
