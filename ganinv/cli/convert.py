"""`ganinv convert IN OUT [--check]`: any supported checkpoint layout to ganinv's safetensors.

With ``--check`` the written file is compared with an independent reload of IN (read again from
disk, not the networks that were just saved): OUT's networks are rebuilt from its header, their
configs and every tensor must equal IN's, and a fixed batch is rendered (and scored by the
discriminator, when there is one) by both, the max absolute differences printed (as Hammer's
converters do). Any difference above `CHECK_TOLERANCE` fails the command (exit 2) and removes OUT.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch

from ganinv.core.config import PositiveInt, Seed, flag_type
from ganinv.core.errors import GanInvError

NAME = "convert"
# Max |difference| of images / logits `--check` accepts (the same weights give bit-equal outputs;
# 1e-5 leaves room for kernels that sum in another order).
CHECK_TOLERANCE = 1e-5
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


def parameter_differences(
    source: dict[str, torch.nn.Module], converted: dict[str, torch.nn.Module]
) -> list[str]:
    """What differs between two sets of networks: names, configs, tensor shapes and values."""
    problems: list[str] = []
    if set(source) != set(converted):
        return [f"networks {sorted(converted)} vs {sorted(source)}"]
    for name, module in source.items():
        other = converted[name]
        if type(other) is not type(module) or other.config != module.config:
            problems.append(f"{name} config differs")
            continue
        own, theirs = module.state_dict(), other.state_dict()
        for key, value in own.items():
            if key not in theirs or theirs[key].shape != value.shape:
                problems.append(f"{name}.{key} missing or reshaped")
            elif not torch.equal(theirs[key].float(), value.float()):
                diff = (theirs[key].float() - value.float()).abs().max().item()
                problems.append(f"{name}.{key} differs by {diff:.3g}")
    return problems


def check_conversion(source: str, output: Any, batch: int = 4, seed: int = 0) -> None:
    """Compare OUT with a fresh load of `source`; raise (and remove OUT, ganinv's own file just
    written) when a tensor, a config, an image or a logit differs."""
    from ganinv.checkpoints.load import load_networks
    from ganinv.checkpoints.native import load_networks as load_native

    # Both sides are built anew from their files: a conversion that changed the networks it was
    # given, or wrote other tensors than it read, cannot match itself here.
    expected, _ = load_networks(source)
    converted, _ = load_native(output)
    problems = parameter_differences(expected, converted)
    if not problems:
        for what, diff in max_differences(expected, converted, batch, seed).items():
            print(f"check {what}: max abs diff {diff:.3g}")
            if not diff <= CHECK_TOLERANCE:
                problems.append(f"{what} differs by {diff:.3g} (tolerance {CHECK_TOLERANCE:g})")
    if problems:
        output.unlink(missing_ok=True)
        raise GanInvError(
            f"--check failed: {output} does not reproduce {source}: {'; '.join(problems[:3])}; "
            "the converted file was removed"
        )


def _refuse_unless_replaceable(output: Any, source: Any, force: bool) -> None:
    """OUT may be written when it does not exist, or with --force when it is a ganinv network
    file (its header says so) other than IN; otherwise refuse with the reason."""
    from ganinv.checkpoints.native import FORMAT, read_metadata

    if not (output.exists() or output.is_symlink()):
        return
    if not force:
        raise GanInvError(f"{output} exists; pass --force to overwrite it")
    if output.is_symlink() or not output.is_file():
        raise GanInvError(f"{output} is not a regular file; --force replaces only ganinv files")
    if source.exists() and output.resolve() == source.resolve():
        raise GanInvError(f"{output} is the input; write the conversion to another file")
    try:
        ours = read_metadata(output).get("format") == FORMAT
    except GanInvError:  # unreadable header: not a file ganinv wrote
        ours = False
    if not ours:
        raise GanInvError(
            f"{output} was not written by ganinv (no ganinv header); --force replaces only "
            "ganinv network files: remove it yourself or choose another OUT"
        )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ganinv.checkpoints.load import load_networks
    from ganinv.checkpoints.native import save_networks
    from ganinv.core.outputs import remove_stale_temporaries

    output = Path(args.output)
    if output.suffix != ".safetensors":
        raise GanInvError(f"OUT must end in .safetensors, got {output}")
    _refuse_unless_replaceable(output, Path(args.input), args.force)
    remove_stale_temporaries(output)  # what a killed conversion left next to OUT
    networks, meta = load_networks(args.input)
    save_networks(output, networks, {"source": meta["source"], "source_format": meta["format"]})
    names = ", ".join(f"{k} ({type(v).__name__})" for k, v in networks.items())
    print(f"wrote {output}: {names} from {meta['format']} checkpoint {meta['source']}")
    if args.check:
        check_conversion(args.input, output, args.batch, args.seed)
    return 0
