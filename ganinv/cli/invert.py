"""`ganinv invert --method CONFIG --input PATH --out DIR`: codes and reconstructions."""

from __future__ import annotations

import argparse

from ganinv.cli.options import add_batch_size, add_device
from ganinv.core.config import PositiveInt, flag_type

NAME = "invert"
HELP = "invert images (file, folder or dataset spec) with a method: codes + reconstructions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--method",
        required=True,
        help="method YAML (or a config with a 'method:' section), an exported encoder "
        ".safetensors, or an encoder's registry card name (e.g. demo_psp; `ganinv weights list`)",
    )
    parser.add_argument(
        "--input",
        required=True,
        help="image file, folder, or a dataset spec as YAML, e.g. "
        '"{name: folder, path: imgs, resolution: 64}"',
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("overrides", nargs="*", help="key.sub=value overrides of the method")
    add_batch_size(parser, 8, "through the method")
    parser.add_argument(
        "--limit", type=flag_type(PositiveInt), default=None, help="at most this many images"
    )
    add_device(parser)


def run(args: argparse.Namespace) -> int:
    from ganinv.harness.configs import load_method
    from ganinv.harness.device import resolve_device
    from ganinv.harness.inputs import parse_input_spec
    from ganinv.harness.invert import run_invert
    from ganinv.harness.method import build_method

    method = build_method(load_method(args.method, args.overrides), resolve_device(args.device))
    summary = run_invert(
        method, parse_input_spec(args.input), args.out, args.batch_size, args.limit
    )
    print(
        f"inverted {len(summary['images'])} image(s) into space {summary['space']!r}: "
        f"{args.out}/codes, {args.out}/recon"
    )
    if summary["skipped"]:
        print(f"skipped {len(summary['skipped'])} unreadable image(s) (on_error: skip):")
        for name, problem in summary["skipped"]:
            print(f"  {name}: {problem}")
    return 0
