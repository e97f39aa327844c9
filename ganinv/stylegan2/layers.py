"""StyleGAN2 building blocks with equalised learning rate (NVlabs parameterisation).

Raw parameters are stored exactly as NVlabs' `FullyConnectedLayer` / `SynthesisLayer` /
`ToRGBLayer` / `Conv2dLayer` and rosinality's `EqualLinear` / `ModulatedConv2d` store them
(weights ~ N(0, 1) / lr_mul, gains applied at run time), so checkpoint values copy 1:1.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.stylegan2 import ops


class EqualLinear(nn.Module):
    """Fully connected layer: y = act(x @ (W * lr_mul / sqrt(in)).T + b * lr_mul).

    x [B, in_features] -> [B, out_features]; activation 'linear' or 'lrelu' (x sqrt(2)).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias_init: float = 0.0,
        lr_mul: float = 1.0,
        activation: str = "linear",
    ) -> None:
        super().__init__()
        if activation not in ("linear", "lrelu"):
            raise ValueError(f"activation must be 'linear' or 'lrelu', got {activation!r}")
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init)))
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.bias_gain = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        b = self.bias * self.bias_gain if self.bias_gain != 1 else self.bias
        if self.activation == "linear":
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return ops.bias_lrelu(x.matmul(w.t()), b)


