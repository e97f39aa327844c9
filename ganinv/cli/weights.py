"""`ganinv weights list|verify|install`: the offline weights cache."""

from __future__ import annotations

import argparse
import json
import logging

from ganinv.weights import CATALOG, cache_dir, install, status, verify

NAME = "weights"
HELP = "list, verify and install the offline weight files (LPIPS, VGG16, ArcFace, FaceNet, FID)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser(
        "list", help="every known weights file and whether it is installed"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    check = actions.add_parser("verify", help="recompute sha256 of installed files")
    check.add_argument("names", nargs="*", help="weights to verify (default: all installed)")
    add = actions.add_parser(
        "install",
        help="convert the automatic weights (no NAME) or install NAME from a local file",
    )
    add.add_argument("name", nargs="?", choices=sorted(CATALOG), metavar="NAME")
    add.add_argument("--from", dest="source", help="path of the file to install (user weights)")
    add.add_argument("--force", action="store_true", help="replace an installed file")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.action == "list":
        records = status()
        if args.json:
            print(json.dumps([r.__dict__ for r in records], indent=2))
            return 0
        print(f"cache: {cache_dir()}")
        for r in records:
            print(f"  {r.name:<18} {r.source:<9} {r.message:<22} {r.filename}")
            print(f"  {'':<18} {r.description}; used by {r.used_by}")
        return 0
    if args.action == "verify":
        names = args.names or [r.name for r in status() if r.installed]
        if not names:
            print(f"nothing installed in {cache_dir()}")
            return 0
        for name in names:
            print(f"{name}: sha256 {verify(name)} ok")
        return 0
    # install
    if args.name is None:
        if args.source:
            print("--from needs a NAME (e.g. `ganinv weights install arcface_ir_se50 --from F`)")
            return 2
        for name, entry in CATALOG.items():
            if entry.automatic:
                print(f"{name}: {install(name, force=args.force)}")
        return 0
    print(f"{args.name}: {install(args.name, args.source, force=args.force)}")
    return 0
