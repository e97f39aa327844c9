"""`ganinv convert IN OUT [--check]`: any supported checkpoint layout to ganinv's safetensors.

GAN checkpoints (rosinality ``.pt``, NVlabs ``.pkl``, ganinv files) become one ganinv network file.
A released pSp / e4e / ReStyle checkpoint (``psp_ffhq_encode.pt`` ...: ``{'state_dict':
{encoder.*, decoder.*}, 'opts', 'latent_avg'}``) becomes an exported ganinv encoder file OUT plus
its generator (``--generator-out``, by default ``<OUT stem>_generator.safetensors`` beside OUT),
which OUT names by relative path (`ganinv.checkpoints.release_conversion`).

With ``--check`` the written file is compared with an independent reload of IN (read again from
disk, not the networks that were just saved): OUT's networks are rebuilt from its header, their
configs and every tensor must equal IN's, and a fixed batch is rendered (and scored by the
discriminator, when there is one) by both, the max absolute differences printed (as Hammer's
converters do). Any difference above `CHECK_TOLERANCE` fails the command (exit 2) and removes OUT.
For a released encoder the check also runs a fixed random batch through the converted encoder
(loaded from OUT as every exported encoder is) and through an independent functional forward of
the released weights, and compares the codes (`release_conversion.CODE_TOLERANCE`).
"""

from __future__ import annotations

import argparse
from typing import Any

from ganinv.cli.options import add_batch_size, add_overwrite
from ganinv.core.config import Seed, flag_type
from ganinv.core.errors import GanInvError

NAME = "convert"
HELP = (
    "convert a rosinality .pt / NVlabs .pkl / ganinv checkpoint to ganinv's .safetensors, or a "
    "released pSp/e4e/ReStyle .pt to an exported encoder plus its generator"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="checkpoint to read (format detected from its bytes)")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="render a fixed batch before and after and print the max absolute difference",
    )
    add_batch_size(parser, 4, "of the check")
    parser.add_argument("--seed", type=flag_type(Seed), default=0, help="seed of the check's z (0)")
    parser.add_argument(
        "--generator-out",
        default=None,
        metavar="PATH",
        help="released pSp/e4e/ReStyle files only: where the decoder goes (.safetensors; "
        "default <OUT stem>_generator.safetensors beside OUT)",
    )
    add_overwrite(parser, "OUT")


def _refuse_unless_replaceable(output: Any, source: Any, force: bool) -> None:
    """OUT may be written when it does not exist, or with --overwrite when it is a ganinv network
    file (its header says so) other than IN; otherwise refuse with the reason."""
    from ganinv.checkpoints.encoder_file import FORMAT as ENCODER_FORMAT
    from ganinv.checkpoints.native import FORMAT, read_metadata

    if not (output.exists() or output.is_symlink()):
        return
    if not force:
        raise GanInvError(f"{output} exists; pass --overwrite to replace it")
    if output.is_symlink() or not output.is_file():
        raise GanInvError(f"{output} is not a regular file; --overwrite replaces only ganinv files")
    if source.exists() and output.resolve() == source.resolve():
        raise GanInvError(f"{output} is the input; write the conversion to another file")
    try:
        ours = read_metadata(output).get("format") in (FORMAT, ENCODER_FORMAT)
    except GanInvError:  # unreadable header: not a file ganinv wrote
        ours = False
    if not ours:
        raise GanInvError(
            f"{output} was not written by ganinv (no ganinv header); --overwrite replaces only "
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
    if _is_release(args.input):
        return _convert_release(args, output)
    if args.generator_out is not None:
        raise GanInvError(
            "--generator-out is for released pSp/e4e/ReStyle checkpoints; "
            f"{args.input} is not one (it converts to one network file, OUT)"
        )
    _refuse_unless_replaceable(output, Path(args.input), args.overwrite)
    remove_stale_temporaries(output)  # what a killed conversion left next to OUT
    networks, meta = load_networks(args.input)
    save_networks(output, networks, {"source": meta["source"], "source_format": meta["format"]})
    names = ", ".join(f"{k} ({type(v).__name__})" for k, v in networks.items())
    print(f"wrote {output}: {names} from {meta['format']} checkpoint {meta['source']}")
    if args.check:
        from ganinv.checkpoints.conversion_check import check_conversion

        for what, diff in check_conversion(args.input, output, args.batch_size, args.seed).items():
            print(f"check {what}: max abs diff {diff:.3g}")
    return 0


def _is_release(source: str) -> bool:
    from pathlib import Path

    from ganinv.checkpoints.psp_release import looks_like_release

    path = Path(source).expanduser()
    return path.is_file() and looks_like_release(path)


def _convert_release(args: argparse.Namespace, output: Any) -> int:
    """A released pSp/e4e/ReStyle checkpoint to an exported encoder OUT plus its generator."""
    from pathlib import Path

    from ganinv.checkpoints.release_conversion import check_release_conversion, convert_release
    from ganinv.core.outputs import remove_stale_temporaries

    source = Path(args.input).expanduser()
    default = output.with_name(f"{output.stem}_generator.safetensors")
    generator_output = Path(args.generator_out) if args.generator_out else default
    if generator_output.suffix != ".safetensors":
        raise GanInvError(f"--generator-out must end in .safetensors, got {generator_output}")
    if generator_output.resolve() == output.resolve():
        raise GanInvError("--generator-out must differ from OUT (the encoder file)")
    for path in (output, generator_output):
        _refuse_unless_replaceable(path, source, args.overwrite)
        remove_stale_temporaries(path)
    summary = convert_release(source, output, generator_output)
    spec = summary["encoder"]
    print(
        f"wrote {output}: ganinv encoder {spec['name']!r} (from {summary['encoder_type']}, "
        f"{summary['tensors']} tensors, input {spec['input_resolution']} px) on space 'wplus'"
    )
    print(f"wrote {generator_output}: generator ({summary['resolution']} px, w_avg = latent_avg)")
    if summary["left_out"]:
        print(f"left out (training state, not used for inversion): {summary['left_out']}")
    if args.check:
        differences = check_release_conversion(
            source, output, generator_output, args.batch_size, args.seed
        )
        for what, diff in differences.items():
            print(f"check {what}: max abs diff {diff:.3g}")
    return 0
