"""One CLI: the same option names for the same things, help for every option, help without
importing torch, and a mistyped ``--key value`` answered with the override it meant."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from ganinv.cli.main import build_parser, main


def _parsers(parser: argparse.ArgumentParser, prefix: str = "ganinv"):
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{prefix} {name}")


def _options(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if action.option_strings and not isinstance(action, argparse._HelpAction):
            yield action


COMMANDS = list(_parsers(build_parser()))


@pytest.mark.parametrize("command,parser", COMMANDS, ids=[c for c, _ in COMMANDS])
def test_every_option_has_help_and_the_shared_spelling(command, parser):
    for action in _options(parser):
        if isinstance(action, argparse._VersionAction):
            continue
        assert action.help, f"{command} {action.option_strings[0]} has no help text"
        primary = action.option_strings[0]
        assert primary not in ("--force", "--batch", "--output"), (
            f"{command}: {primary} is spelled --overwrite / --batch-size / --out elsewhere"
        )
        if primary == "--device":
            assert tuple(action.choices) == ("auto", "cpu", "cuda"), command


def test_commands_that_compute_take_a_device():
    computing = {"train", "eval", "bench", "invert", "reproduce"}
    have = {
        c.split()[1]
        for c, p in COMMANDS
        if len(c.split()) == 2 and any(a.option_strings[0] == "--device" for a in _options(p))
    }
    assert computing <= have, computing - have


def test_help_imports_no_torch():
    code = (
        "import sys, contextlib, io\n"
        "from ganinv.cli.main import build_parser, main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    build_parser().format_help()\n"
        "    for c in ('bench', 'invert', 'weights', 'data', 'edit', 'train'):\n"
        "        try:\n"
        "            main([c, '--help'])\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(sorted(m for m in ('torch', 'numpy', 'PIL', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


def test_a_dashed_config_key_suggests_its_override(capsys):
    with pytest.raises(SystemExit) as info:
        main(["bench", "configs/demo/bench.yaml", "--data.limit", "8", "--steps=3"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "did you mean data.limit=8 steps=3?" in err
