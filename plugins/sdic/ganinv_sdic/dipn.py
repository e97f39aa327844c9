"""SDIC's discrepancy information prediction network (DIPN; released class ``DIP``).

Adapted by SDIC from CGI-Stereo: the original image and the initial reconstruction play the two
stereo views. In order (paper widths in brackets, all settings here):

1. Two-branch spatial-contextual hourglass: two `FeatureEncoder`s with unshared weights (5 convs:
   w0 at full size, w1 then w2 at 1/2, w3 at 1/4, w4 at 1/8 [16, 24, 32, 96, 160]) and one shared
   `FeatureDecoder` (three `Conv2x` steps back to full size), giving per branch
   [2 w0 @1, 2 w2 @1/2, 2 w3 @1/4, w4 @1/8] = [32, 64, 192, 160].
2. Shared descriptor (3x3 `BasicConv` to `descriptor_hidden` [48], 1x1 conv to
   `descriptor_channels` [24]) on the full-size level of each branch; the two descriptors are
   concatenated and their 2 x 24 = 48 channels become the depth axis of a 3D volume
   [B, 1, 48, H, W]; ``corr_stem`` lifts it to `volume_channels` [8].
3. Discrepancy hourglass (`DiscrepancyHourglass`, released ``hourglass_fusion``): 3D convs down to
   1/8 and back, with context-geometry fusion (`ContextGeometryFusion`) from the original image's
   branch at 1/8, 1/4 and 1/2.
4. Head: the volume's depth as channels, `BasicConv` + conv3x3 + BN + ReLU to `head_channels`
   [16], then three IR blocks to the 3-channel discrepancy map [B, 3, H, W] (unbounded).

Modules the released class builds but never calls (``stem_2``, ``stem_4``, ``spx*``, ``semantic``,
``agg``) are left out.
"""

from __future__ import annotations

import torch
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.nets.ir_se import bottleneck_IR
from ganinv_sdic.blocks import BasicConv, Conv2x

PAPER_FEATURE_WIDTHS = (16, 24, 32, 96, 160)


