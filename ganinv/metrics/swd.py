"""Sliced Wasserstein distance as ProGAN (and IDInvert, following it) reports it.

Protocol of ``metrics/sliced_wasserstein.py`` in tkarras/progressive_growing_of_gans:

1. images to uint8 (``round((x + 1) * 127.5)``, clipped), then float32;
2. a Laplacian pyramid (5x5 binomial filter, mirrored borders, as cv2.pyrDown/pyrUp) with one level
   per resolution from the image size down to 16 px;
3. per image and level, 128 random 7x7 neighbourhoods (centres drawn uniformly with the 3-pixel
   margin) -> descriptors of 3 x 7 x 7 = 147 values;
4. per set and level, descriptors normalised by the per-channel mean and std over all descriptors;
5. per level, 4 repeats x 128 random unit directions: project, sort, mean absolute difference;
   averaged over directions and repeats, x 1e3. The result is the average over levels (each level
   is in the protocol record).

Descriptors are kept in a bounded reservoir per set and level (`max_descriptors`, default 65,536 =
512 images x 128): below that the computation is exactly the protocol; above, the statistic uses a
uniform sample of the descriptors (recorded). Neighbourhoods are drawn independently per set, so a
set compared with itself is not 0 (about 4.6 on 1,024 32-px Fashion-MNIST images).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.core.registry import METRICS
from ganinv.metrics.base import Metric, MetricResult
from ganinv.metrics.per_image import check_pair
from ganinv.metrics.reservoir import Reservoir

NHOOD_SIZE = 7
NHOODS_PER_IMAGE = 128
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
MIN_RESOLUTION = 16
_BINOMIAL = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
GAUSSIAN_5x5 = torch.outer(_BINOMIAL, _BINOMIAL) / 256.0


def to_uint8_levels(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> float32 values 0..255 rounded to integers (ProGAN converts fakes to uint8)."""
    return torch.round((images.detach().float() + 1) * 127.5).clamp(0, 255)


def _blur(x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
    c = x.shape[1]
    kernel = (GAUSSIAN_5x5 * gain).to(x).view(1, 1, 5, 5).expand(c, 1, 5, 5)
    # scipy.ndimage mode='mirror' is torch's 'reflect' (edge not repeated)
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel, groups=c)


def pyr_down(x: torch.Tensor) -> torch.Tensor:
    return _blur(x)[:, :, ::2, ::2]


