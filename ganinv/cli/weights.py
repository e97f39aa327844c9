"""`ganinv weights list|verify|install|download`: the weights cache and checked downloads."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ganinv.cli.options import add_overwrite
from ganinv.weights.catalog import CATALOG

NAME = "weights"
HELP = "list, verify, install and download weight files (LPIPS, VGG16, ArcFace, FaceNet, FID, GANs)"


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
    add_overwrite(add, "an installed file")
    fetch = actions.add_parser(
        "download",
        help="fetch a file that a catalogue entry or registry card links to (sha256 checked, "
        "resumable); the only command that uses the network",
    )
    fetch.add_argument("name", metavar="NAME", help="weights name or registry card name")
    fetch.add_argument(
        "--to",
        default="assets",
        help="folder for registry-card files (default: assets/, where the recipes look); "
        "weights go to the weights cache",
    )
    fetch.add_argument("--registry", default=None, help="asset cards folder (default: the repo's)")
    fetch.add_argument(
        "--accept-unknown-hash",
        action="store_true",
        help="download a file whose publisher gives no sha256 and record the hash it has now",
    )
    fetch.add_argument(
        "--no-resume", action="store_true", help="discard a partial download and start again"
    )


def run(args: argparse.Namespace) -> int:
    from ganinv.weights.cache import cache_dir
    from ganinv.weights.manager import install, status, verify

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.action == "list":
        records = status()
        if args.json:
            from ganinv.core.assets import list_assets

            assets = [
                {**a.__dict__, "card": str(a.card), "path": str(a.path or "")}
                for a in list_assets()
            ]
            print(
                json.dumps({"weights": [r.__dict__ for r in records], "assets": assets}, indent=2)
            )
            return 0
        print(f"cache: {cache_dir()}")
        for r in records:
            print(f"  {r.name:<18} {r.source:<9} {r.message:<22} {r.filename}")
            print(f"  {'':<18} {r.description}; used by {r.used_by}")
        _list_assets()
        return 0
    if args.action == "verify":
        names = args.names or [r.name for r in status() if r.installed]
        if not names:
            print(f"nothing installed in {cache_dir()}")
            return 0
        for name in names:
            print(f"{name}: sha256 {verify(name)} ok")
        return 0
    if args.action == "download":
        return _download(args)
    # install
    if args.name is None:
        if args.source:
            print("--from needs a NAME (e.g. `ganinv weights install arcface_ir_se50 --from F`)")
            return 2
        for name, entry in CATALOG.items():
            if entry.automatic:
                print(f"{name}: {install(name, force=args.overwrite)}")
        return 0
    print(f"{args.name}: {install(args.name, args.source, force=args.overwrite)}")
    return 0


def _list_assets() -> None:
    """Registry cards that name a file: usable by name wherever a file is expected."""
    from ganinv.core.assets import list_assets

    print("\nassets by name (registry cards; `ganinv.load_generator(NAME)`, `--method NAME`):")
    for asset in list_assets():
        where = str(asset.path) if asset.path else "not here"
        sha = asset.sha256[:16] + "..." if asset.sha256 else "no published sha256"
        print(f"  {asset.name:<30} {asset.kind:<9} {where}")
        print(
            f"  {'':<30} {asset.title}; licence: {asset.licence}; sha256 {sha}; card {asset.card}"
        )


def _registry_folder(given: str | None) -> Path:
    if given is not None:
        return Path(given)
    checkout = Path(__file__).resolve().parents[2] / "registry"  # a source checkout's cards
    return checkout if checkout.is_dir() else Path("registry")


def _download(args: argparse.Namespace) -> int:
    from ganinv.core.errors import GanInvError
    from ganinv.weights.cache import cache_dir
    from ganinv.weights.download import Expected, download
    from ganinv.weights.manager import install

    options = {"accept_unknown_hash": args.accept_unknown_hash, "resume": not args.no_resume}
    if args.name in CATALOG:
        entry = CATALOG[args.name]
        if not entry.url:
            how = entry.obtain or f"the {entry.source!r} package"
            raise GanInvError(
                f"weights {args.name!r} have no direct download link; get them from {how}"
            )
        prefix = entry.known_sha256 if len(entry.known_sha256) < 64 else None
        full = entry.known_sha256 if len(entry.known_sha256) == 64 else None
        target = cache_dir() / entry.filename
        fresh = not target.exists()
        download(entry.url, target, Expected(full, prefix), **options)
        try:  # loads into its network and records the sha256 in the cache manifest
            print(f"{args.name}: {install(args.name, target)}")
        except GanInvError:
            if fresh:  # ours, just downloaded, and not what the catalogue describes
                target.unlink()
            raise
        return 0
    from ganinv.reproduce.cards import load_registry

    folder = _registry_folder(args.registry)
    cards = load_registry(folder)
    card = cards.get(args.name)
    if card is None:
        known = sorted([*CATALOG, *(n for n, c in cards.items() if c.file and c.file.url)])
        raise GanInvError(
            f"nothing called {args.name!r} to download (weights catalogue and cards in {folder}); "
            f"downloadable: {', '.join(known)}"
        )
    if card.weights_catalog:  # a network card: its files are catalogue entries
        args.name = card.weights_catalog[0]
        return _download(args)
    if card.file is None or not card.file.url:
        raise GanInvError(f"card {args.name!r} gives no direct link; {card.obtain}")
    facts = card.file
    target = Path(args.to) / facts.filename
    sha = download(
        facts.url, target, Expected(facts.sha256, facts.sha256_prefix, facts.size_bytes), **options
    )
    print(f"{args.name}: {target} (sha256 {sha})")
    return 0
