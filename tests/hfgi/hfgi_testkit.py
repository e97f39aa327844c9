"""Tiny settings of the HFGI tests; the world (a 16 px StyleGAN2 file, images out of its domain,
HFGI's frozen e4e base) is `e4e_world`'s."""

from __future__ import annotations

import ganinv

# Narrow ADA / consultation widths for a CPU; the modulated layer is the first 8 px conv.
SPACE = {
    "name": "hfgi",
    "feature_resolution": 8,
    "distortion_resolution": 16,
    "alignment_widths": [4, 8, 8, 8],
    "consultation_widths": [8, 8, 8],
    "head_hidden": 8,
}


def build(world: dict, space: dict | None = None, **encoder_args):
    """(space, encoder) of HFGI on the world's generator and e4e (encoder in eval mode)."""
    from ganinv.checkpoints.load import load_generator

    generator = load_generator(str(world["generator"]))
    space_obj = ganinv.build("spaces", space or SPACE, generator=generator)
    spec = {"name": "hfgi", "e4e_checkpoint": str(world["e4e"]), **encoder_args}
    encoder = ganinv.build("encoders", spec, space=space_obj).eval()
    return space_obj, encoder
