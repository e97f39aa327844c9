"""StyleGAN2 resampling and activation ops in pure PyTorch (CPU and GPU, double-backward safe).

Semantics follow NVlabs' `upfirdn2d` / `conv2d_resample` / `bias_act` (identical to rosinality's
`upfirdn2d_native` and `fused_leaky_relu`). Each resampling op has two formulations:

* ``*_ref``: the textbook one (zero-insertion / transposed conv, then a separate FIR blur), kept
  as the reference the tests compare against;
* the ones the networks use, chosen by measurement on CPU (docs/performance.md): the blur is one
  depthwise `conv2d` (no zero-insertion, no reshape to single-channel images), the ToRGB skip
  upsampling one depthwise stride-2 `conv_transpose2d`;
* exact alternatives that fold the blur into the conv weights (`conv_up2d_polyphase`: one 3x3
  conv to 4x the channels + `pixel_shuffle`; `conv_down2d_fused`: one 6x6 stride-2 conv). They
  need 4x the multiply-adds and measured slower here; they stay tested for other hardware.

Filters are 2-D, normalised to sum 1 (NVlabs convention); rosinality stores them multiplied by
the up-sampling gain (x4), which the checkpoint readers divide out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def setup_filter(taps: Sequence[float] = (1, 3, 3, 1)) -> torch.Tensor:
    """Separable 2-D FIR filter [k, k] from 1-D taps, normalised to sum 1."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    f = f[:, None] * f[None, :]
    return f / f.sum()


def bias_lrelu(
    x: torch.Tensor,
    bias: torch.Tensor | None,
    gain: float = SQRT2,
    alpha: float = 0.2,
) -> torch.Tensor:
    """leaky_relu(x + bias, alpha) * gain, bias broadcast over dim 1 ([B, C] or [B, C, H, W])."""
    if bias is not None:
        x = x + bias.reshape([1, -1] + [1] * (x.ndim - 2))
    x = F.leaky_relu(x, alpha)
    return x * gain if gain != 1 else x


class _ScaleAddLeakyReLU(torch.autograd.Function):
    """leaky_relu(base + x * scale[:, :, None, None], alpha): see `scale_add_lrelu`."""

    @staticmethod
    def forward(ctx, x, scale, base, alpha):  # type: ignore[override]
        ctx.base_shape = base.shape
        if base.dim() >= 3 and memory_format_of(x) == torch.channels_last:
            # A [C, H, W] map in the standard layout is read with stride H*W along the
            # channels, the innermost dimension of channels-last x: 3-4x slower than in x's layout.
            base = base.reshape(-1, *base.shape[-3:]).contiguous(memory_format=torch.channels_last)
        z = torch.empty_like(x)  # x's memory format, so channels-last stays channels-last
        torch.addcmul(base, x, scale[:, :, None, None], out=z)
        ctx.save_for_backward(x, scale, z)
        ctx.alpha = alpha
        return F.leaky_relu(z, alpha)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        x, scale, z = ctx.saved_tensors
        # Differentiable ops only (double backward: path-length regularisation). The derivative
        # of leaky_relu_backward in z is zero, so z may be saved as a plain intermediate.
        gz = torch.ops.aten.leaky_relu_backward(grad, z, ctx.alpha, False)
        gx = gz * scale[:, :, None, None] if ctx.needs_input_grad[0] else None
        gscale = (gz * x).sum(dim=[2, 3]) if ctx.needs_input_grad[1] else None
        gbase = gz.sum_to_size(ctx.base_shape) if ctx.needs_input_grad[2] else None
        return gx, gscale, gbase, None


def memory_format_of(x: torch.Tensor) -> torch.memory_format:
    """channels_last for a channels-last [B, C, H, W] map, else the standard layout."""
    channels_last = not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
    return torch.channels_last if channels_last else torch.contiguous_format


def scale_add_lrelu(
    x: torch.Tensor, scale: torch.Tensor, base: torch.Tensor, alpha: float = 0.2
) -> torch.Tensor:
    """leaky_relu(base + x * scale[:, :, None, None], alpha) for x [B, C, H, W], scale [B, C]
    and a `base` that broadcasts to x (the synthesis layer's demodulation, noise and bias).

    The same numbers as ``leaky_relu(addcmul(base, x, scale))``; its backward makes one pass
    fewer over x-sized maps (autograd of addcmul multiplies a copy of x by its ``value``, 1), and
    the result keeps x's memory format.
    """
    return _ScaleAddLeakyReLU.apply(x, scale, base, alpha)


