"""`ganinv train-gan CONFIG`: train a StyleGAN2 (used for the demo generator)."""

from __future__ import annotations

import argparse

from ganinv.core.config import PositiveFloat, flag_type, load_config

NAME = "train-gan"
HELP = "train a StyleGAN2 generator and discriminator on a dataset (resumable)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML file (see configs/demo/gan.yaml)")
    parser.add_argument("overrides", nargs="*", help="key.sub=value overrides")
    parser.add_argument("--resume", action="store_true", help="continue the run in `output`")
    parser.add_argument(
        "--max-minutes",
        type=flag_type(PositiveFloat),
        default=None,
        help="stop (after saving) after this long",
    )


def run(args: argparse.Namespace) -> int:
    from ganinv.harness.gan_training import GanTrainConfig, GanTrainer

    config = load_config(GanTrainConfig, args.config, args.overrides)
    trainer = GanTrainer(config)
    max_seconds = args.max_minutes * 60 if args.max_minutes else None
    trainer.train(resume=args.resume, max_seconds=max_seconds)
    print(f"train-gan: {trainer.nimg / 1000:.1f} kimg; snapshot in {trainer.out}")
    return 0
