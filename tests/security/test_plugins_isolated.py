"""Plugins are isolated: a broken installed distribution breaks only itself, and is reported.

Each distribution is a folder with its own `*.dist-info`, exactly what pip writes, put on the
path of a child process only (so nothing stays visible to other tests). The broken modules write
a marker file when imported, which shows when (and how often) ganinv ran their code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOOD_SPACE = """
from ganinv.core.space import InversionSpace

class ShiftSpace(InversionSpace):
    name = "shift"

    def __init__(self, generator=None, shift: float = 0.0):
        self.shift = shift
"""


def make_distribution(root: Path, dist: str, entry_points: str, source: str | None) -> None:
    """A distribution `dist` with a package of the same name (underscored), as pip installs it."""
    package = dist.replace("-", "_")
    if source is not None:
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text(textwrap.dedent(source))
    info = root / f"{package}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


def marking(marker: Path, body: str) -> str:
    """Module source that appends a line to `marker` on import, then runs `body`."""
    return f"open({str(marker)!r}, 'a').write('imported\\n')\n{body}\n"


def run_python(code: str, path: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(path), os.environ.get("PYTHONPATH", "")])
    )
    env.pop("TORCH_DEVICE_BACKEND_AUTOLOAD", None)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


def run_cli(args: list[str], path: Path) -> subprocess.CompletedProcess:
    return run_python(f"from ganinv.cli.main import main; raise SystemExit(main({args!r}))", path)


@pytest.fixture(scope="module")
def broken_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One good plugin beside one of every kind of broken one."""
    root = tmp_path_factory.mktemp("site")
    marks = root / "marks"
    marks.mkdir()
    make_distribution(
        root, "acme-good", "[ganinv.spaces]\nshift = acme_good:ShiftSpace\n", GOOD_SPACE
    )
    make_distribution(
        root,
        "acme-exits",
        "[ganinv.spaces]\nexits = acme_exits:Space\n",
        marking(marks / "exits", "import sys\nsys.exit(3)"),
    )
    make_distribution(
        root,
        "acme-interrupts",
        "[ganinv.refiners]\ninterrupts = acme_interrupts:Refiner\n",
        marking(marks / "interrupts", "raise KeyboardInterrupt"),
    )
    make_distribution(
        root,
        "acme-systemexit",
        "[ganinv.encoders]\nquits = acme_systemexit:Encoder\n",
        marking(marks / "systemexit", "raise SystemExit('bye')"),
    )
    make_distribution(
        root,
        "acme-exits-late",
        "[ganinv.spaces]\nexits_late = acme_exits_late:Space\n",
        "import sys\n\nclass Space:\n    def __init__(self):\n        sys.exit(4)\n",
    )
    make_distribution(
        root,
        "acme-chatty",
        "[ganinv.spaces]\nchatty = acme_chatty:ShiftSpace\n",
        "print('acme-chatty says hello')\n" + GOOD_SPACE,
    )
    make_distribution(
        root,
        "acme-constant",
        "[ganinv.losses]\nconstant = acme_constant:WEIGHT\n",
        marking(marks / "constant", "WEIGHT = 3"),
    )
    make_distribution(
        root, "acme-badvalue", "[ganinv.metrics]\nbadvalue = not a module path!\n", None
    )
    return root


