"""HFGI's self-supervised edited pairs: a randomly warped distortion map.

No real edits are used in training (released ``training/coach.py``): the true distortion map D
is warped as torchvision's ``RandomPerspective(distortion_scale, p=aug_rate)`` does (bilinear,
filled with 0), standing in for the distortion of an edited image that no longer lines up with
what is rendered; ADA must restore D from it. The released code applies one transform to the
whole batch (torchvision draws once per call); `per_image` draws one per image instead. The draws
come from torch's global generator, so a resumed training run repeats them exactly.
"""

from __future__ import annotations

import torch


def _warp_once(maps: torch.Tensor, distortion_scale: float, p: float) -> torch.Tensor:
    # torchvision.transforms is imported here, not with the plugin: it pulls in torch._dynamo and
    # triton, which read every distribution's entry points and fail on one unreadable file, so a
    # module-level import would make this plugin fail to load beside a broken third-party one.
    from torchvision.transforms import InterpolationMode, RandomPerspective
    from torchvision.transforms import functional as TF

    if not bool(torch.rand(1) < p):
        return maps
    height, width = maps.shape[-2:]
    start, end = RandomPerspective.get_params(width, height, distortion_scale)
    return TF.perspective(maps, start, end, InterpolationMode.BILINEAR, fill=0.0)


def random_perspective(
    maps: torch.Tensor, distortion_scale: float, p: float, per_image: bool = False
) -> torch.Tensor:
    """maps [B, C, H, W] -> warped maps of the same shape (each warp taken with probability p)."""
    if not per_image:
        return _warp_once(maps, distortion_scale, p)
    return torch.cat([_warp_once(m.unsqueeze(0), distortion_scale, p) for m in maps])
