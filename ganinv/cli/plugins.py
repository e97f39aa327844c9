"""`ganinv plugins`: every registered name per kind, who provides it, and whether it loads."""

from __future__ import annotations

import argparse
import json

from ganinv.core.registry import KINDS, registry

NAME = "plugins"
HELP = "list registered components per kind, with their distribution and whether they load"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=KINDS, help="only this kind")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    kinds = [args.kind] if args.kind else list(KINDS)
    records = [info for kind in kinds for info in registry(kind).info(try_load=True)]
    if args.json:
        print(json.dumps([r.__dict__ for r in records], indent=2))
        return 0 if all(r.loads for r in records) else 1
    for kind in kinds:
        print(f"{kind}:")
        rows = [r for r in records if r.kind == kind]
        if not rows:
            print("  (none)")
        for r in rows:
            provider = f"{r.distribution} {r.version}"
            status = "ok" if r.loads else "FAILED"
            print(f"  {r.name:<20} {provider:<24} {status:<6} {r.target}")
            if not r.loads:
                print(f"      {r.error}")
    return 0 if all(r.loads for r in records) else 1