def pyr_up(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    up = torch.zeros(b, c, h * 2, w * 2, dtype=x.dtype, device=x.device)
    up[:, :, ::2, ::2] = x
    return _blur(up, gain=4.0)


def laplacian_pyramid(images: torch.Tensor, num_levels: int) -> list[torch.Tensor]:
    """Band-pass levels (finest first) and the low-pass residual last."""
    pyramid = [images]
    for _ in range(1, num_levels):
        pyramid.append(pyr_down(pyramid[-1]))
        pyramid[-2] = pyramid[-2] - pyr_up(pyramid[-1])
    return pyramid


def pyramid_resolutions(size: int) -> list[int]:
    resolutions = []
    while size >= MIN_RESOLUTION:
        resolutions.append(size)
        size //= 2
    return resolutions


def random_descriptors(level: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """[B * 128, 3 * 7 * 7] neighbourhoods at uniformly drawn centres (ProGAN's margins)."""
    b, c, h, w = level.shape
    half = NHOOD_SIZE // 2
    n = b * NHOODS_PER_IMAGE
    xs = torch.randint(half, w - half, (n,), generator=generator)
    ys = torch.randint(half, h - half, (n,), generator=generator)
    offsets = torch.arange(-half, half + 1)
    rows = (ys[:, None] + offsets[None, :])[:, :, None]  # [n, 7, 1]
    cols = (xs[:, None] + offsets[None, :])[:, None, :]  # [n, 1, 7]
    image = torch.arange(n) // NHOODS_PER_IMAGE
    patches = level.cpu()[
        image[:, None, None, None],
        torch.arange(c)[None, :, None, None],
        rows[:, None],
        cols[:, None],
    ]  # [n, c, 7, 7]
    return patches.reshape(n, -1)


def normalise_descriptors(desc: torch.Tensor, channels: int = 3) -> torch.Tensor:
    """Per-channel mean 0 / std 1 over all descriptors and neighbourhood positions (float64)."""
    d = desc.double().view(desc.shape[0], channels, -1)
    mean = d.mean(dim=(0, 2), keepdim=True)
    std = d.std(dim=(0, 2), keepdim=True, unbiased=False)
    return ((d - mean) / std).view(desc.shape[0], -1)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, generator: torch.Generator) -> float:
    """Mean over 4 x 128 random unit directions of the 1-D Wasserstein-1 of the projections."""
    if a.shape != b.shape:
        raise GanInvError(f"SWD needs equally many descriptors per set: {a.shape} vs {b.shape}")
    # [D, N] layouts so each projection comes out as contiguous rows, sorted in place by numpy
    # (several times faster than torch.sort along dim 0 on a CPU).
    a_t, b_t = a.float().T.contiguous(), b.float().T.contiguous()
    results = []
    for _ in range(DIR_REPEATS):
        dirs = torch.randn(a.shape[1], DIRS_PER_REPEAT, generator=generator, dtype=torch.float64)
        dirs_t = (dirs / dirs.square().sum(dim=0, keepdim=True).sqrt()).float().T.contiguous()
        proj_a = (dirs_t @ a_t).numpy()
        proj_b = (dirs_t @ b_t).numpy()
        proj_a.sort(axis=1)
        proj_b.sort(axis=1)
        results.append(float(np.abs(proj_a - proj_b).mean(dtype=np.float64)))
    return float(sum(results) / len(results))


@METRICS.register("swd")
class SWDMetric(Metric):
    """Images [B, 3, H, W] in [-1, 1], square, at least 16 px; reals first, as in ProGAN."""

    name = "swd"
    higher_is_better = False
    state_reduction = "cat"  # descriptor reservoirs are gathered, not summed

    def __init__(self, max_descriptors: int = 65_536, seed: int = 0) -> None:
        self.max_descriptors = max_descriptors
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.resolutions: list[int] = []
        self.real: list[Reservoir] = []
        self.fake: list[Reservoir] = []
        self.generator = torch.Generator().manual_seed(self.seed)
        self.images = 0

    def _setup(self, size: int) -> None:
        self.resolutions = pyramid_resolutions(size)
        levels = len(self.resolutions)
        self.real = [Reservoir(self.max_descriptors, self.seed + 1 + i) for i in range(levels)]
        self.fake = [Reservoir(self.max_descriptors, self.seed + 101 + i) for i in range(levels)]

    def update(self, real: torch.Tensor, fake: torch.Tensor) -> None:
        check_pair(self.name, real, fake)
        h, w = real.shape[-2:]
        if h != w or h < MIN_RESOLUTION or real.shape[1] != 3:
            raise GanInvError(
                f"SWD needs square RGB images of at least 16 px, got {tuple(real.shape)}"
            )
        if not self.resolutions:
            self._setup(h)
        elif h != self.resolutions[0]:
            raise GanInvError(f"SWD: image size changed from {self.resolutions[0]} to {h}")
        for images, reservoirs in ((real, self.real), (fake, self.fake)):
            pyramid = laplacian_pyramid(to_uint8_levels(images), len(self.resolutions))
            for level, reservoir in zip(pyramid, reservoirs):
                reservoir.update(random_descriptors(level, self.generator))
        self.images += real.shape[0]

    def state(self) -> dict[str, torch.Tensor]:
        out = {}
        for i, res in enumerate(self.resolutions):
            out[f"real_{res}"] = self.real[i].values().clone()
            out[f"fake_{res}"] = self.fake[i].values().clone()
        out["images"] = torch.tensor(float(self.images), dtype=torch.float64)
        return out

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        self.reset()
        resolutions = sorted((int(k[5:]) for k in state if k.startswith("real_")), reverse=True)
        if resolutions:
            self._setup(resolutions[0])
        for i, res in enumerate(self.resolutions):
            self.real[i].update(state[f"real_{res}"])
            self.fake[i].update(state[f"fake_{res}"])
        self.images = int(state["images"].item())

    def compute(self) -> MetricResult:
        if not self.images:
            raise GanInvError("metric 'swd' has seen no images; call update() first")
        per_level = {}
        for i, res in enumerate(self.resolutions):
            a = normalise_descriptors(self.real[i].values())
            b = normalise_descriptors(self.fake[i].values())
            per_level[res] = sliced_wasserstein(a, b, self.generator) * 1e3
        value = sum(per_level.values()) / len(per_level)
        protocol = {**self.protocol(), "per_level_x1e3": per_level}
        return MetricResult(self.name, value, protocol, self.higher_is_better)

    def protocol(self) -> dict[str, Any]:
        sampled = self.images * NHOODS_PER_IMAGE > self.max_descriptors
        return {
            "definition": "ProGAN sliced Wasserstein distance x1e3, mean over pyramid levels",
            "levels": self.resolutions,
            "neighbourhood": f"{NHOOD_SIZE}x{NHOOD_SIZE}, {NHOODS_PER_IMAGE} per image and level",
            "normalisation": "per set and level, per channel mean/std",
            "directions": f"{DIR_REPEATS} x {DIRS_PER_REPEAT}",
            "range": "uint8 0..255 (round((x + 1) * 127.5))",
            "descriptors": "uniform reservoir sample" if sampled else "all",
            "max_descriptors": self.max_descriptors,
            "images": self.images,
            "seed": self.seed,
        }
