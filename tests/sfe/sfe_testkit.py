"""Tiny settings of the SFE tests: the sfe space on the tiny generator, a CPU-sized encoder."""

from __future__ import annotations

from e4e_world import E4E_BACKBONE

# CPU-sized SFE: 16 px input, the 8 px block's output as F_k (b8.conv1 of the tiny generator).
SPACE = {"name": "sfe", "feature_resolution": 8, "w_std_samples": 200}
INVERTER = {
    "name": "sfe",
    "input_resolution": 16,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
    "strides": [2, 1, 1, 2],
    "fuser_blocks": 1,
    "blend_steps": 4,
    "w_branch_losses": {"mse": 1.0},
    "edit_losses": {"mse": 1.0},  # LPIPS needs more than 16 px
}
E4E = {"name": "e4e", **E4E_BACKBONE}
DIRECTIONS = {"pca": {"count": 2, "strengths": [-2.0, 2.0], "samples": 200}}
