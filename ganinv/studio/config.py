"""What a studio offers: its generator, methods, edit directions, test images and bench runs.

``ganinv studio`` reads ``configs/demo/studio.yaml`` by default (found beside the registry cards,
so it works from an installed wheel too); ``--config FILE`` names another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganinv.core.config import PositiveFloat, PositiveInt
from ganinv.core.config_paths import PathOrName, PathStr
from ganinv.harness.schema import DataSpec, MethodConfig, Spec

DEFAULT_CONFIG = "demo/studio"


@dataclass
class StudioConfig:
    """`ganinv studio`'s config.

    generator:          the generator every method inverts into (a file or a card name)
    methods:            methods offered first, in this order (the schema of a bench method)
    add_registered:     also offer every encoder card made for this generator, and optimisation
                        in every registered space (third-party plugins included)
    optimize:           the refiner of those "optimisation in <space>" methods
    directions:         edit direction files or card names (learned: `ganinv edit learn-direction`)
    test_images:        a dataset spec whose first images can be picked instead of uploading
    metrics:            per-image metrics shown beside each reconstruction
    bench_runs:         saved `ganinv bench` output folders offered on the Compare tab
    max_upload_mb:      uploads larger than this are refused before they are read
    ganspace_samples:   W samples behind the GANSpace components
    """

    generator: PathOrName = "demo_fmnist32_stylegan2"
    methods: list[MethodConfig] = field(default_factory=list)
    add_registered: bool = True
    optimize: Spec = field(
        default_factory=lambda: {
            "name": "optimize",
            "steps": 100,
            "losses": {"mse": 1.0, "lpips_alex": 1.0},
        }
    )
    directions: list[PathOrName] = field(default_factory=list)
    test_images: DataSpec | None = None
    metrics: list[Spec] = field(default_factory=lambda: ["mse", "psnr", "ssim", "lpips_alex"])
    bench_runs: list[PathStr] = field(default_factory=list)
    max_upload_mb: PositiveFloat = 20.0
    ganspace_samples: PositiveInt = 10_000


def load_studio_config(source: Any = DEFAULT_CONFIG, overrides: list[str] = ()) -> StudioConfig:
    """A `StudioConfig` from a file, a shipped config name, a mapping or an instance."""
    from ganinv.core.assets import config_file
    from ganinv.harness.configs import load

    if isinstance(source, str):
        source = config_file(source)
    return load(StudioConfig, source, list(overrides))
