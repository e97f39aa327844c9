"""`ganinv studio [--host H] [--port N] [--config FILE]`: the local web app (docs/studio.md)."""

from __future__ import annotations

import argparse

from ganinv.cli.options import add_device
from ganinv.core.config import PositiveFloat, PositiveInt, flag_type

NAME = "studio"
HELP = "a local web app to invert, compare and edit images (needs the 'studio' extra: Gradio)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; another address, "
        "e.g. 0.0.0.0, exposes the studio to the network and prints a warning)",
    )
    parser.add_argument(
        "--port", type=flag_type(PositiveInt), default=7860, help="port (default 7860)"
    )
    parser.add_argument(
        "--config",
        default="demo/studio",
        help="studio config: a YAML file, or the name of one shipped beside the registry cards "
        "(default demo/studio: the demo generator, encoders and direction)",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=flag_type(PositiveFloat),
        default=None,
        help="largest image upload accepted, in MB (default: the config's, 20)",
    )
    parser.add_argument("overrides", nargs="*", help="key.sub=value overrides of the config")
    add_device(parser)


def run(args: argparse.Namespace) -> int:
    from ganinv.harness.device import resolve_device
    from ganinv.studio.config import load_studio_config
    from ganinv.studio.server import serve

    overrides = list(args.overrides)
    if args.max_upload_mb is not None:
        overrides.append(f"max_upload_mb={args.max_upload_mb}")
    config = load_studio_config(args.config, overrides)
    serve(config, args.host, args.port, resolve_device(args.device))
    return 0
