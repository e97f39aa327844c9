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

Every descriptor of every image enters, as in the original, at any number of images: they are
kept in a spill file per set and level (`ganinv.metrics.spill`), normalisation statistics are
summed in float64 over all of them, and the projections are computed in passes of as many
directions as `memory_mib` allows, so memory does not grow with the descriptors' 588 bytes each.
Only when asked (`max_descriptors`) a uniform reservoir sample is used instead, and the protocol
says so. Neighbourhoods are drawn independently per set, so a set compared with itself is not 0
(about 4.6 on 1,024 32-px Fashion-MNIST images).
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
from ganinv.metrics.spill import SpilledRows

DescriptorStore = Reservoir | SpilledRows

NHOOD_SIZE = 7
NHOODS_PER_IMAGE = 128
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
MIN_RESOLUTION = 16
BLOCK_ROWS = 32_768  # descriptors read back at a time (19 MB as float32)
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
    # every 7x7 window as a view [b, c, h - 6, w - 6, 7, 7]; only the drawn ones are copied
    windows = level.cpu().unfold(2, NHOOD_SIZE, 1).unfold(3, NHOOD_SIZE, 1)
    image = torch.arange(n) // NHOODS_PER_IMAGE
    return windows[image, :, ys - half, xs - half].reshape(n, -1)


