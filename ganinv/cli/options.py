"""Options that mean the same thing in every sub-command, spelled the same way everywhere.

`--device` on every command that computes, `--batch-size` for batch sizes, `--overwrite` to
replace an output ganinv wrote (``--force`` is still accepted: the old spelling of some
commands). Key=value overrides of a config are positional; `suggest_override` turns a mistyped
``--key value`` into the override it probably meant.
"""

from __future__ import annotations

import argparse
import re

DEVICES = ("auto", "cpu", "cuda")


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        default="auto",
        choices=DEVICES,
        help="where to compute: auto (CUDA when available, else the CPU), cpu or cuda",
    )


def add_overwrite(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--overwrite",
        "--force",
        dest="overwrite",
        action="store_true",
        help=f"replace {what} if it exists (only a file or folder ganinv wrote)",
    )


def add_batch_size(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    from ganinv.core.config import PositiveInt, flag_type

    parser.add_argument(
        "--batch-size",
        "--batch",
        dest="batch_size",
        type=flag_type(PositiveInt),
        default=default,
        help=f"images per batch {what} (default {default})",
    )


def suggest_override(message: str) -> str:
    """For argparse's "unrecognized arguments: --steps 10", the override form ``steps=10``."""
    if not message.startswith("unrecognized arguments:"):
        return ""
    tokens = message.split(":", 1)[1].split()
    hints = []
    for i, token in enumerate(tokens):
        match = re.fullmatch(r"--([A-Za-z][\w.-]*)(?:=(.*))?", token)
        if not match:
            continue
        key, value = match.group(1).replace("-", "_"), match.group(2)
        if value is None and i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
            value = tokens[i + 1]
        hints.append(f"{key}={value if value is not None else 'VALUE'}")
    if not hints:
        return ""
    return (
        f"; config keys are set as key=value overrides without dashes: did you mean "
        f"{' '.join(hints)}?"
    )
