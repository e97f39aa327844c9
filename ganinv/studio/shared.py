"""What every browser session of one studio shares: the methods, scores, directions and images."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ganinv.studio import actions
from ganinv.studio.catalog import Catalog
from ganinv.studio.workspace import Workspace


@dataclass
class Studio:
    """What every browser session shares: the workspace, the methods, scores and directions."""

    workspace: Workspace
    catalog: Catalog
    scores: actions.PerImageScores
    directions: actions.Directions
    test_images: torch.Tensor | None  # [N, 3, R, R] in [-1, 1]
    bench_runs: list[str] = field(default_factory=list)
    free_paths: bool = True  # Compare may open any folder (False when exposed on a network)

    @property
    def resolution(self) -> int:
        return self.catalog.generator.resolution