@pytest.fixture(scope="module")
def unreadable_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good plugin beside a distribution whose entry_points.txt cannot be parsed at all."""
    root = tmp_path_factory.mktemp("site")
    make_distribution(
        root, "acme-good", "[ganinv.spaces]\nshift = acme_good:ShiftSpace\n", GOOD_SPACE
    )
    # No `=`: importlib.metadata cannot parse this file at all.
    make_distribution(
        root, "acme-unparseable", "[ganinv.datasets]\nthis line has no equals sign\n", None
    )
    return root


def test_plugins_lists_every_broken_distribution_as_failed(broken_world: Path):
    proc = run_cli(["plugins", "--json"], broken_world)
    assert proc.returncode == 1, proc.stderr
    records = json.loads(proc.stdout)
    by_name = {r["name"]: r for r in records if r["kind"] != ""}

    assert by_name["shift"]["loads"] is True and by_name["shift"]["distribution"] == "acme-good"
    # a plugin printing on import does not corrupt the listing: its words go to stderr
    assert by_name["chatty"]["loads"] is True and "acme-chatty says hello" in proc.stderr
    # built-ins and the repository's own plugins still load
    assert by_name["stylegan2"]["loads"] is True and by_name["wplus"]["loads"] is True

    expected = {
        "exits": ("spaces", "acme-exits", "sys.exit(3)"),
        "interrupts": ("refiners", "acme-interrupts", "KeyboardInterrupt"),
        "quits": ("encoders", "acme-systemexit", "sys.exit('bye')"),
        "constant": ("losses", "acme-constant", "is a int, not a class or callable"),
        "badvalue": ("metrics", "acme-badvalue", "is not 'module:attribute'"),
    }
    for name, (kind, dist, reason) in expected.items():
        record = by_name[name]
        assert record["kind"] == kind and record["distribution"] == dist, record
        assert record["loads"] is False and reason in record["error"], record
    # each broken module was imported exactly once (the listing tries each plugin once)
    for mark in ("exits", "interrupts", "systemexit", "constant"):
        assert (broken_world / "marks" / mark).read_text() == "imported\n"
    for mark in ("exits", "interrupts", "systemexit", "constant"):
        (broken_world / "marks" / mark).unlink()


def test_unreadable_entry_points_are_listed_as_failed(unreadable_world: Path):
    proc = run_cli(["plugins", "--json"], unreadable_world)
    assert proc.returncode == 1, proc.stderr
    records = json.loads(proc.stdout)
    unreadable = [r for r in records if r["distribution"] == "acme-unparseable"]
    assert len(unreadable) == 1 and unreadable[0]["kind"] == "datasets"
    assert unreadable[0]["loads"] is False
    assert "line 2 'this line has no equals sign'" in unreadable[0]["error"]
    others = [r for r in records if r["distribution"] != "acme-unparseable"]
    assert any(r["name"] == "shift" for r in others) and all(r["loads"] for r in others)

    proc = run_cli(["plugins", "--kind", "datasets"], unreadable_world)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    failed = [i for i, line in enumerate(lines) if "acme-unparseable 1.0" in line]
    assert len(failed) == 1 and "FAILED" in lines[failed[0]]
    assert "entry_points.txt cannot be parsed: line 2" in lines[failed[0] + 1]
    assert any(line.split()[:1] == ["folder"] and " ok " in line for line in lines)


def test_commands_that_do_not_use_a_broken_plugin_work_and_import_nothing_broken(
    broken_world: Path,
):
    code = textwrap.dedent(
        """
        import ganinv
        print("BUILT", ganinv.build("spaces", {"name": "shift", "shift": 0.5}).shift)
        print("LOSS", type(ganinv.build("losses", "mse")).__name__)
        for kind, name in [("spaces", "exits"), ("refiners", "interrupts"),
                           ("encoders", "quits"), ("losses", "constant")]:
            for attempt in range(2):
                try:
                    ganinv.build(kind, name)
                except ganinv.GanInvError as exc:
                    print("ERROR", str(exc).replace("\\n", " "))
        try:
            ganinv.build("spaces", "exits_late")
        except ganinv.GanInvError as exc:
            print("LATE", exc)
        print("AFTER", ganinv.build("spaces", "shift").shift)
        """
    )
    marks = broken_world / "marks"
    for mark in marks.iterdir():
        mark.unlink()
    proc = run_python(code, broken_world)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert "BUILT 0.5" in out and "LOSS MSELoss" in out and "AFTER 0.0" in out
    late = [line for line in out if line.startswith("LATE")]
    assert len(late) == 1 and "'acme-exits-late'" in late[0] and "sys.exit(4)" in late[0]
    errors = [line for line in out if line.startswith("ERROR")]
    assert len(errors) == 8
    assert all("the other plugins are unaffected" in e for e in errors)
    assert "'acme-exits'" in errors[0] and "sys.exit(3)" in errors[0]
    assert "'acme-interrupts'" in errors[2] and "KeyboardInterrupt" in errors[2]
    assert "'acme-constant'" in errors[6] and "not a class or callable" in errors[6]
    # a plugin that failed is not imported again; one that was never asked for never runs
    for mark in ("exits", "interrupts", "systemexit", "constant"):
        assert (marks / mark).read_text() == "imported\n", mark
    for mark in list(marks.iterdir()):
        mark.unlink()


def test_cli_command_runs_beside_an_unreadable_distribution(unreadable_world: Path, tmp_path: Path):
    """`import torch` itself reads every distribution's entry points: ganinv keeps it working."""
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(2):
        Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(folder / f"{i}.png")
    proc = run_cli(["data", "info", str(folder)], unreadable_world)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "acme-unparseable" in line]
    assert len(warnings) == 1 and "line 2" in warnings[0]


def test_shadowed_names_are_reported(tmp_path: Path):
    make_distribution(tmp_path, "acme-a", "[ganinv.spaces]\ntwin = acme_a:S\n", GOOD_SPACE)
    make_distribution(tmp_path, "acme-b", "[ganinv.spaces]\ntwin = acme_b:S\n", GOOD_SPACE)
    # a plugin claiming a built-in's name never replaces the built-in
    make_distribution(tmp_path, "acme-c", "[ganinv.losses]\nmse = acme_c:Evil\n", "Evil = 1\n")
    proc = run_cli(["plugins", "--json"], tmp_path)
    records = {(r["kind"], r["name"]): r for r in json.loads(proc.stdout)}
    twin = records[("spaces", "twin")]
    other = "acme-b" if twin["distribution"] == "acme-a" else "acme-a"
    assert twin["shadowed"] == [f"{other} 1.0 ({other.replace('-', '_')}:S)"]
    mse = records[("losses", "mse")]
    assert mse["distribution"] == "ganinv" and mse["loads"] is True
    assert mse["shadowed"] == ["acme-c 1.0 (acme_c:Evil)"]
    text = run_cli(["plugins", "--kind", "losses"], tmp_path).stdout
    assert "shadows acme-c 1.0 (acme_c:Evil)" in text
