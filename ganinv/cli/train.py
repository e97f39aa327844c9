"""`ganinv train CONFIG [key=value ...] [--resume]`: train an encoder-based method.

Multi-process: ``torchrun --nproc_per_node N -m ganinv train CONFIG`` (NCCL on GPUs, gloo on CPU).
"""

from __future__ import annotations

import argparse

from ganinv.cli.options import add_device

NAME = "train"
HELP = "train an encoder-based method (resumable; data-parallel under torchrun)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="training config (YAML)")
    parser.add_argument("overrides", nargs="*", help="key.sub=value overrides")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUT/checkpoints/latest.pt exactly where it stopped",
    )
    add_device(parser)


def run(args: argparse.Namespace) -> int:
    from ganinv.harness.configs import load
    from ganinv.harness.device import init_distributed, shutdown_distributed
    from ganinv.harness.schema import TrainConfig
    from ganinv.harness.train import run_training

    config = load(TrainConfig, args.config, args.overrides)
    ctx, device = init_distributed(args.device)
    try:
        summary = run_training(config, device, ctx, resume=args.resume)
    finally:
        shutdown_distributed()
    if ctx.is_main:
        best = summary["best"]
        print(f"trained {summary['step']} steps; outputs in {summary['out']}")
        if best:
            print(f"best {best['metric']} = {best['value']:.6g} at step {best['step']}")
    return 0
