"""HyperStyle's refinement blocks: features [B, C, S, S] -> a weight offset per tuned layer.

Released ``models/hypernetworks/refinement_blocks.py`` and ``shared_weights_hypernet.py``:

- `RefinementBlock` (one per layer, the 128 to 1024 px layers at 1024 px): stride-2 convs
  (C -> inner -> ... -> out), LeakyReLU after each, global average pooling, a 1x1 conv to
  C_in * C_out values, reshaped to [C_out, C_in] and repeated over the 3x3 taps (channel-wise
  offsets, the same for every tap);
- `SharedRefinementBlock` (the 512 -> 512 convs at 4 to 64 px): its own head (a stride-1 conv,
  stride-2 convs down to 1 x 1, LeakyReLU after each, an equalised linear layer) gives a code
  that the one `SharedHypernet` of all shared layers turns into a full [C_out, C_in, 3, 3]
  offset (Ha et al.'s two-stage hypernetwork).

Offsets are multiplicative: the tuned weight is W * (1 + delta).
"""

from __future__ import annotations

import math

import torch
from ganinv_baselines.psp_parts import EqualLinear
from torch import nn

from ganinv.core.errors import GanInvError

KERNEL = 3  # the modulated convs HyperStyle tunes are 3 x 3


def _check_spatial(spatial: int) -> int:
    """log2 of the feature size, which must be a power of two >= 2."""
    if spatial < 2 or spatial & (spatial - 1):
        raise GanInvError(
            f"the hypernetwork's feature map is {spatial} x {spatial}; refinement blocks need a "
            "power of two >= 2 (set the encoder's input_resolution or the backbone's stem_stride)"
        )
    return int(math.log2(spatial))


class RefinementBlock(nn.Module):
    """Features [B, C, S, S] -> channel-wise offsets [B, C_out, C_in, 3, 3] of one layer.

    log2(S) - 1 stride-2 convs (at least one; C -> inner -> ... -> out), LeakyReLU after each,
    global average pooling, then a 1x1 conv to C_out * C_in values.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        feature_channels: int,
        spatial: int,
        inner_channels: int = 256,
        head_channels: int = 512,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        convs = max(_check_spatial(spatial) - 1, 1)
        widths = [feature_channels] + [inner_channels] * (convs - 1) + [head_channels]
        modules: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            modules += [nn.Conv2d(a, b, 3, 2, 1), nn.LeakyReLU()]
        self.convs = nn.Sequential(*modules)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.output = nn.Conv2d(head_channels, in_channels * out_channels, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.output(self.pool(self.convs(features)))
        delta = x.reshape(x.shape[0], self.out_channels, self.in_channels, 1, 1)
        return delta.expand(-1, -1, -1, KERNEL, KERNEL)

    def zero_init_(self) -> None:
        """No offset until trained (the last conv starts at zero)."""
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)


class SharedHypernet(nn.Module):
    """A code [B, z] -> a full offset [B, C, C, 3, 3], shared by the layers of one shape.

    Two linear stages as released: z -> C vectors of size z (``w2``, ``b2``), then each of those
    -> C * 3 * 3 values (``w1``, ``b1``); the [B, C, C*9] result is read as [B, C_out, C_in, 3, 3]
    in memory order, as the released code views it. Init: fmod(N(0, 1) / 40, 2).
    """

    def __init__(self, code_dim: int, channels: int) -> None:
        super().__init__()
        self.code_dim = code_dim
        self.channels = channels

        def init(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.fmod(torch.randn(*shape) / 40, 2))

        self.w1 = init(code_dim, channels * KERNEL * KERNEL)
        self.b1 = init(channels * KERNEL * KERNEL)
        self.w2 = init(code_dim, channels * code_dim)
        self.b2 = init(channels * code_dim)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        b = code.shape[0]
        h_in = (code @ self.w2 + self.b2).reshape(b, self.channels, self.code_dim)
        h_final = h_in @ self.w1 + self.b1  # [B, C_in, C_out * 9]
        return h_final.reshape(b, self.channels, self.channels, KERNEL, KERNEL)

    def zero_init_(self) -> None:
        """No offset until trained (the second stage starts at zero)."""
        nn.init.zeros_(self.w1)
        nn.init.zeros_(self.b1)


class SharedRefinementBlock(nn.Module):
    """Features [B, C, S, S] -> a code [B, code_dim] (this layer's head) -> the shared
    hypernetwork's offset [B, C_l, C_l, 3, 3].

    Head: a stride-1 conv C -> inner, log2(S) stride-2 convs (inner -> ... -> code_dim) down to
    1 x 1, LeakyReLU after each, then an equalised linear layer code_dim -> code_dim.
    The hypernetwork is not a submodule: the encoder owns it once (``shared_hypernet``).
    """

    def __init__(
        self, feature_channels: int, spatial: int, inner_channels: int = 128, code_dim: int = 512
    ) -> None:
        super().__init__()
        convs = _check_spatial(spatial)
        modules: list[nn.Module] = [nn.Conv2d(feature_channels, inner_channels, 3, 1, 1)]
        modules.append(nn.LeakyReLU())
        widths = [inner_channels] * convs + [code_dim]
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            modules += [nn.Conv2d(a, b, 3, 2, 1), nn.LeakyReLU()]
        self.convs = nn.Sequential(*modules)
        self.linear = EqualLinear(code_dim, code_dim, lr_mul=1)
        self.code_dim = code_dim

    def forward(self, features: torch.Tensor, hypernet: SharedHypernet) -> torch.Tensor:
        code = self.linear(self.convs(features).reshape(features.shape[0], self.code_dim))
        return hypernet(code)
