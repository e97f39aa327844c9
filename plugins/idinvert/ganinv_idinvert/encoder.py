"""IDInvert's domain-guided encoder (Zhu et al., ECCV 2020), the architecture of the TF release.

From ``training/networks_encoder.py`` of genforce/idinvert (the 2020-09 version the paper's
released models use), for an R px input:

* conv 5x5 (3 -> base) + bias, LeakyReLU(0.2), BatchNorm;
* log2(R) - 2 stages of [2x2 average pool -> residual block], widths base * 2^(i+1) capped at
  `channel_max` (64 -> 128 -> 256 -> 512 -> 512 -> 512 -> 512 at 256 px, down to 4x4);
* residual block: conv 3x3 (fin -> min(fin, fout)) + LeakyReLU + BN, conv 3x3 (-> fout) +
  LeakyReLU + BN, plus a learned 1x1 conv + BN shortcut when fin != fout;
* dense layer (no weight scaling) from the 4x4 feature to num_ws * w_dim, + bias, then BN.

Weights start from N(0, 0.02), biases at 0; BN momentum 0.1 (TF decay 0.9), eps 1e-5. The output
is the W+ code itself (no w_avg offset). The released PyTorch port uses a different, 1024-wide
variant (see docs/idinvert.md); this one is what the TF training code trains.
"""

from __future__ import annotations

import math

import torch
from ganinv_baselines.encoder_common import check_input
from torch import nn

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace

LRELU_SLOPE = 0.2


class ConvLReluBN(nn.Sequential):
    """conv (+ bias) -> LeakyReLU(0.2) -> BatchNorm: the TF encoder's layer order."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
            nn.LeakyReLU(LRELU_SLOPE),
            nn.BatchNorm2d(out_channels, eps=1e-5, momentum=0.1),
        )


class ResidualBlock(nn.Module):
    """[B, fin, H, W] -> [B, fout, H, W]: two conv-LReLU-BN layers plus a (learned) shortcut."""

    def __init__(self, fin: int, fout: int) -> None:
        super().__init__()
        hidden = min(fin, fout)
        self.conv0 = ConvLReluBN(fin, hidden, 3)
        self.conv1 = ConvLReluBN(hidden, fout, 3)
        self.shortcut: nn.Module = nn.Identity()
        if fin != fout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(fin, fout, 1, bias=False), nn.BatchNorm2d(fout, eps=1e-5, momentum=0.1)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv1(self.conv0(x))


class DomainGuidedEncoder(Encoder):
    """Images [B, 3, R, R] in [-1, 1] -> W+ codes [B, num_ws, w_dim] for the 'wplus' space.

    input_resolution: R (the paper: 256; the GAN's resolution); a power of two >= 8.
    base_channels / channel_max: widths (paper 64 / 512; small values train on a CPU).
    Batch norm needs batches of 2 or more in training mode.
    """

    def __init__(
        self,
        space: InversionSpace,
        input_resolution: int = 256,
        base_channels: int = 64,
        channel_max: int = 512,
    ) -> None:
        super().__init__(space)
        if space.name != "wplus":
            raise GanInvError(
                f"encoder 'idinvert' predicts W+ codes (space 'wplus'), got space {space.name!r}"
            )
        if input_resolution < 8 or input_resolution & (input_resolution - 1):
            raise GanInvError(
                f"idinvert input_resolution must be a power of two >= 8, got {input_resolution}"
            )
        g = space.generator
        self.input_resolution = input_resolution
        self.num_ws, self.w_dim = g.num_ws, g.w_dim
        self.stem = ConvLReluBN(3, base_channels, 5)
        blocks: list[nn.Module] = []
        fin = base_channels
        for i in range(int(math.log2(input_resolution)) - 2):
            fout = min(base_channels * 2 ** (i + 1), channel_max)
            blocks += [nn.AvgPool2d(2), ResidualBlock(fin, fout)]
            fin = fout
        self.blocks = nn.Sequential(*blocks)
        self.dense = nn.Linear(fin * 4 * 4, g.num_ws * g.w_dim)
        self.dense_bn = nn.BatchNorm1d(g.num_ws * g.w_dim, eps=1e-5, momentum=0.1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def predict_wplus(self, images: torch.Tensor) -> torch.Tensor:
        check_input(images, self.input_resolution, "idinvert")
        x = self.blocks(self.stem(images))
        x = self.dense_bn(self.dense(x.flatten(1)))
        return x.reshape(-1, self.num_ws, self.w_dim)

    def forward(self, images: torch.Tensor) -> Code:
        return Code(self.space.name, {"wplus": self.predict_wplus(images)})
