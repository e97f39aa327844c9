"""A third-party distribution made at test time: a space, a metric and a data set registered by
entry points, exactly as pip installs a plugin (a folder on the path with its ``*.dist-info``)."""

from __future__ import annotations

import sys
import tempfile
import textwrap
from pathlib import Path

from ganinv.core.registry import REGISTRIES

SOURCE = '''
import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.metrics.base import Metric, MetricResult


class TintSpace(InversionSpace):
    """W+ codes, a colour tint per image [3] and a coarse shading map [1, 4, 4] added to the
    image: a space with per-layer, vector and spatial parts, none of them known to ganinv."""

    name = "acme_tint"

    def __init__(self, generator, shade_size: int = 4):
        super().__init__(generator)
        self.shade_size = shade_size

    def init_code(self, batch_size):
        g = self.generator
        device = g.w_avg.device
        return Code(self.name, {
            "wplus": g.w_avg.detach().expand(batch_size, g.num_ws, g.w_dim).clone(),
            "tint": torch.zeros(batch_size, 3, device=device),
            "shade": torch.zeros(batch_size, 1, self.shade_size, self.shade_size, device=device),
        })

    def render(self, code, noise_mode="const"):
        self.check(code)
        image = self.generator.synthesize(code["wplus"], noise_mode=noise_mode)
        shade = F.interpolate(code["shade"], size=image.shape[-2:], mode="bilinear",
                              align_corners=False)
        return image + code["tint"][:, :, None, None] + shade

    def to_wplus(self, code):
        self.check(code)
        return code["wplus"]


class MAEMetric(Metric):
    """Mean absolute error over C, H, W, averaged over images (sum-reducible state)."""

    name = "acme_mae"

    def reset(self):
        self.total = torch.zeros((), dtype=torch.float64)
        self.count = torch.zeros((), dtype=torch.float64)

    def update(self, real, fake):
        self.total += (real - fake).abs().flatten(1).mean(1).double().sum().cpu()
        self.count += real.shape[0]

    def state(self):
        return {"total": self.total.clone(), "count": self.count.clone()}

    def load_state(self, state):
        self.total, self.count = state["total"].double(), state["count"].double()

    def compute(self):
        if self.count.item() == 0:
            raise GanInvError("acme_mae has no images")
        return MetricResult(self.name, float(self.total / self.count), {}, False)


class CheckerDataset(torch.utils.data.Dataset):
    """`count` checkerboards of `size` px, one phase per index: deterministic by construction."""

    def __init__(self, count: int = 6, size: int = 16):
        self.count, self.size = count, size

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        if not 0 <= index < self.count:
            raise IndexError(index)
        yy, xx = torch.meshgrid(torch.arange(self.size), torch.arange(self.size), indexing="ij")
        board = ((yy // 4 + xx // 4 + index) % 2).float() * 2 - 1
        return board.expand(3, -1, -1).clone()
'''

ENTRY_POINTS = {
    "ganinv.spaces": {"acme_tint": "acme_contract:TintSpace"},
    "ganinv.metrics": {"acme_mae": "acme_contract:MAEMetric"},
    "ganinv.datasets": {"acme_checker": "acme_contract:CheckerDataset"},
}


def install(root: Path) -> Path:
    """Write the distribution under `root`, put it on the path and rescan the registries."""
    (root / "acme_contract").mkdir(parents=True, exist_ok=True)
    (root / "acme_contract" / "__init__.py").write_text(textwrap.dedent(SOURCE))
    info = root / "acme_contract-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-contract\nVersion: 1.0\n")
    lines = []
    for group, entries in ENTRY_POINTS.items():
        lines += [f"[{group}]"] + [f"{k} = {v}" for k, v in entries.items()] + [""]
    (info / "entry_points.txt").write_text("\n".join(lines))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    for registry in REGISTRIES.values():
        registry.rescan()
    return root


def install_once() -> Path:
    """Install into a temporary folder that lives as long as the test session."""
    global _ROOT
    if _ROOT is None:
        _ROOT = install(Path(tempfile.mkdtemp(prefix="acme-contract-")))
    return _ROOT


_ROOT: Path | None = None
