"""`ganinv reproduce NAME [--check]`: reproduce a paper's comparison from its recipe.

With ``--check``: verify every asset and data set against its card (all problems at once, each
with how to obtain it) and print the plan (steps, images seen, memory per GPU, GPU hours from a
measured step time). Without: check, then train and benchmark through the harness.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganinv.cli.options import add_device
from ganinv.core.config import PositiveInt, flag_type

NAME = "reproduce"
HELP = "check the assets of a paper-reproduction recipe, print its plan, or run it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "recipe", nargs="?", help="recipe name (configs/reproduce/NAME.yaml) or a path"
    )
    parser.add_argument("--check", action="store_true", help="only check assets and print the plan")
    parser.add_argument("--list", action="store_true", help="list recipes and asset cards")
    parser.add_argument("--assets", default="assets", help="folder of model files (default assets)")
    parser.add_argument("--data", default="data", help="folder of data sets (default data)")
    parser.add_argument("--registry", default="registry", help="asset cards folder")
    parser.add_argument("--recipes", default="configs/reproduce", help="recipes folder")
    parser.add_argument(
        "--timing", action="append", default=[], help="timing JSON (scripts/reproduce_gpu_check.py)"
    )
    parser.add_argument(
        "--measure",
        action="store_true",
        help="time the real training step on this device (a few steps) for the plan",
    )
    parser.add_argument(
        "--measure-batch", type=flag_type(PositiveInt), default=1, help="batch per device to time"
    )
    parser.add_argument(
        "--random-generator",
        action="store_true",
        help="time with a random-weight generator of the card's architecture (no checkpoint)",
    )
    parser.add_argument("--json", help="also write the check report and plan to this JSON file")
    parser.add_argument("--resume", action="store_true", help="resume training and benchmark")
    add_device(parser)


def _print_report(report) -> None:
    print(f"assets of {report.recipe}:")
    for need in report.needs:
        if need.ok:
            print(f"  [ok]      {need.role}: {need.card} at {need.path}")
            for detail in need.details:
                print(f"              {detail}")
        else:
            print(f"  [MISSING] {need.role}:")
            for problem in need.problems:
                print(f"              - {problem}")
    for problem in report.config_problems:
        print(f"  [CONFIG]  {problem}")


def _measure(args, recipe, configs, cards):
    from ganinv.harness.device import resolve_device
    from ganinv.reproduce.timing import measure_train_step

    device = resolve_device(args.device)
    records = {}
    for label, config in configs.items():
        resolution = None
        if args.random_generator:
            resolution = _generator_resolution(recipe, cards)
        print(f"timing {label} on {device} at batch {args.measure_batch} ...", flush=True)
        records[label] = measure_train_step(
            config, device, args.measure_batch, random_generator=resolution, step_label=label
        )
    return records


def _generator_resolution(recipe, cards) -> int:
    from ganinv.core.errors import GanInvError

    for need in recipe.assets:
        for name in need.cards:
            card = cards.get(name)
            if card is not None and card.kind == "generator" and card.file is not None:
                resolution = card.file.expect.get("resolution")
                if resolution:
                    return int(resolution)
    raise GanInvError("no generator card of this recipe states expect.resolution")


def run(args: argparse.Namespace) -> int:
    from ganinv.core.errors import GanInvError
    from ganinv.core.io import atomic_write_text
    from ganinv.reproduce import Locations, available_recipes, check_recipe, load_recipe
    from ganinv.reproduce.cards import load_registry
    from ganinv.reproduce.plan import make_plan
    from ganinv.reproduce.runner import (
        load_bench_config,
        load_train_configs,
        read_timings,
        run_recipe,
    )

    cards = load_registry(args.registry)
    if args.list:
        print("recipes:", ", ".join(available_recipes(args.recipes)) or "(none)")
        print("asset cards:")
        for card in cards.values():
            print(f"  {card.name:<32} {card.kind:<9} {card.title}")
        return 0
    if not args.recipe:
        raise GanInvError("name a recipe (`ganinv reproduce --list` shows them)")
    recipe = load_recipe(args.recipe, args.recipes)
    locations = Locations(Path(args.assets), Path(args.data))
    report = check_recipe(recipe, cards, locations)
    if not args.check:
        from ganinv.harness.device import init_distributed, shutdown_distributed

        if not report.ok:
            _print_report(report)
        ctx, device = init_distributed(args.device)
        try:
            outcome = run_recipe(recipe, report, device, ctx, resume=args.resume)
        finally:
            shutdown_distributed()
        if ctx.is_main and outcome["bench"] is not None:
            print(outcome["bench"].table.to_markdown())
        return 0

    _print_report(report)
    paths = report.paths()
    configs = load_train_configs(recipe, paths)
    timings = read_timings(args.timing)
    if args.measure:
        timings.update(_measure(args, recipe, configs, cards))
    plan = make_plan(recipe, configs, timings, load_bench_config(recipe, paths))
    print()
    print("\n".join(plan.lines()))
    if recipe.targets:
        print("targets (see docs/reproduce.md for protocols):")
        for target in recipe.targets:
            known = ", ".join(f"{k} {v}" for k, v in target.values.items() if v is not None)
            unknown = [k for k, v in target.values.items() if v is None]
            if unknown:
                known += ("; " if known else "") + f"not transcribed: {', '.join(unknown)}"
            state = "verified" if target.verified else "unverified"
            print(f"  {target.row}: {known or 'not transcribed'}  [{state}; {target.source}]")
    missing = [n for n in report.needs if not n.ok]
    print()
    if report.ok:
        print(f"ready: every asset of {recipe.name} is present and matches its card")
    else:
        print(
            f"not ready: {len(missing)} missing or mismatched asset(s), "
            f"{len(report.config_problems)} config problem(s); see above"
        )
    if args.json:
        record = {
            "recipe": recipe.name,
            "ok": report.ok,
            "needs": [n.__dict__ for n in report.needs],
            "config_problems": report.config_problems,
            "plan": plan.lines(),
            "timings": {k: v.as_dict() for k, v in timings.items()},
        }
        atomic_write_text(args.json, json.dumps(record, indent=2))
    return 0 if report.ok else 1
