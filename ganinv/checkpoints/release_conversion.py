"""Converting a released pSp / e4e / ReStyle checkpoint: an exported ganinv encoder file plus its
generator, and the check that the two reproduce the release.

`convert_release` writes two files: the decoder as a ganinv network file (``generator``, with
w_avg = the release's latent_avg) and the encoder as an exported encoder file
(`ganinv.checkpoints.encoder_file.write_encoder_file`) whose header names that generator by its
path relative to the encoder file, the ``wplus`` space and the ganinv encoder with the structure
read from the release. The result loads wherever an encoder `ganinv train` exported loads
(``method.encoder_checkpoint``, ``ganinv invert``, ``ganinv eval``).

`check_release_conversion` (``ganinv convert --check``) reads the release again from disk and
compares: the generator's config and every tensor, a rendered batch (as for every conversion),
and the codes of a fixed random input batch from ganinv's encoder, loaded from the written file
through the same path every exported encoder takes, against `psp_reference.reference_codes` (an
independent functional forward of the released class on the released weights) plus latent_avg.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ganinv.checkpoints.psp_release import (
    Release,
    check_against_ganinv,
    check_encoder_keys,
    decoder_generator,
    encoder_spec,
    encoder_tensors,
    read_release,
)
from ganinv.core.errors import GanInvError

SOURCE_FORMAT = "psp_checkpoint"
# Max |difference| of codes `--check` accepts: the same float32 weights through the same kernels
# agree to rounding; 1e-4 leaves room for a 50-layer network summing in another order.
CODE_TOLERANCE = 1e-4


def _info(release: Release) -> dict[str, Any]:
    shown = ("encoder_type", "dataset_type", "output_size", "stylegan_size", "input_nc")
    opts = {k: release.opts[k] for k in shown if k in release.opts}
    return {
        "converted_from": os.path.basename(release.path),
        "source_format": SOURCE_FORMAT,
        "released_opts": opts,
        "left_out": release.dropped,
    }


def convert_release(
    source: str | os.PathLike[str], output: Path, generator_output: Path
) -> dict[str, Any]:
    """Write the generator file, then the encoder file; returns a summary for the user.

    Everything is checked (keys, shapes, opts, ganinv's encoder on the meta device) before the
    first byte is written; a failure while writing removes what this call wrote.
    """
    from ganinv.checkpoints.encoder_file import write_encoder_file
    from ganinv.checkpoints.native import save_networks

    release = read_release(source)
    check_encoder_keys(release)
    generator = decoder_generator(release)
    tensors = encoder_tensors(release)
    check_against_ganinv(release, generator, tensors)
    spec = encoder_spec(release)
    written: list[Path] = []
    try:
        meta = {"source": str(source), "source_format": f"{SOURCE_FORMAT} decoder"}
        written.append(save_networks(generator_output, {"generator": generator}, meta))
        specs = {"generator": str(generator_output), "space": "wplus", "encoder": spec}
        written.append(write_encoder_file(output, tensors, specs, _info(release)))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return {
        "encoder_type": release.variant.encoder_type,
        "encoder": spec,
        "tensors": len(tensors),
        "resolution": generator.resolution,
        "left_out": release.dropped,
    }


@torch.no_grad()
def _code_difference(release: Release, output: Path, batch: int, seed: int) -> float:
    """Max |ganinv's codes - the reference's| for a fixed batch in [-1, 1]."""
    from ganinv.checkpoints.encoder_file import (
        build_encoder_for_file,
        check_generator_present,
        read_encoder_header,
    )
    from ganinv.checkpoints.load import load_generator
    from ganinv.checkpoints.psp_reference import reference_codes
    from ganinv.core.components import build_component

    header = read_encoder_header(output)
    check_generator_present(header)
    generator = load_generator(str(header.generator))
    space = build_component("spaces", header.space, generator=generator)
    encoder = build_encoder_for_file(header, header.encoder, space, generator).eval()
    s = release.structure
    size = (batch, s.input_nc, s.input_resolution, s.input_resolution)
    x = torch.rand(size, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    expected = reference_codes(release.variant.encoder_type, release.encoder, x)
    if release.start_from_latent_avg:
        assert release.latent_avg is not None
        expected = expected + release.latent_avg
    if release.variant.residual:  # one ReStyle step from w_avg: w_avg + E(x, y)
        got = generator.w_avg + encoder.predict_delta(x)
    else:
        got = encoder.predict_wplus(x)
    if got.shape != expected.shape:
        return float("inf")
    return (got - expected).abs().max().item()


def check_release_conversion(
    source: str | os.PathLike[str],
    output: Path,
    generator_output: Path,
    batch: int = 4,
    seed: int = 0,
) -> dict[str, float]:
    """Compare the written files with a fresh read of `source`; on any difference remove both
    files (ganinv's own, just written) and raise. Returns the max absolute differences."""
    from ganinv.checkpoints.conversion_check import (
        CHECK_TOLERANCE,
        max_differences,
        parameter_differences,
    )
    from ganinv.checkpoints.native import load_networks

    release = read_release(source)
    expected = {"generator": decoder_generator(release)}
    converted, _ = load_networks(generator_output)
    problems = parameter_differences(expected, converted)
    differences: dict[str, float] = {}
    if not problems:
        differences = max_differences(expected, converted, batch, seed)
        differences["codes"] = _code_difference(release, output, batch, seed)
        for what, diff in differences.items():
            tolerance = CODE_TOLERANCE if what == "codes" else CHECK_TOLERANCE
            if not diff <= tolerance:
                problems.append(f"{what} differs by {diff:.3g} (tolerance {tolerance:g})")
    if problems:
        output.unlink(missing_ok=True)
        generator_output.unlink(missing_ok=True)
        raise GanInvError(
            f"--check failed: {output} does not reproduce {source}: {'; '.join(problems[:3])}; "
            "the converted files were removed"
        )
    return differences
