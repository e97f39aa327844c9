"""`ganinv data convert|info`: convert image sets between formats and look inside them."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Annotated

from ganinv.core.config import PositiveInt, Range, flag_type
from ganinv.core.errors import GanInvError

NAME = "data"
HELP = "convert image data sets between folder, zip and LMDB, and report what they hold"

SOURCE_FORMATS = ("auto", "folder", "zip", "lmdb", "idx")
OUTPUT_FORMATS = ("folder", "zip", "lmdb")

JpegQuality = Annotated[int, Range(low=1, high=100)]  # Pillow: jpeg and webp


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ganinv.data.options import ENCODINGS, RESIZE_MODES

    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    convert = actions.add_parser(
        "convert",
        help="copy SRC to DST in another format (PNG by default: identical pixels and order)",
        description="Decode every image of SRC and write it, in order, to DST. The output "
        "appears atomically when complete; labels are carried over.",
    )
    convert.add_argument("src", help="folder, .zip, LMDB directory or folder of IDX files")
    convert.add_argument("dst", help="output path")
    convert.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        help="output format (default: zip for *.zip, lmdb for *.lmdb or *_lmdb, else folder)",
    )
    convert.add_argument(
        "--resolution",
        type=flag_type(PositiveInt),
        help="centre-crop to a square and resize to this side",
    )
    convert.add_argument(
        "--resize",
        choices=RESIZE_MODES,
        default="antialias",
        help="resize mode when --resolution is given (default antialias)",
    )
    convert.add_argument(
        "--no-center-crop", action="store_true", help="with --resolution: stretch, do not crop"
    )
    convert.add_argument(
        "--encoding",
        choices=ENCODINGS,
        default="png",
        help="image encoding of DST (default png: identical pixels)",
    )
    convert.add_argument(
        "--quality", type=flag_type(JpegQuality), default=95, help="for jpeg and webp"
    )
    convert.add_argument(
        "--on-error",
        choices=("raise", "skip"),
        default="raise",
        help="an undecodable image stops the conversion (raise) or is skipped and recorded",
    )
    convert.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    _add_source_options(convert)
    convert.set_defaults(_data_run=_run_convert)

    info = actions.add_parser(
        "info",
        help="count, sizes, modes and unreadable images of SRC",
        description="Read every image of SRC and report counts, sizes found and problems. "
        "Exit status 1 when some image cannot be read.",
    )
    info.add_argument("src", help="folder, .zip, LMDB directory or folder of IDX files")
    info.add_argument(
        "--quick", action="store_true", help="read headers only (no full decode of each image)"
    )
    info.add_argument("--json", action="store_true", help="machine-readable output")
    _add_source_options(info)
    info.set_defaults(_data_run=_run_info)


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    from ganinv.data.options import SPLITS

    parser.add_argument(
        "--source-format",
        choices=SOURCE_FORMATS,
        default="auto",
        help="layout of SRC (default auto: detected from what SRC is)",
    )
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default="all",
        help="which deterministic split of SRC to read (default all)",
    )
    parser.add_argument("--limit", type=flag_type(PositiveInt), help="only the first N images")


def _open_source(args: argparse.Namespace):  # -> ImageDataset
    from ganinv.data.build import build_dataset, detect_format

    fmt = detect_format(args.src) if args.source_format == "auto" else args.source_format
    spec = {"name": fmt, "path": args.src, "split": args.split, "check": "none"}
    if args.limit is not None:
        spec["limit"] = args.limit
    return build_dataset(spec)


def _output_format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    dst = args.dst.rstrip("/").lower()
    if dst.endswith(".zip"):
        return "zip"
    if dst.endswith((".lmdb", "_lmdb")):
        return "lmdb"
    return "folder"


def _run_convert(args: argparse.Namespace) -> int:
    from ganinv.data.convert import convert_dataset

    source = _open_source(args)
    fmt = _output_format(args)
    report = convert_dataset(
        source,
        args.dst,
        fmt,
        resolution=args.resolution,
        resize=args.resize,
        center_crop=not args.no_center_crop,
        encoding=args.encoding,
        quality=args.quality,
        on_error=args.on_error,
        overwrite=args.overwrite,
    )
    print(
        f"wrote {report.written} images to {args.dst} ({fmt}, {args.encoding})"
        + (", with labels" if report.labels else "")
    )
    if report.skipped:
        print(f"skipped {len(report.skipped)} unreadable image(s):")
        for name, problem in report.skipped:
            print(f"  {name}: {problem}")
    return 0


def _run_info(args: argparse.Namespace) -> int:
    from ganinv.data.info import inspect_dataset

    info = inspect_dataset(_open_source(args), decode=not args.quick)
    if args.json:
        print(json.dumps(info.as_dict(), indent=2))
        return 1 if info.problems else 0
    print(f"source: {info.path} ({info.format})")
    extra = f" ({info.ignored_files} non-image file(s) ignored)" if info.ignored_files else ""
    print(f"images: {info.count}{extra}")
    print("sizes: " + _tally(info.sizes))
    print("modes: " + _tally(info.modes))
    print("formats: " + _tally(info.formats))
    if info.labels is not None:
        print("labels: " + ", ".join(f"{k}: {v}" for k, v in info.labels.items()))
    checked = "header check" if args.quick else "full decode"
    print(f"problems ({checked}): {len(info.problems)}")
    for name, problem in info.problems:
        print(f"  {name}: {problem}")
    return 1 if info.problems else 0


def _tally(counter) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counter.most_common()) or "(none)"


def run(args: argparse.Namespace) -> int:
    # Skips are reported through logging; show them on stderr when nothing else configured it.
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not hasattr(args, "_data_run"):
        raise GanInvError("choose an action: `ganinv data convert` or `ganinv data info`")
    return args._data_run(args)
