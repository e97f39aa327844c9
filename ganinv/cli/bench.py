"""`ganinv bench CONFIG [key=value ...] [--resume]`: a grid of methods -> tables and a report."""

from __future__ import annotations

import argparse

from ganinv.cli.options import add_device

NAME = "bench"
HELP = "benchmark a grid of methods: Markdown/CSV/JSON/LaTeX tables, image grids, HTML report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config",
        help="benchmark config (YAML), or the name of one shipped with the cards "
        "(e.g. demo/bench: the demo benchmark, from any folder)",
    )
    parser.add_argument("overrides", nargs="*", help="key.sub=value overrides")
    parser.add_argument("--resume", action="store_true", help="skip methods that finished before")
    add_device(parser)


def run(args: argparse.Namespace) -> int:
    from ganinv.core.assets import config_file
    from ganinv.harness.bench import run_bench
    from ganinv.harness.configs import load
    from ganinv.harness.device import init_distributed, shutdown_distributed
    from ganinv.harness.schema import BenchConfig

    config = load(BenchConfig, config_file(args.config), args.overrides)
    ctx, device = init_distributed(args.device)
    try:
        outcome = run_bench(config, device, resume=args.resume, dist_ctx=ctx)
    finally:
        shutdown_distributed()
    if ctx.is_main:
        print()
        print(outcome.table.to_markdown())
        if outcome.edit_table is not None:
            print(outcome.edit_table.to_markdown())
        for kind, path in outcome.paths.items():
            print(f"{kind:>9}: {path}")
    return 0