def channel_moments(store: DescriptorStore, channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std (ddof 0) over every descriptor and position, summed in float64.

    Returned expanded to the descriptor layout [channels * positions] (ProGAN's finalize step).
    Squares of float32 values are exact in float64, so E[x^2] - E[x]^2 loses nothing that
    matters for 8-bit images (ProGAN itself reduces in float32).
    """
    total = np.zeros(channels)
    squares = np.zeros(channels)
    for _, block in store.blocks(BLOCK_ROWS):
        x = torch.from_numpy(block).view(block.shape[0], channels, -1).double()
        total += x.sum(dim=(0, 2)).numpy()
        squares += x.square().sum(dim=(0, 2)).numpy()
    count = store.rows * (store.width // channels)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
    positions = store.width // channels
    return np.repeat(mean, positions), np.repeat(std, positions)


def _sorted_projections(
    store: DescriptorStore, mean: np.ndarray, std: np.ndarray, dirs_t: torch.Tensor
) -> np.ndarray:
    """[k, N] projections of the normalised descriptors on k unit directions, each row sorted."""
    out = torch.empty(dirs_t.shape[0], store.rows)
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    scratch = np.empty((min(BLOCK_ROWS, store.rows), store.width), np.float32)
    for start, block in store.blocks(BLOCK_ROWS):
        normalised = scratch[: block.shape[0]]  # float32, as ProGAN normalises
        np.subtract(block, mean32, out=normalised)
        np.divide(normalised, std32, out=normalised)
        x = torch.from_numpy(normalised)
        torch.mm(dirs_t, x.T, out=out[:, start : start + block.shape[0]])
    out = out.numpy()
    out.sort(axis=1)  # numpy's sort is several times faster than torch.sort on a CPU
    return out


def sliced_wasserstein(
    a: DescriptorStore,
    b: DescriptorStore,
    generator: torch.Generator,
    memory_bytes: int = 512 * 2**20,
) -> float:
    """ProGAN's distance: each set normalised per channel, then 4 x 128 random unit directions,
    sorted projections, mean absolute difference, averaged over directions and repeats.

    Every descriptor enters. Memory: the two [k, N] projection buffers, with k directions per pass
    chosen to fit `memory_bytes`; the directions are drawn per repeat as in ProGAN, so the value
    does not depend on k.
    """
    if a.rows != b.rows or a.width != b.width:
        raise GanInvError(f"SWD needs equally many descriptors per set: {a.rows} vs {b.rows}")
    mean_a, std_a = channel_moments(a)
    mean_b, std_b = channel_moments(b)
    if not (std_a > 0).all() or not (std_b > 0).all():  # ProGAN would divide by zero: NaN
        raise GanInvError(
            "SWD: a colour channel is constant over every descriptor of a set (blank images?); "
            "the per-channel normalisation is undefined, so there is no distance to report"
        )
    per_pass = int(min(DIRS_PER_REPEAT, max(1, memory_bytes // (2 * 4 * a.rows))))
    total = 0.0
    for _ in range(DIR_REPEATS):
        dirs = torch.randn(a.width, DIRS_PER_REPEAT, generator=generator, dtype=torch.float64)
        dirs_t = (dirs / dirs.square().sum(dim=0, keepdim=True).sqrt()).float().T.contiguous()
        for first in range(0, DIRS_PER_REPEAT, per_pass):
            chunk = dirs_t[first : first + per_pass]
            proj_a = _sorted_projections(a, mean_a, std_a, chunk)
            proj_b = _sorted_projections(b, mean_b, std_b, chunk)
            np.subtract(proj_a, proj_b, out=proj_a)
            np.abs(proj_a, out=proj_a)
            total += float(proj_a.sum(dtype=np.float64)) / a.rows
    return total / (DIR_REPEATS * DIRS_PER_REPEAT)


@METRICS.register("swd")
class SWDMetric(Metric):
    """Images [B, 3, H, W] in [-1, 1], square, at least 16 px; reals first, as in ProGAN.

    ``max_descriptors=None`` (default) keeps every descriptor, as the protocol does, in a spill
    file per set and level (``spill_dir``, default the system temp folder; 147 x 4 bytes per
    descriptor, 128 descriptors per image and level). An integer keeps a uniform reservoir sample
    of at most that many per set and level instead, in memory, and the protocol records it.
    ``memory_mib`` bounds the projection buffers of `compute`.
    """

    name = "swd"
    higher_is_better = False
    state_reduction = "cat"  # descriptors are gathered, not summed

    def __init__(
        self,
        max_descriptors: int | None = None,
        seed: int = 0,
        memory_mib: int = 512,
        spill_dir: str | None = None,
    ) -> None:
        if max_descriptors is not None and (
            not isinstance(max_descriptors, int) or max_descriptors < 1
        ):
            raise GanInvError(
                "swd.max_descriptors must be a positive integer or null (every descriptor), "
                f"got {max_descriptors!r}"
            )
        if not isinstance(memory_mib, int) or memory_mib < 1:
            raise GanInvError(f"swd.memory_mib must be a positive integer, got {memory_mib!r}")
        self.max_descriptors = max_descriptors
        self.seed = seed
        self.memory_mib = memory_mib
        self.spill_dir = spill_dir
        self.real: list[DescriptorStore] = []
        self.fake: list[DescriptorStore] = []
        self.reset()

    def _new_store(self, seed: int) -> DescriptorStore:
        if self.max_descriptors is None:
            return SpilledRows(3 * NHOOD_SIZE * NHOOD_SIZE, self.spill_dir)
        return Reservoir(self.max_descriptors, seed)

    def reset(self) -> None:
        for store in self.real + self.fake:
            if isinstance(store, SpilledRows):
                store.close()
        self.resolutions: list[int] = []
        self.real = []
        self.fake = []
        self.generator = torch.Generator().manual_seed(self.seed)
        self.images = 0

    def _setup(self, size: int) -> None:
        self.resolutions = pyramid_resolutions(size)
        levels = range(len(self.resolutions))
        self.real = [self._new_store(self.seed + 1 + i) for i in levels]
        self.fake = [self._new_store(self.seed + 101 + i) for i in levels]

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
        for images, stores in ((real, self.real), (fake, self.fake)):
            pyramid = laplacian_pyramid(to_uint8_levels(images), len(self.resolutions))
            for level, store in zip(pyramid, stores):
                store.update(random_descriptors(level, self.generator))
        self.images += real.shape[0]

    def _values(self, store: DescriptorStore) -> torch.Tensor:
        if isinstance(store, SpilledRows):
            return store.read_all()
        return store.values().clone()

    def state(self) -> dict[str, torch.Tensor]:
        """Every kept descriptor per set and level (in memory: 588 bytes each) and the count."""
        out = {}
        for i, res in enumerate(self.resolutions):
            out[f"real_{res}"] = self._values(self.real[i])
            out[f"fake_{res}"] = self._values(self.fake[i])
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
            distance = sliced_wasserstein(
                self.real[i], self.fake[i], self.generator, self.memory_mib * 2**20
            )
            per_level[res] = distance * 1e3
        value = sum(per_level.values()) / len(per_level)
        protocol = {**self.protocol(), "per_level_x1e3": per_level}
        return MetricResult(self.name, value, protocol, self.higher_is_better)

    def protocol(self) -> dict[str, Any]:
        kept = self.real[0].rows if self.real else 0
        sampled = kept < self.images * NHOODS_PER_IMAGE
        return {
            "definition": "ProGAN sliced Wasserstein distance x1e3, mean over pyramid levels",
            "levels": self.resolutions,
            "neighbourhood": f"{NHOOD_SIZE}x{NHOOD_SIZE}, {NHOODS_PER_IMAGE} per image and level",
            "normalisation": "per set and level, per channel mean/std",
            "directions": f"{DIR_REPEATS} x {DIRS_PER_REPEAT}",
            "range": "uint8 0..255 (round((x + 1) * 127.5))",
            "descriptors": "uniform reservoir sample" if sampled else "all",
            "descriptors_per_set_and_level": kept,
            "max_descriptors": self.max_descriptors,
            "images": self.images,
            "seed": self.seed,
        }
