"""A third-party distribution, made at test time, registers a space through an entry point.

The distribution is a folder on the path with its own `*.dist-info` metadata, exactly what pip
writes, so importlib.metadata finds it the way it finds any installed plugin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SPACE_SOURCE = '''
import torch
from ganinv.core.space import Code, InversionSpace


class ShiftSpace(InversionSpace):
    """A toy space: one W code plus a scalar shift added to the image."""

    name = "shift"

    def __init__(self, generator=None, shift: float = 0.0):
        self.generator = generator
        self.shift = shift
'''


def make_distribution(
    root: Path, dist: str, package: str, group: str, entries: dict[str, str], source: str
) -> None:
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3.1\n")
    lines = [f"[{group}]"] + [f"{k} = {v}" for k, v in entries.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture()
def plugin_path(tmp_path: Path) -> Path:
    make_distribution(
        tmp_path,
        "acme-shift",
        "acme_shift",
        "ganinv.spaces",
        {"shift": "acme_shift:ShiftSpace"},
        SPACE_SOURCE,
    )
    make_distribution(
        tmp_path,
        "acme-broken",
        "acme_broken",
        "ganinv.spaces",
        {"broken": "acme_broken:Nope"},
        "raise RuntimeError('missing dependency foo')\n",
    )
    return tmp_path


def run_python(code: str, path: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


def test_plugins_command_lists_third_party_and_reports_broken(plugin_path: Path):
    proc = run_python(
        "from ganinv.cli.main import main; raise SystemExit(main(['plugins', '--kind', 'spaces', "
        "'--json']))",
        plugin_path,
    )
    records = {r["name"]: r for r in json.loads(proc.stdout)}
    assert records["shift"]["distribution"] == "acme-shift"
    assert records["shift"]["version"] == "0.3.1"
    assert records["shift"]["loads"] is True
    assert records["broken"]["loads"] is False
    assert "missing dependency foo" in records["broken"]["error"]
    # every other space still loads
    others = [r for n, r in records.items() if n != "broken"]
    assert others and all(r["loads"] for r in others)
    assert proc.returncode == 1  # a broken plugin makes the listing fail, loudly but completely


def test_build_constructs_third_party_space_while_broken_one_errors_clearly(plugin_path: Path):
    code = textwrap.dedent(
        """
        import ganinv
        space = ganinv.build("spaces", {"name": "shift", "shift": 0.5})
        print(type(space).__module__, space.shift)
        try:
            ganinv.build("spaces", "broken")
        except ganinv.GanInvError as exc:
            print("ERROR", exc)
        print("AFTER", type(ganinv.build("spaces", "shift")).__name__)
        """
    )
    proc = run_python(code, plugin_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "acme_shift 0.5" in out
    assert "ERROR plugin space 'broken'" in out
    assert "'acme-broken'" in out and "acme_broken:Nope" in out and "missing dependency foo" in out
    assert "AFTER ShiftSpace" in out
