"""SDIC's discrepancy information compensation network (DICN; released ``SpatialAttFus``).

Inputs: the predicted discrepancy map D [B, 3, H, W], the generator feature F [B, C, r, r] of the
initial inversion at the compensation layer, and its W+ codes w [B, num_ws, w_dim].

Feature branch: ``f2 = semantic(conv_layer1(D))`` (two stride-2 stages, widths [32, 64] then C),
``a = att(f2 + F)``, and the compensated feature ``F' = sigmoid(a) * f2 + F``; returned as the
residual ``sigmoid(a) * f2 = F' - F``. The branch reduces D by 4 (256 -> 64 in the paper); when
H != 4 r, D is first resized bilinearly to 4 r (never in the paper's setting).

Latent branch: ``c = EqualConv(ScaledLReLU(EqualConv(D)))`` with num_ws channels, resized
bilinearly to `latent_map_size` [64] and reshaped in memory order to [B, rows, w_dim]
(18 * 64 * 64 / 512 = 144 rows), then `Affine1d`: ``e = sen(c)`` [B, num_ws, w_dim],
``gamma = att(e)``, ``theta = att2(e)`` and ``w' = gamma * w + w + theta``.

`zero_init_` zeroes the last (bias-free) convolution of f2, gamma and theta: the network then
returns a zero residual and w' = w exactly (the paper starts from PyTorch's default init).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv_sdic.blocks import BasicConv, EqualConv2d, ScaledLeakyReLU


def _gate(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(channels, channels, 3, 1, 1),
        nn.BatchNorm1d(channels),
        nn.LeakyReLU(),
        nn.Conv1d(channels, channels, kernel_size=1, bias=False),
    )


class Affine1d(nn.Module):
    """(w [B, num_ws, w_dim], shift [B, rows, w_dim]) -> (1 + gamma) * w + theta."""

    def __init__(self, num_ws: int, rows: int) -> None:
        super().__init__()
        self.sen = nn.Sequential(
            nn.Conv1d(rows, rows // 2, kernel_size=1),
            nn.BatchNorm1d(rows // 2),
            nn.LeakyReLU(),
            nn.Conv1d(rows // 2, num_ws, kernel_size=1),
        )
        self.att = _gate(num_ws)  # gamma
        self.att2 = _gate(num_ws)  # theta

    def forward(self, w: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        e = self.sen(shift)
        return self.att(e) * w + w + self.att2(e)


class DICN(nn.Module):
    """(discrepancy [B, 3, H, W], feature [B, C, r, r], wplus [B, num_ws, w_dim]) ->
    (residual F' - F [B, C, r, r], compensated W+ [B, num_ws, w_dim])."""

    def __init__(
        self,
        feature_channels: int,
        num_ws: int,
        w_dim: int,
        widths: tuple[int, int] = (32, 64),
        latent_map_size: int = 64,
    ) -> None:
        super().__init__()
        c1, c2 = (int(w) for w in widths)
        c = feature_channels
        if (num_ws * latent_map_size**2) % w_dim:
            raise GanInvError(
                f"latent_map_size={latent_map_size}: num_ws * size^2 = "
                f"{num_ws * latent_map_size**2} must be a multiple of w_dim={w_dim} (SDIC "
                "reshapes the map into rows of w_dim values); pick another size"
            )
        rows = num_ws * latent_map_size**2 // w_dim
        if rows < 2:
            raise GanInvError(
                f"latent_map_size={latent_map_size} gives {rows} row; use a larger size"
            )
        self.w_dim = w_dim
        self.latent_map_size = latent_map_size
        self.conv_layer1 = nn.Sequential(
            nn.Conv2d(3, c1, 3, 1, 1, bias=False), nn.BatchNorm2d(c1), nn.PReLU(c1)
        )
        self.semantic = nn.Sequential(
            BasicConv(c1, c2, kernel_size=3, padding=1, stride=2),
            nn.Conv2d(c2, c2, kernel_size=3, stride=1, padding=1, bias=False),
            BasicConv(c2, c, kernel_size=3, padding=1, stride=2),
            nn.Conv2d(c, c, kernel_size=3, stride=1, padding=1, bias=False),
        )
        self.att = nn.Sequential(
            BasicConv(c, c, kernel_size=3, padding=1, stride=1),
            nn.Conv2d(c, c, kernel_size=3, stride=1, padding=1, bias=False),
        )
        self.condition_shift3 = nn.Sequential(
            EqualConv2d(3, num_ws, 3, padding=1),
            ScaledLeakyReLU(0.2),
            EqualConv2d(num_ws, num_ws, 3, padding=1),
        )
        self.aff1d = Affine1d(num_ws, rows)

    def zero_init_(self) -> DICN:
        """Start from 'no compensation': zero residual and w' = w (exactly)."""
        with torch.no_grad():
            for conv in (self.semantic[-1], self.aff1d.att[-1], self.aff1d.att2[-1]):
                conv.weight.zero_()
        return self

    def forward(
        self, discrepancy: torch.Tensor, feature: torch.Tensor, wplus: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        size = 4 * feature.shape[-1]
        d = discrepancy
        if d.shape[-1] != size or d.shape[-2] != size:
            d = F.interpolate(d, size=(size, size), mode="bilinear", align_corners=False)
        f2 = self.semantic(self.conv_layer1(d))
        gate = torch.sigmoid(self.att(f2 + feature))
        residual = gate * f2
        s = self.latent_map_size
        shift = self.condition_shift3(discrepancy)
        shift = F.interpolate(shift, size=(s, s), mode="bilinear", align_corners=False)
        shift = shift.reshape(shift.shape[0], -1, self.w_dim)
        return residual, self.aff1d(wplus, shift)
