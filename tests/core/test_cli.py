"""The command line: both entry points, help, and one-line user errors."""

from __future__ import annotations

import subprocess
import sys

from ganinv.cli.main import main


def test_console_script_and_module_both_show_help():
    for cmd in (["ganinv", "--help"], [sys.executable, "-m", "ganinv", "--help"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "plugins" in proc.stdout


def test_user_error_is_one_line_with_status_2(capsys, monkeypatch):
    import ganinv.cli.plugins as plugins_command
    from ganinv.core.errors import GanInvError

    def failing(args):
        raise GanInvError("checkpoint 'x.pt' not found; pass an existing path")

    monkeypatch.setattr(plugins_command, "run", failing)
    assert main(["plugins"]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip() == "ganinv plugins: error: checkpoint 'x.pt' not found; pass an existing path"
    )
