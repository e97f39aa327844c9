"""SSIM and MS-SSIM (Wang et al. 2003/2004) on [0, 1] images, per image then averaged.

Gaussian window 11 x 11, sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1, "valid" filtering (no
padding), statistics per channel, mean over positions and channels: the definition of
scikit-image (``gaussian_weights=True, use_sample_covariance=False``) and pytorch-msssim.

MS-SSIM uses 5 scales with weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), 2x2 average pooling
between scales (pytorch-msssim pads odd sizes), contrast-structure terms at the first four scales
and SSIM at the last, negative values clipped to 0 (pytorch-msssim). Images too small for 5 scales
(the coarsest must be at least 11 px, i.e. the input at least 161 px) use as many scales as fit,
with the first weights renormalised to sum to 1; the number of scales is in the protocol.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.core.registry import METRICS
from ganinv.metrics.per_image import PerImageMeanMetric, to_unit_range

WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> torch.Tensor:
    """Normalised 1-D Gaussian [size] in float64."""
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def _filter(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    # Separable valid filtering of each channel.
    c = x.shape[1]
    k = window.to(x)
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def ssim_and_cs(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image and channel [B, C] mean SSIM and contrast-structure term; x, y in [0, 1]."""
    if min(x.shape[-2:]) < WINDOW:
        raise GanInvError(f"SSIM needs images of at least {WINDOW} px; got {tuple(x.shape[-2:])}")
    window = gaussian_window()
    c1, c2 = K1**2, K2**2
    mu_x, mu_y = _filter(x, window), _filter(y, window)
    sigma_xx = _filter(x * x, window) - mu_x**2
    sigma_yy = _filter(y * y, window) - mu_y**2
    sigma_xy = _filter(x * y, window) - mu_x * mu_y
    cs_map = (2 * sigma_xy + c2) / (sigma_xx + sigma_yy + c2)
    ssim_map = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1) * cs_map
    return ssim_map.mean(dim=(2, 3)), cs_map.mean(dim=(2, 3))


def ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM [B] of [0, 1] images [B, C, H, W] (mean over channels)."""
    return ssim_and_cs(x, y)[0].mean(dim=1)


def ms_ssim_scales(height: int, width: int, max_scales: int = 5) -> int:
    """How many scales fit: the coarsest must still be at least the 11 px window."""
    scales, h, w = 0, height, width
    while scales < max_scales and min(h, w) >= WINDOW:
        scales += 1
        h, w = (h + h % 2) // 2, (w + w % 2) // 2
    if scales == 0:
        raise GanInvError(f"MS-SSIM needs images of at least {WINDOW} px; got {height}x{width}")
    return scales


def ms_ssim(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Per-image MS-SSIM [B] of [0, 1] images, and the number of scales used."""
    scales = ms_ssim_scales(x.shape[-2], x.shape[-1])
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales], dtype=x.dtype, device=x.device)
    weights = weights / weights.sum()
    terms = []
    for level in range(scales):
        s, cs = ssim_and_cs(x, y)
        if level < scales - 1:
            terms.append(F.relu(cs))
            padding = [x.shape[-2] % 2, x.shape[-1] % 2]
            x = F.avg_pool2d(x, kernel_size=2, padding=padding)
            y = F.avg_pool2d(y, kernel_size=2, padding=padding)
        else:
            terms.append(F.relu(s))
    stacked = torch.stack(terms, dim=0)  # [scales, B, C]
    per_channel = torch.prod(stacked ** weights.view(-1, 1, 1), dim=0)
    return per_channel.mean(dim=1), scales


_COMMON = {
    "range": "[0, 1] = (x + 1) / 2",
    "data_range": 1.0,
    "window": f"gaussian {WINDOW}x{WINDOW}, sigma {SIGMA}, valid",
    "K1": K1,
    "K2": K2,
}


@METRICS.register("ssim")
class SSIMMetric(PerImageMeanMetric):
    name = "ssim"
    higher_is_better = True

    def __init__(self, clamp: bool = True) -> None:
        self.clamp = clamp
        super().__init__()

    def per_image(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return ssim(to_unit_range(real, self.clamp), to_unit_range(fake, self.clamp))

    def protocol(self) -> dict[str, Any]:
        return {**_COMMON, "clamp": self.clamp}


@METRICS.register("ms_ssim")
class MSSSIMMetric(PerImageMeanMetric):
    name = "ms_ssim"
    higher_is_better = True

    def __init__(self, clamp: bool = True) -> None:
        self.clamp = clamp
        self._scales: int | None = None
        super().__init__()

    def per_image(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        values, self._scales = ms_ssim(
            to_unit_range(real, self.clamp), to_unit_range(fake, self.clamp)
        )
        return values

    def protocol(self) -> dict[str, Any]:
        scales = self._scales
        weights = MS_SSIM_WEIGHTS[: scales or 5]
        # Printed beside the value wherever it is shown (tables, `ganinv eval`): an MS-SSIM on
        # fewer than 5 scales is not comparable with the papers' 5-scale numbers.
        note = {"note": f"{scales} of 5 scales"} if scales is not None and scales < 5 else {}
        return {
            **_COMMON,
            **note,
            "clamp": self.clamp,
            "scales": scales,
            "weights": [round(w / sum(weights), 6) for w in weights],
            "downsampling": "2x2 average pooling (odd sizes padded)",
        }
