"""`ganinv plugins`: every registered name per kind, who provides it, and whether it loads.

Plugins that fail (unreadable entry points, an import that raises or exits, an entry point that is
not a class or callable) are listed as FAILED with their distribution and the reason; a name
registered more than once says which registrations it shadows. Exit status 1 when any failed.
"""

from __future__ import annotations

import argparse
import json

from ganinv.core.registry import KINDS, PluginInfo, installed_plugins, registry

NAME = "plugins"
HELP = "list registered components per kind, with their distribution and whether they load"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=KINDS, help="only this kind")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    kinds = [args.kind] if args.kind else list(KINDS)
    records = [info for kind in kinds for info in registry(kind).info(try_load=True)]
    # Distributions whose entry points cannot be read: under the kinds their file names, or
    # under every listing when it names none.
    unreadable = [r for r in installed_plugins().unreadable if r.kind in ("", *kinds)]
    status = 0 if all(r.loads for r in records) and not unreadable else 1
    if args.json:
        print(json.dumps([r.__dict__ for r in records + unreadable], indent=2))
        return status
    for kind in kinds:
        print(f"{kind}:")
        rows = [r for r in records if r.kind == kind]
        if not rows:
            print("  (none)")
        for r in rows:
            _print_row(r)
        for r in unreadable:
            if r.kind == kind:
                _print_unreadable(r)
    others = [r for r in unreadable if r.kind == ""]
    if others:
        print("distributions whose entry points cannot be read:")
        for r in others:
            _print_unreadable(r)
    return status


def _print_row(r: PluginInfo) -> None:
    provider = f"{r.distribution} {r.version}"
    status = "ok" if r.loads else "FAILED"
    print(f"  {r.name:<20} {provider:<24} {status:<6} {r.target}")
    if not r.loads:
        print(f"      {r.error}")
    for other in r.shadowed:
        print(f"      shadows {other}: this name is registered more than once")


def _print_unreadable(r: PluginInfo) -> None:
    print(f"  {'(entry points)':<20} {r.distribution + ' ' + r.version:<24} FAILED {r.target}")
    print(f"      {r.error}")
