"""Entry point of `ganinv` and `python -m ganinv`.

Sub-commands are modules listed in `COMMANDS`; each defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. User errors (`GanInvError`) print one line
and exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

from ganinv.core.allocator import keep_freed_memory
from ganinv.core.errors import GanInvError

COMMANDS = (
    "ganinv.cli.weights",
    "ganinv.cli.convert",
    "ganinv.cli.export",
    "ganinv.cli.data",
    "ganinv.cli.plugins",
    "ganinv.cli.train_gan",
    "ganinv.cli.train",
    "ganinv.cli.invert",
    "ganinv.cli.eval",
    "ganinv.cli.bench",
    "ganinv.cli.edit",
    "ganinv.cli.reproduce",
    "ganinv.cli.studio",
)


class _Parser(argparse.ArgumentParser):
    """Usage errors print one line, like every other user error (``-h`` prints the usage)."""

    def error(self, message: str) -> NoReturn:
        from ganinv.cli.options import suggest_override

        hint = suggest_override(message)
        self.exit(2, f"{self.prog}: error: {message}{hint} (`{self.prog} -h` shows the usage)\n")


def build_parser() -> argparse.ArgumentParser:
    from ganinv import __version__

    parser = _Parser(
        prog="ganinv",
        description="GAN inversion: train, invert, evaluate and benchmark inversion methods.",
    )
    parser.add_argument("--version", action="version", version=f"ganinv {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS:
        module = importlib.import_module(module_name)
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    _report_unreadable_distributions()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    # Freed tensor memory stays in the process: CPU steps stop page-faulting their activations
    # in again (7-25 % of an inversion step's CPU time; docs/performance.md).
    keep_freed_memory()
    try:
        return int(args._run(args) or 0)
    except GanInvError as exc:
        print(f"ganinv {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ganinv {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ganinv plugins | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def _report_unreadable_distributions() -> None:
    """One warning per installed distribution whose entry points cannot be read; torch (imported
    by the sub-commands) is kept importable despite them (`keep_torch_importable`)."""
    from ganinv.core.registry import keep_torch_importable

    for r in keep_torch_importable():
        print(
            f"ganinv: warning: distribution {r.distribution!r} ({r.target}): {r.error}; "
            "its plugins are unavailable until it is fixed or uninstalled",
            file=sys.stderr,
        )


if __name__ == "__main__":
    raise SystemExit(main())
