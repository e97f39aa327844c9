"""Tiny settings of the SDIC tests; the world (a 16 px StyleGAN2 file, images out of its domain,
SDIC's frozen e4e base) is `e4e_world`'s."""

from __future__ import annotations

# DIPN / DICN widths for a CPU; the compensated layer is the first 8 px conv.
SMALL_SDIC = {
    "feature_widths": [4, 4, 8, 8, 8],
    "descriptor_hidden": 8,
    "descriptor_channels": 4,
    "volume_channels": 2,
    "head_channels": 4,
    "dicn_widths": [8, 8],
    "latent_map_size": 8,
}
SPACE = {"name": "sdic", "feature_resolution": 8}