class FeatureEncoder(nn.Module):
    """[B, 3, H, W] -> [w0 @H, w2 @H/2, w3 @H/4, w4 @H/8] (released ``Feature``)."""

    def __init__(self, widths: tuple[int, int, int, int, int]) -> None:
        super().__init__()
        w0, w1, w2, w3, w4 = widths
        self.fe1 = BasicConv(3, w0, kernel_size=3, stride=1, padding=1)
        self.fe2 = BasicConv(w0, w1, kernel_size=3, stride=2, padding=1)
        self.fe3 = BasicConv(w1, w2, kernel_size=3, stride=1, padding=1)
        self.fe4 = BasicConv(w2, w3, kernel_size=3, stride=2, padding=1)
        self.fe5 = BasicConv(w3, w4, kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x1 = self.fe1(x)
        x2 = self.fe3(self.fe2(x1))
        x4 = self.fe4(x2)
        x8 = self.fe5(x4)
        return [x1, x2, x4, x8]


class FeatureDecoder(nn.Module):
    """Encoder levels -> [2 w0 @H, 2 w2 @H/2, 2 w3 @H/4, w4 @H/8] (released ``FeatUp``)."""

    def __init__(self, widths: tuple[int, int, int, int, int]) -> None:
        super().__init__()
        w0, _, w2, w3, w4 = widths
        self.deconv8_4 = Conv2x(w4, w3)
        self.deconv4_2 = Conv2x(2 * w3, w2)
        self.deconv2_1 = Conv2x(2 * w2, w0)
        self.conv4 = BasicConv(2 * w0, 2 * w0, kernel_size=3, stride=1, padding=1)

    def forward(self, levels: list[torch.Tensor]) -> list[torch.Tensor]:
        x1, x2, x4, x8 = levels
        x4 = self.deconv8_4(x8, x4)
        x2 = self.deconv4_2(x4, x2)
        x1 = self.conv4(self.deconv2_1(x2, x1))
        return [x1, x2, x4, x8]


class ContextGeometryFusion(nn.Module):
    """Injects 2D context [B, im_channels, h, w] into a volume [B, cv_channels, D, h, w]:
    ``cv <- agg(sigmoid(att(f + cv)) * f + cv)`` with f the context projected to cv_channels and
    broadcast over depth (released ``Context_Geometry_Fusion``)."""

    def __init__(self, cv_channels: int, im_channels: int) -> None:
        super().__init__()
        self.semantic = nn.Sequential(
            BasicConv(im_channels, im_channels // 2, kernel_size=1, stride=1, padding=0),
            nn.Conv2d(im_channels // 2, cv_channels, 1),
        )
        conv155 = {"kernel_size": (1, 5, 5), "padding": (0, 2, 2), "stride": 1}
        self.att = nn.Sequential(
            BasicConv(cv_channels, cv_channels, is_3d=True, **conv155),
            nn.Conv3d(cv_channels, cv_channels, kernel_size=1, bias=False),
        )
        self.agg = BasicConv(cv_channels, cv_channels, is_3d=True, **conv155)

    def forward(self, cv: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        f = self.semantic(context).unsqueeze(2)
        att = self.att(f + cv)
        return self.agg(torch.sigmoid(att) * f + cv)


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        BasicConv(cin, cout, is_3d=True, kernel_size=3, padding=1, stride=2),
        BasicConv(cout, cout, is_3d=True, kernel_size=3, padding=1, stride=1),
    )


def _agg(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        BasicConv(cin, cout, is_3d=True, kernel_size=1, padding=0, stride=1),
        BasicConv(cout, cout, is_3d=True, kernel_size=3, padding=1, stride=1),
        BasicConv(cout, cout, is_3d=True, kernel_size=3, padding=1, stride=1),
    )


class DiscrepancyHourglass(nn.Module):
    """[B, c, D, H, W] volume -> [B, 1, D, H, W] (released ``hourglass_fusion(c)``).

    context_channels: channels of the original-image branch at 1/2, 1/4, 1/8 ([64, 192, 160]).
    """

    def __init__(self, c: int, context_channels: tuple[int, int, int]) -> None:
        super().__init__()
        ctx2, ctx4, ctx8 = context_channels
        up = {"deconv": True, "is_3d": True, "kernel_size": 4, "padding": 1, "stride": 2}
        self.conv1 = _down(c, 2 * c)
        self.conv2 = _down(2 * c, 4 * c)
        self.conv3 = _down(4 * c, 6 * c)
        self.conv3_up = BasicConv(6 * c, 4 * c, **up)
        self.conv2_up = BasicConv(4 * c, 2 * c, **up)
        self.conv1_up = BasicConv(2 * c, 1, bn=False, relu=False, **up)
        self.agg_0 = _agg(8 * c, 4 * c)
        self.agg_1 = _agg(4 * c, 2 * c)
        self.CGF_32 = ContextGeometryFusion(6 * c, ctx8)
        self.CGF_16 = ContextGeometryFusion(4 * c, ctx4)
        self.CGF_8 = ContextGeometryFusion(2 * c, ctx2)

    def forward(self, volume: torch.Tensor, context: list[torch.Tensor]) -> torch.Tensor:
        conv1 = self.conv1(volume)
        conv2 = self.conv2(conv1)
        conv3 = self.CGF_32(self.conv3(conv2), context[3])
        conv2 = self.agg_0(torch.cat([self.conv3_up(conv3), conv2], dim=1))
        conv2 = self.CGF_16(conv2, context[2])
        conv1 = self.agg_1(torch.cat([self.conv2_up(conv2), conv1], dim=1))
        conv1 = self.CGF_8(conv1, context[1])
        return self.conv1_up(conv1)


class DIPN(nn.Module):
    """(image, initial reconstruction), both [B, 3, H, W] in [-1, 1] -> discrepancy [B, 3, H, W].

    H must be divisible by 8 and the volume depth ``2 * descriptor_channels`` by 8.
    """

    def __init__(
        self,
        feature_widths: tuple[int, ...] = PAPER_FEATURE_WIDTHS,
        descriptor_hidden: int = 48,
        descriptor_channels: int = 24,
        volume_channels: int = 8,
        head_channels: int = 16,
    ) -> None:
        super().__init__()
        if len(feature_widths) != 5:
            raise GanInvError(f"feature_widths needs 5 widths, got {list(feature_widths)}")
        depth = 2 * descriptor_channels
        if depth % 8:
            raise GanInvError(
                "the discrepancy volume's depth 2 * descriptor_channels must be divisible by 8 "
                f"(three stride-2 3D convs); got descriptor_channels={descriptor_channels}"
            )
        widths = tuple(int(w) for w in feature_widths)
        w0, _, w2, w3, w4 = widths
        self.feature1 = FeatureEncoder(widths)  # original image
        self.feature2 = FeatureEncoder(widths)  # initial reconstruction
        self.feature_up = FeatureDecoder(widths)  # shared by both branches
        self.conv = BasicConv(2 * w0, descriptor_hidden, kernel_size=3, padding=1, stride=1)
        self.desc = nn.Conv2d(descriptor_hidden, descriptor_channels, kernel_size=1)
        self.corr_stem = BasicConv(1, volume_channels, is_3d=True, kernel_size=3, padding=1)
        self.hourglass_fusion = DiscrepancyHourglass(volume_channels, (2 * w2, 2 * w3, w4))
        self.rgb1 = nn.Sequential(
            BasicConv(depth, head_channels, kernel_size=3, stride=1, padding=1),
            nn.Conv2d(head_channels, head_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(head_channels),
            nn.ReLU(),
        )
        self.rgb = nn.Sequential(
            bottleneck_IR(head_channels, 3, 1), bottleneck_IR(3, 3, 1), bottleneck_IR(3, 3, 1)
        )

    def forward(self, image: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
        if image.shape != reconstruction.shape:
            raise GanInvError(
                f"DIPN needs image and reconstruction of one shape, got {list(image.shape)} and "
                f"{list(reconstruction.shape)}"
            )
        if image.shape[-1] % 8 or image.shape[-2] % 8:
            raise GanInvError(f"DIPN needs a size divisible by 8, got {list(image.shape[-2:])}")
        left = self.feature_up(self.feature1(image))
        right = self.feature_up(self.feature2(reconstruction))
        match_left = self.desc(self.conv(left[0]))
        match_right = self.desc(self.conv(right[0]))
        volume = torch.cat([match_left, match_right], dim=1).unsqueeze(1)  # [B, 1, D, H, W]
        cost = self.hourglass_fusion(self.corr_stem(volume), left).squeeze(1)  # [B, D, H, W]
        return self.rgb(self.rgb1(cost))
