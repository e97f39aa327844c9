"""`ganinv eval CONFIG [key=value ...]`: one method on a test split -> metrics JSON."""

from __future__ import annotations

import argparse

from ganinv.cli.options import add_device

NAME = "eval"
HELP = "evaluate one method on a test split (metrics with protocols, s/image, peak memory)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="evaluation config (YAML)")
    parser.add_argument("overrides", nargs="*", help="key.sub=value overrides")
    add_device(parser)


def run(args: argparse.Namespace) -> int:
    from ganinv.harness.configs import load
    from ganinv.harness.device import init_distributed, shutdown_distributed
    from ganinv.harness.evaluate import run_eval
    from ganinv.harness.schema import EvalConfig

    config = load(EvalConfig, args.config, args.overrides)
    ctx, device = init_distributed(args.device)
    try:
        record = run_eval(config, device, ctx)
    finally:
        shutdown_distributed()
    if ctx.is_main:
        for name, m in record["metrics"].items():
            note = m.get("protocol", {}).get("note")
            print(f"{name:>12} = {m['value']:.6g}" + (f"  ({note})" if note else ""))
        print(f"{'s/image':>12} = {record['seconds_per_image']:.4g}")
        print(f"{'peak MiB':>12} = {record['peak_memory']['bytes'] / 2**20:.0f}")
        skipped = record["data"]["skipped"]
        if skipped:
            print(f"skipped {len(skipped)} unreadable image(s) (on_error: skip):")
            for item in skipped:
                print(f"  {item['name']}: {item['problem']}")
        print(f"written: {config.out}/metrics.json")
    return 0
