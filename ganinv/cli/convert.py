"""`ganinv convert IN OUT [--check]`: any supported checkpoint layout to ganinv's safetensors.

With ``--check`` a fixed batch is rendered (and scored by the discriminator, when there is one)
by the networks read from IN and by those reloaded from OUT, and the max absolute differences
are printed (as Hammer's converters do).
"""

from __future__ import annotations

import argparse

import torch

from ganinv.core.config import PositiveInt, Seed, flag_type
from ganinv.core.errors import GanInvError

NAME = "convert"
HELP = "convert a rosinality .pt / NVlabs .pkl / ganinv checkpoint to ganinv's .safetensors"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="checkpoint to read (format detected from its bytes)")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="render a fixed batch before and after and print the max absolute difference",
    )
    parser.add_argument(
        "--batch", type=flag_type(PositiveInt), default=4, help="batch size of the check (4)"
    )
    parser.add_argument("--seed", type=flag_type(Seed), default=0, help="seed of the check's z (0)")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")


@torch.no_grad()
def max_differences(
    before: dict[str, torch.nn.Module],
    after: dict[str, torch.nn.Module],
    batch: int = 4,
    seed: int = 0,
) -> dict[str, float]:
    """Max |before - after| of the images (and discriminator logits) for a fixed z batch."""
    out: dict[str, float] = {}
    image = None
    if "generator" in before:
        g0, g1 = before["generator"], after["generator"]
        z = torch.randn(batch, g0.z_dim, generator=torch.Generator().manual_seed(seed))
        image = g0(z)
        out["image"] = (image - g1(z)).abs().max().item()
        out["image_trunc0.7"] = (g0(z, 0.7) - g1(z, 0.7)).abs().max().item()
    if "discriminator" in before:
        d0, d1 = before["discriminator"], after["discriminator"]
        if image is None or image.shape[-1] != d0.resolution:
            gen = torch.Generator().manual_seed(seed)
            image = torch.rand(batch, d0.img_channels, d0.resolution, d0.resolution, generator=gen)
            image = image * 2 - 1
        out["logits"] = (d0(image) - d1(image)).abs().max().item()
    return out


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ganinv.checkpoints.load import load_networks
    from ganinv.checkpoints.native import load_networks as load_native
    from ganinv.checkpoints.native import save_networks

    output = Path(args.output)
    if output.suffix != ".safetensors":
        raise GanInvError(f"OUT must end in .safetensors, got {output}")
    if output.exists() and not args.force:
        raise GanInvError(f"{output} exists; pass --force to overwrite it")
    networks, meta = load_networks(args.input)
    save_networks(output, networks, {"source": meta["source"], "source_format": meta["format"]})
    names = ", ".join(f"{k} ({type(v).__name__})" for k, v in networks.items())
    print(f"wrote {output}: {names} from {meta['format']} checkpoint {meta['source']}")
    if args.check:
        reloaded, _ = load_native(output)
        for what, diff in max_differences(networks, reloaded, args.batch, args.seed).items():
            print(f"check {what}: max abs diff {diff:.3g}")
    return 0
