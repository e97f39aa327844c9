"""`ganinv export CODE OUT --generator G [--index I]`: one image's tuned generator as a file.

A code made by a method that tunes the generator (PTI; any code with ``weight_offset.<layer>``
parts) renders image I with the weights ``W + offset[I]``. This writes that generator standalone,
in ganinv's format (``OUT.safetensors``) or rosinality's layout (``OUT.pt``), so that other tools
can use it; `ganinv.load_generator(OUT)` reads either back. The written file is read back and
checked: a fixed batch of W+ codes must render as the original generator with image I's offsets
does (max |difference| printed; above `CHECK_TOLERANCE` the command fails and OUT is removed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ganinv.cli.options import add_overwrite
from ganinv.core.config import NonNegativeInt, flag_type
from ganinv.core.errors import GanInvError

NAME = "export"
HELP = "write one image's tuned generator (a PTI code's weight offsets) as a generator file"
# Grouped (per-image) and plain convolutions sum in different orders.
CHECK_TOLERANCE = 1e-4
FORMATS = {".safetensors": "ganinv", ".pt": "rosinality"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", help="a code file with weight offsets (ganinv invert/bench)")
    parser.add_argument("output", help="OUT.safetensors (ganinv's format) or OUT.pt (rosinality)")
    parser.add_argument("--generator", required=True, help="the generator the code was made with")
    parser.add_argument(
        "--index", type=flag_type(NonNegativeInt), default=0, help="which image of the code (0)"
    )
    add_overwrite(parser, "OUT")


def _refuse_unless_replaceable(output: Path, force: bool) -> None:
    """A rosinality .pt carries no ganinv header, so an existing one is never overwritten; an
    existing .safetensors only with --overwrite and only when ganinv wrote it."""
    from ganinv.checkpoints.native import FORMAT, read_metadata

    if not (output.exists() or output.is_symlink()):
        return
    if not force:
        raise GanInvError(f"{output} exists; pass --overwrite to replace it")
    if output.suffix == ".pt" or output.is_symlink() or not output.is_file():
        raise GanInvError(
            f"{output}: --overwrite replaces only ganinv network files (.safetensors with ganinv's "
            "header); remove it yourself or choose another OUT"
        )
    try:
        ours = read_metadata(output).get("format") == FORMAT
    except GanInvError:
        ours = False
    if not ours:
        raise GanInvError(
            f"{output} was not written by ganinv (no ganinv header); remove it yourself or "
            "choose another OUT"
        )


def check_export(original, offsets, index: int, output: Path, seed: int = 0) -> float:
    """Max |difference| between the file's generator and the original with image `index`'s
    offsets, on 4 W+ codes from seeded z."""
    import torch

    from ganinv.checkpoints.load import load_generator
    from ganinv.core.weight_offsets import WeightOffsetHooks

    exported = load_generator(output)
    z = torch.randn(4, original.z_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ws = original.mapping(z)
        one = {k: v[index : index + 1] for k, v in offsets.items()}
        want = original.synthesize(ws, hooks=WeightOffsetHooks(one))
        got = exported.synthesize(ws)
    return float((want - got).abs().max())


def run(args: argparse.Namespace) -> int:
    from ganinv.checkpoints.load import load_generator
    from ganinv.checkpoints.native import save_networks
    from ganinv.checkpoints.rosinality_writer import save_rosinality
    from ganinv.core.outputs import remove_stale_temporaries
    from ganinv.core.space import Code
    from ganinv.core.weight_offsets import offsets_of, tuned_copy

    output = Path(args.output)
    if output.suffix not in FORMATS:
        raise GanInvError(f"OUT must end in .safetensors (ganinv) or .pt (rosinality): {output}")
    _refuse_unless_replaceable(output, args.overwrite)
    code = Code.load(args.code)
    offsets = offsets_of(code.tensors)
    if not offsets:
        raise GanInvError(
            f"{args.code} carries no weight offsets (parts weight_offset.<layer>); only codes of "
            "methods that tune the generator (e.g. PTI) can be exported"
        )
    generator = load_generator(args.generator)
    tuned = tuned_copy(generator, offsets, args.index)
    remove_stale_temporaries(output)
    if FORMATS[output.suffix] == "rosinality":
        save_rosinality(output, tuned)
    else:
        meta = {"source": str(args.generator), "tuned_by_code": str(args.code), "index": args.index}
        save_networks(output, {"generator": tuned}, meta)
    diff = check_export(generator, offsets, args.index, output)
    if diff > CHECK_TOLERANCE:
        output.unlink()
        raise GanInvError(
            f"the exported generator differs from the code's by {diff:.3g} (> {CHECK_TOLERANCE}); "
            "the file was removed"
        )
    print(
        f"wrote {output} ({FORMATS[output.suffix]}): image {args.index} of {args.code}, "
        f"{len(offsets)} tuned layers; max |difference| on 4 codes {diff:.2e}"
    )
    return 0