# ------------------------------------------------------------------------------------------------
# Reference formulations.


def upfirdn2d_ref(
    x: torch.Tensor,
    f: torch.Tensor,
    up: int = 1,
    down: int = 1,
    pad: tuple[int, int, int, int] = (0, 0, 0, 0),
    gain: float = 1.0,
) -> torch.Tensor:
    """Upsample (zero insertion), pad (negative = crop), FIR filter, downsample.

    x [B, C, H, W]; f [kh, kw] applied as a true convolution (flipped), scaled by `gain`;
    pad = (x0, x1, y0, y1). Output [B, C, (H*up + y0 + y1 - kh) // down + 1, ...].
    """
    b, c, h, w = x.shape
    x0, x1, y0, y1 = pad
    if up > 1:
        x = x.reshape(b, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(b, c, h * up, w * up)
    x = F.pad(x, [max(x0, 0), max(x1, 0), max(y0, 0), max(y1, 0)])
    x = x[
        :,
        :,
        max(-y0, 0) : x.shape[2] - max(-y1, 0),
        max(-x0, 0) : x.shape[3] - max(-x1, 0),
    ]
    weight = (f * gain).flip([0, 1]).to(x.dtype)
    weight = weight[None, None].repeat(c, 1, 1, 1)
    x = F.conv2d(x, weight, groups=c)
    return x[:, :, ::down, ::down]


def conv_up2d_ref(x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x upsampling 3x3 conv: transposed conv (stride 2), then blur with pads (1, 1) and gain 4.

    x [B, I, H, W], weight [O, I, 3, 3] -> [B, O, 2H, 2W] (NVlabs `conv2d_resample(up=2)`).
    """
    x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
    return upfirdn2d_ref(x, f, pad=(1, 1, 1, 1), gain=4)


def conv_down2d_ref(x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Blur (pads 2, 2) then 3x3 conv with stride 2: [B, I, H, W] -> [B, O, H/2, W/2]."""
    x = upfirdn2d_ref(x, f, pad=(2, 2, 2, 2))
    return F.conv2d(x, weight, stride=2)


def upsample2d_ref(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x FIR upsampling (pads (2, 1), gain 4): [B, C, H, W] -> [B, C, 2H, 2W]."""
    return upfirdn2d_ref(x, f, up=2, pad=(2, 1, 2, 1), gain=4)


def downsample2d_ref(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x FIR downsampling (pads (1, 1)): [B, C, H, W] -> [B, C, H/2, W/2]."""
    return upfirdn2d_ref(x, f, down=2, pad=(1, 1, 1, 1))


# ------------------------------------------------------------------------------------------------
# Fast formulations (exact up to float rounding; checked against the references in the tests).


def _full_correlation(weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """out[..., k, l] = sum_{t,s} W[k+t-(kf-1), l+s-(kf-1)] * f[t, s]: [O, I, kh+kf-1, ...].

    Written as kf*kf shifted multiply-adds: far faster on CPU than a single-channel conv over
    O*I "images", and it is differentiable in the weight.
    """
    kh, kw = weight.shape[-2:]
    kf = f.shape[0]
    w = F.pad(weight, [kf - 1] * 4)
    f = f.to(weight.dtype)
    out = None
    for t in range(kf):
        for s in range(kf):
            term = w[..., t : t + kh + kf - 1, s : s + kw + kf - 1] * f[t, s]
            out = term if out is None else out + term
    assert out is not None
    return out


def _kernel_map(transform, kernel_shape: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """The matrix M of a linear kernel transform: transform(W).flatten(2) == W.flatten(2) @ M.

    Built by applying `transform` to the basis kernels, so a transform of O*I kernels becomes one
    small GEMM instead of many tiny elementwise passes.
    """
    k = kernel_shape[0] * kernel_shape[1]
    basis = torch.eye(k, dtype=like.dtype, device=like.device).reshape(k, 1, *kernel_shape)
    return transform(basis).reshape(k, -1)


def _upsample_phases(weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    o, i = weight.shape[:2]
    g = _full_correlation(weight, (f * 4).flip([0, 1]))  # [O, I, 6, 6], includes the gain 4
    phases = [g[:, :, ry::2, rx::2].flip([2, 3]) for ry in (0, 1) for rx in (0, 1)]
    return torch.stack(phases, dim=1).reshape(o * 4, i, 3, 3)


def upsample_conv_weight(weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Polyphase kernel of `conv_up2d_ref`: [O, I, 3, 3] -> [4*O, I, 3, 3] for pixel_shuffle(2).

    The transposed conv followed by the (flipped) 4x4 FIR is one stride-2 transposed conv with a
    6x6 kernel G; output phase (ry, rx) at low-res position p only sees taps G[2d + r - 1], i.e.
    a 3x3 ordinary convolution whose kernel is G[ry::2, rx::2] reversed.
    """
    o, i, kh, kw = weight.shape
    if kh != 3 or kw != 3 or f.shape != (4, 4):
        raise ValueError("upsample_conv_weight supports 3x3 kernels and 4x4 filters")
    m = _kernel_map(lambda w: _upsample_phases(w, f.to(w.dtype)), (3, 3), weight)  # [9, 4*9]
    out = weight.reshape(o * i, 9) @ m  # [O*I, 4*9], phase-major
    return out.reshape(o, i, 4, 3, 3).transpose(1, 2).reshape(o * 4, i, 3, 3)


def conv_up2d_polyphase(x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """`conv_up2d_ref` as one 3x3 conv to 4*O channels on the low-res input, then pixel_shuffle.

    Exact, but 4x the multiply-adds of the transposed conv; measured slower than `conv_up2d` on
    CPU (docs/performance.md), kept as a tested alternative for other hardware.
    """
    return F.pixel_shuffle(F.conv2d(x, upsample_conv_weight(weight, f), padding=1), 2)


def conv_up2d(x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """2x upsampling 3x3 conv: stride-2 transposed conv, then the 4x4 blur as ONE depthwise conv
    (gain folded into the filter). The fastest exact formulation we measured on CPU."""
    x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
    return _depthwise(x, f * 4, padding=1)


def _depthwise(x: torch.Tensor, f: torch.Tensor, padding: int, stride: int = 1) -> torch.Tensor:
    """True convolution of every channel with the 2-D filter f (as upfirdn2d does)."""
    c = x.shape[1]
    weight = f.flip([0, 1]).to(x.dtype)[None, None].expand(c, 1, -1, -1)
    return F.conv2d(x, weight, stride=stride, padding=padding, groups=c)


def downsample_conv_weight(weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Kernel of `conv_down2d_ref` as one stride-2 conv: [O, I, 3, 3] -> [O, I, 6, 6].

    Blur then conv = conv with the full convolution of the weight and the filter.
    """
    o, i, kh, kw = weight.shape
    m = _kernel_map(lambda w: _full_correlation(w, f.to(w.dtype)), (kh, kw), weight)
    out = weight.reshape(o * i, kh * kw) @ m
    return out.reshape(o, i, kh + f.shape[0] - 1, kw + f.shape[1] - 1)


def conv_down2d_fused(x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """`conv_down2d_ref` as one stride-2 6x6 conv (padding 2). Exact, but 4x the multiply-adds;
    measured slower than `conv_down2d` on CPU, kept as a tested alternative."""
    return F.conv2d(x, downsample_conv_weight(weight, f), stride=2, padding=2)


def conv_down2d(x: torch.Tensor, weight: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Blur (one depthwise conv, padding 2) then stride-2 3x3 conv (fastest measured on CPU)."""
    return F.conv2d(_depthwise(x, f, padding=2), weight, stride=2)


def upsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Fast `upsample2d_ref` (the skip branch of the generator's ToRGB path): one depthwise
    stride-2 transposed conv with the filter times the gain 4 (padding 1 crops the (2, 1) pads:
    y[o] = sum_i x[i] f[o + 1 - 2i]). Two ops forward and back instead of the polyphase form's
    ~30 (four 2x2 filters and `pixel_shuffle`): 2x faster on the demo's 3-channel images."""
    c = x.shape[1]
    weight = (f * 4).to(x.dtype)[None, None].expand(c, 1, -1, -1)
    return F.conv_transpose2d(x, weight, stride=2, padding=1, groups=c)


def downsample2d(x: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Fast `downsample2d_ref`: depthwise 4x4 FIR with stride 2 (pads (1, 1))."""
    return _depthwise(x, f, padding=1, stride=2)