class MappingNetwork(nn.Module):
    """z [B, z_dim] -> w [B, w_dim]: normalise the second moment, then `num_layers` EqualLinear
    with leaky ReLU and learning-rate multiplier `lr_mul` (0.01 in StyleGAN2)."""

    def __init__(self, *, z_dim: int, w_dim: int, num_layers: int, lr_mul: float) -> None:
        super().__init__()
        features = [z_dim] + [w_dim] * num_layers
        for index in range(num_layers):
            layer = EqualLinear(
                features[index], features[index + 1], lr_mul=lr_mul, activation="lrelu"
            )
            setattr(self, f"fc{index}", layer)
        self.num_layers = num_layers

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for index in range(self.num_layers):
            x = getattr(self, f"fc{index}")(x)
        return x


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (+ 2x upsampling when ``up``), noise, bias, leaky ReLU.

    Non-fused modulation order (x * s, one conv shared by the batch, then * demodulation), which
    is also the order the padding hook needs: the border ring is placed after x * s, so it is not
    multiplied by the style. `noise_const` [R, R] is the buffer used for noise_mode 'const'.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        w_dim: int,
        resolution: int,
        up: bool = False,
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.resolution = resolution
        self.up = up
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.register_buffer("resample_filter", ops.setup_filter(), persistent=False)

    def modulate(
        self, x: torch.Tensor, w: torch.Tensor, weight: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(x * s, demodulation coefficients [B, O]) for input x [B, I, H, W] and w [B, w_dim].

        `weight`: the weights to demodulate for, [O, I, 3, 3] or one per image [B, O, I, 3, 3]
        (a code's tuned weights); None: the layer's own.
        """
        styles = self.affine(w)  # [B, I]
        weight = self.weight if weight is None else weight
        if weight.ndim == 4:
            # sum_{i,k} (W[o,i,k] s_i)^2 = sum_i s_i^2 sum_k W[o,i,k]^2: one [B, I] x [I, O] matmul.
            dcoefs = (styles.square() @ weight.square().sum(dim=[2, 3]).t() + 1e-8).rsqrt()
        else:
            energy = weight.square().sum(dim=[3, 4])  # [B, O, I]
            dcoefs = (torch.bmm(energy, styles.square().unsqueeze(2)).squeeze(2) + 1e-8).rsqrt()
        return x * styles.reshape(styles.shape[0], -1, 1, 1), dcoefs

    def convolve(
        self,
        x: torch.Tensor,
        border: torch.Tensor | None = None,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The convolution of a modulated input (zero padding, or the given border map) with the
        layer's weight, or with `weight` [O, I, 3, 3] or one per image [B, O, I, 3, 3]."""
        weight = self.weight if weight is None else weight
        if weight.ndim == 5:
            return self._convolve_per_image(x, border, weight)
        if self.up:
            return ops.conv_up2d(x, weight, self.resample_filter)
        if border is None:
            return F.conv2d(x, weight, padding=1)
        return F.conv2d(place_in_border(x, border), weight)

    def _convolve_per_image(
        self, x: torch.Tensor, border: torch.Tensor | None, weight: torch.Tensor
    ) -> torch.Tensor:
        """Image b with weight[b] ([B, O, I, 3, 3]): one grouped convolution, groups = B."""
        b, o = x.shape[0], weight.shape[1]
        if border is not None:
            x = place_in_border(x, border)
        flat = x.reshape(1, -1, *x.shape[2:])  # [1, B*I, H, W]
        if self.up:
            # conv_transpose2d weights are [in, out / groups, k, k]: [B*I, O, 3, 3].
            kernel = weight.transpose(1, 2).reshape(-1, o, *weight.shape[3:])
            y = F.conv_transpose2d(flat, kernel, stride=2, groups=b)
            y = ops.upfirdn2d_ref(y, self.resample_filter, pad=(1, 1, 1, 1), gain=4)
        else:
            kernel = weight.reshape(-1, *weight.shape[2:])  # [B*O, I, 3, 3]
            y = F.conv2d(flat, kernel, padding=1 if border is None else 0, groups=b)
        return y.reshape(b, o, *y.shape[2:])

    def finish(
        self,
        x: torch.Tensor,
        dcoefs: torch.Tensor,
        noise_mode: str,
    ) -> torch.Tensor:
        """Demodulate, add noise, add bias, leaky ReLU x sqrt(2), in two passes over x.

        lrelu(y) * g == lrelu(y * g) for g > 0, so the gain goes into the demodulation and the
        (noise + bias) term, and one addcmul does demodulation, noise and bias together
        (`ops.scale_add_lrelu`, with a leaner backward).
        """
        gain = ops.SQRT2
        bias = self.bias.reshape(-1, 1, 1)
        if noise_mode == "const":
            base = self.noise_const * self.noise_strength + bias  # [C, R, R], batch-free
        elif noise_mode == "random":
            noise = torch.randn(
                [x.shape[0], 1, self.resolution, self.resolution], device=x.device, dtype=x.dtype
            )
            base = noise * self.noise_strength + bias
        else:
            base = bias
        return _clamp(ops.scale_add_lrelu(x, dcoefs * gain, base * gain), self.conv_clamp)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x, dcoefs = self.modulate(x, w)
        return self.finish(self.convolve(x), dcoefs, noise_mode)


def _clamp(x: torch.Tensor, limit: float | None) -> torch.Tensor:
    """NVlabs' ``conv_clamp``: clamp activations to [-limit, limit] (after gain); None = off."""
    return x if limit is None else x.clamp(-limit, limit)


def place_in_border(x: torch.Tensor, border: torch.Tensor) -> torch.Tensor:
    """Centre-crop `border` [B, C, S, S] to [B, C, H+2, W+2] and put x [B, C, H, W] inside.

    Only the outer one-pixel ring of the crop survives; gradients flow to both x and the ring.
    """
    h, w = x.shape[-2:]
    if border.ndim != 4 or border.shape[-2] < h + 2 or border.shape[-1] < w + 2:
        raise GanInvError(
            f"padding map must be [B, C, S, S] with S >= {h + 2}; got {tuple(border.shape)}"
        )
    if border.shape[1] != x.shape[1]:
        raise GanInvError(
            f"padding map has {border.shape[1]} channels, the layer input has {x.shape[1]}"
        )
    top = (border.shape[-2] - (h + 2)) // 2
    left = (border.shape[-1] - (w + 2)) // 2
    canvas = border[:, :, top : top + h + 2, left : left + w + 2]
    canvas = canvas.expand(x.shape[0], -1, -1, -1).clone(memory_format=ops.memory_format_of(x))
    canvas[:, :, 1:-1, 1:-1] = x
    return canvas


class ToRGBLayer(nn.Module):
    """Modulated 1x1 conv to the image channels, no demodulation, plus bias (linear)."""

    def __init__(
        self, in_channels: int, out_channels: int, *, w_dim: int, conv_clamp: float | None = None
    ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.in_channels = in_channels
        self.affine = EqualLinear(w_dim, in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.weight_gain = 1.0 / math.sqrt(in_channels)

    def forward(
        self, x: torch.Tensor, w: torch.Tensor, weight: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x [B, I, H, W], w [B, w_dim] -> [B, O, H, W]; `weight` replaces the layer's own:
        [O, I, 1, 1] or one per image [B, O, I, 1, 1] (a code's tuned weights)."""
        styles = self.affine(w) * self.weight_gain  # [B, I]
        weight = self.weight if weight is None else weight
        # Fold the per-sample style into a [B, O, I] weight: one batched matmul over the pixels
        # instead of materialising x * s.
        if weight.ndim == 4:
            weight = weight[:, :, 0, 0].unsqueeze(0) * styles.unsqueeze(1)
        else:
            weight = weight[:, :, :, 0, 0] * styles.unsqueeze(1)
        b, _, h, w_ = x.shape
        if ops.memory_format_of(x) == torch.channels_last:
            # Channels-last x is [B, H*W, I] in memory: the same product, without a copy.
            pixels = x.permute(0, 2, 3, 1).reshape(b, h * w_, -1)
            out = torch.baddbmm(self.bias.reshape(1, 1, -1), pixels, weight.transpose(1, 2))
            return _clamp(out.reshape(b, h, w_, -1).permute(0, 3, 1, 2), self.conv_clamp)
        out = torch.baddbmm(self.bias.reshape(1, -1, 1), weight, x.reshape(b, -1, h * w_))
        return _clamp(out.reshape(b, -1, h, w_), self.conv_clamp)


class Conv2dLayer(nn.Module):
    """Equalised-lr conv for the discriminator: optional 2x FIR downsampling, bias, activation.

    kernel 3 with ``down``: blur then stride-2 conv (one 6x6 stride-2 conv here);
    kernel 1 with ``down``: FIR downsample then 1x1 conv. `conv_clamp` clamps the output.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        bias: bool = True,
        activation: str = "lrelu",
        down: bool = False,
        conv_clamp: float | None = None,
    ) -> None:
        super().__init__()
        self.conv_clamp = conv_clamp
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.activation = activation
        self.down = down
        self.kernel_size = kernel_size
        self.register_buffer("resample_filter", ops.setup_filter(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.weight_gain
        if not self.down:
            x = F.conv2d(x, w, padding=self.kernel_size // 2)
        elif self.kernel_size == 1:
            # The 1x1 conv commutes with the per-channel FIR: filter the narrower side.
            if w.shape[0] < w.shape[1]:
                x = ops.downsample2d(F.conv2d(x, w), self.resample_filter)
            else:
                x = F.conv2d(ops.downsample2d(x, self.resample_filter), w)
        else:
            x = ops.conv_down2d(x, w, self.resample_filter)
        if self.activation == "lrelu":
            return _clamp(ops.bias_lrelu(x, self.bias), self.conv_clamp)
        if self.bias is not None:
            x = x + self.bias.reshape(1, -1, 1, 1)
        return _clamp(x, self.conv_clamp)


class MinibatchStdLayer(nn.Module):
    """Appends `num_channels` maps of the feature std over groups of `group_size` samples."""

    def __init__(self, group_size: int = 4, num_channels: int = 1) -> None:
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = min(self.group_size, n)
        if n % g != 0:
            raise ValueError(f"batch size {n} must be divisible by the mbstd group size {g}")
        f = self.num_channels
        y = x.reshape(g, -1, f, c // f, h, w)
        y = (y - y.mean(dim=0)).square().mean(dim=0)
        y = (y + 1e-8).sqrt().mean(dim=[2, 3, 4])  # [N/G, F]
        y = y.reshape(-1, f, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)
