"""Tiny-world arguments for each registered name (a name not listed here is built with no
arguments but the runtime objects, as a third-party plugin's defaults must allow)."""

from __future__ import annotations

import inspect
from typing import Any

from ganinv.core.registry import registry

RESOLUTION = 16
SPACE_ARGS: dict[str, dict[str, Any]] = {
    "z": {"init_samples": 200, "w_std_samples": 200},
    "w": {"w_std_samples": 200},
    "wplus": {"w_std_samples": 200},
    "padinv": {"pad_layers": 3},
    "sdic": {"feature_resolution": 8, "w_std_samples": 200},
    "hfgi": {
        "feature_resolution": 8,
        "distortion_resolution": 16,
        "alignment_widths": [4, 4, 4, 4],
        "consultation_widths": [4, 4, 4],
        "head_hidden": 4,
        "w_std_samples": 200,
    },
    "fspace": {"feature_resolution": 8, "w_std_samples": 200},
    "sfe": {"feature_resolution": 8, "w_std_samples": 200},
}
# pSp-style backbones, for every encoder whose constructor takes these arguments.
BACKBONE = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}
ENCODER_ARGS: dict[str, dict[str, Any]] = {
    "sfe": {"fuser_blocks": 1, "w_branch_losses": {"mse": 1.0}},
    "e4e": {"progressive_start": None, "w_discriminator": False},
    "restyle_psp": {"train_steps": 2, "inference_steps": 2},
    "restyle_e4e": {"train_steps": 2, "inference_steps": 2, "progressive_start": 1},
    "idinvert": {"input_resolution": 16, "base_channels": 8, "channel_max": 16},
    "latentmap": {
        "features": {"name": "alexnet", "layer": "conv5", "resize_to": 64},
        "pool_size": 2,
        "hidden": 32,
        "layers": 2,
    },
    "hyperstyle": {  # plus base_encoder, made by the suite
        "blocks": [1, 1, 1, 1],
        "widths": [8, 8, 16, 16],
        "stem_stride": 1,
        "inner_channels": 8,
        "head_channels": 8,
        "shared_inner_channels": 8,
        "iterations": 2,
        "train_iterations": 2,
    },
    "sdic": {  # plus e4e_checkpoint, made by the suite
        "feature_widths": [4, 4, 8, 8, 8],
        "descriptor_hidden": 8,
        "descriptor_channels": 4,
        "volume_channels": 2,
        "head_channels": 4,
        "dicn_widths": [8, 8],
        "latent_map_size": 8,
    },
    "feature_style": {"feature_stage": 0, "blend_steps": 4},
}
# The space each built-in encoder predicts; others are tried on every space until one builds.
ENCODER_SPACE = {
    "psp": "wplus",
    "e4e": "wplus",
    "restyle_psp": "wplus",
    "restyle_e4e": "wplus",
    "idinvert": "wplus",
    "w_encoder": "w",
    "latentmap": "w",
    "padinv": "padinv",
    "sdic": "sdic",
    "hyperstyle": "wplus",
    "hfgi": "hfgi",
    "feature_style": "fspace",
    "sfe": "sfe",
    "generic": "wplus",
}
REFINER_ARGS: dict[str, dict[str, Any]] = {
    "optimize": {"steps": 20, "lr": 0.05, "latent_noise": 0.0, "losses": {"mse": 1.0}},
    "idinvert_optimize": {"steps": 20, "lr": 0.05, "lambda_dom": 0.5, "losses": {"mse": 1.0}},
    "pti": {
        "pivot_steps": 10,
        "pivot_lr": 0.05,
        "pivot_losses": {"mse": 1.0},
        "pivot_latent_noise": 0.0,
        "tune_steps": 10,
        "tune_lr": 0.01,
        "lpips_lambda": 0.0,
        "lpips_threshold": None,
    },
}


def space_spec(name: str) -> dict[str, Any]:
    return {"name": name, **SPACE_ARGS.get(name, {})}


def encoder_spec(name: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The backbone arguments the encoder's constructor names, then its own tiny settings."""
    params = inspect.signature(registry("encoders").get(name)).parameters
    args = {k: v for k, v in BACKBONE.items() if k in params}
    return {"name": name, **args, **ENCODER_ARGS.get(name, {}), **(extra or {})}


def refiner_spec(name: str) -> dict[str, Any]:
    return {"name": name, **REFINER_ARGS.get(name, {})}
