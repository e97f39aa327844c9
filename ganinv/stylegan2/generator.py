"""StyleGAN2 generator (config-f "skip" architecture) in pure PyTorch, with synthesis hooks.

Numerically equivalent to NVlabs stylegan2-ada-pytorch `Generator` run in fp32 (``force_fp32``;
``conv_clamp`` supported) and to rosinality's `Generator`; module names follow NVlabs
(``synthesis.b16.conv1``), so `LayerInfo.name` is e.g. ``b16.conv1``. Style mixing of two W+
codes: `mix_styles`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator, LayerInfo, NoiseMode, SynthesisHooks
from ganinv.core.registry import GENERATORS
from ganinv.core.weight_offsets import hooks_with_active_offsets
from ganinv.stylegan2 import ops
from ganinv.stylegan2.layers import MappingNetwork, SynthesisLayer, ToRGBLayer


def channel_table(
    resolution: int,
    channels: dict[int, int] | None,
    channel_base: int,
    channel_max: int,
    lowest: int = 4,
) -> dict[int, int]:
    """Channels per resolution lowest..resolution: the given table, else min(base // res, max)."""
    if resolution < 4 or resolution & (resolution - 1):
        raise GanInvError(f"resolution must be a power of two >= 4, got {resolution}")
    resolutions = [2**i for i in range(int(math.log2(lowest)), int(math.log2(resolution)) + 1)]
    if channels is None:
        return {r: min(channel_base // r, channel_max) for r in resolutions}
    table = {int(r): int(c) for r, c in channels.items()}
    missing = [r for r in resolutions if r not in table]
    if missing:
        raise GanInvError(
            f"channel table {table} lacks resolutions {missing}; give a count for each of "
            f"{resolutions}"
        )
    return {r: table[r] for r in resolutions}


def mix_styles(ws1: torch.Tensor, ws2: torch.Tensor, inject_index: int) -> torch.Tensor:
    """Style mixing: codes [0, inject_index) from ws1, the rest from ws2 (both [B, num_ws, w_dim]).

    Equal to rosinality's two-latent forward with ``inject_index`` and to NVlabs' style mixing.
    """
    if ws1.shape != ws2.shape:
        raise GanInvError(f"style mixing needs equal shapes, got {ws1.shape} and {ws2.shape}")
    return torch.cat([ws1[:, :inject_index], ws2[:, inject_index:]], dim=1)


class SynthesisBlock(nn.Module):
    """One resolution: const (4x4 only) or conv0 (upsampling), conv1, torgb."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        w_dim: int,
        resolution: int,
        img_channels: int,
        conv_clamp: float | None,
    ) -> None:
        super().__init__()
        self.resolution = resolution
        if resolution == 4:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))
        else:
            self.conv0 = SynthesisLayer(
                in_channels,
                out_channels,
                w_dim=w_dim,
                resolution=resolution,
                up=True,
                conv_clamp=conv_clamp,
            )
        self.conv1 = SynthesisLayer(
            out_channels, out_channels, w_dim=w_dim, resolution=resolution, conv_clamp=conv_clamp
        )
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim=w_dim, conv_clamp=conv_clamp)
        if resolution > 4:
            self.register_buffer("resample_filter", ops.setup_filter(), persistent=False)


def _tuned_weight(
    layer: nn.Module, info: LayerInfo, hooks: SynthesisHooks | None
) -> torch.Tensor | None:
    """The layer's weight plus the hooks' offset, computed once per synthesis: [O, I, k, k] for
    an offset of the whole batch ([1, ...]), [B, O, I, k, k] for per-image offsets; None when
    there is no offset (the layer uses its own weight, the plain path)."""
    offset = hooks.weight_offset(info) if hooks is not None else None
    if offset is None:
        return None
    weight = layer.weight + offset
    return weight[0] if weight.shape[0] == 1 else weight


@GENERATORS.register("stylegan2")
class StyleGAN2Generator(Generator):
    """StyleGAN2 generator: z [B, z_dim] -> images [B, img_channels, R, R] in about [-1, 1].

    Works on any device; every op is plain PyTorch (double backward included).
    """

    # On CPU the synthesis maps are channels-last: oneDNN's convolutions then read and write
    # them without reordering, and every op keeps the layout (10-15 % of a forward + backward
    # of the demo generator; docs/performance.md). The image returned is in the standard layout.
    # GPUs keep the standard layout (not measured there).
    cpu_memory_format: torch.memory_format = torch.channels_last

    def __init__(
        self,
        *,
        z_dim: int = 512,  # Input latent (Z) dimensionality.
        w_dim: int = 512,  # Intermediate latent (W) dimensionality.
        resolution: int = 1024,  # Output resolution, a power of two >= 4.
        channels: dict[int, int] | None = None,  # Channels per resolution; overrides base/max.
        channel_base: int = 32768,  # Channels at resolution r: min(channel_base // r, ...
        channel_max: int = 512,  # ... channel_max).
        mapping_layers: int = 8,  # Fully connected layers of the mapping network.
        mapping_lr_mul: float = 0.01,  # Learning-rate multiplier of the mapping network.
        img_channels: int = 3,  # Image channels (3 = RGB).
        conv_clamp: float | None = None,  # Clamp activations to +-conv_clamp (NVlabs); None = off.
    ) -> None:
        super().__init__()
        table = channel_table(resolution, channels, channel_base, channel_max)
        self.z_dim = z_dim
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.channels = table
        self.num_ws = 2 * int(math.log2(resolution)) - 2
        self.config: dict[str, Any] = {
            "z_dim": z_dim,
            "w_dim": w_dim,
            "resolution": resolution,
            "channels": dict(table),
            "channel_base": channel_base,
            "channel_max": channel_max,
            "mapping_layers": mapping_layers,
            "mapping_lr_mul": mapping_lr_mul,
            "img_channels": img_channels,
            "conv_clamp": conv_clamp,
        }
        self.mapping_network = MappingNetwork(
            z_dim=z_dim, w_dim=w_dim, num_layers=mapping_layers, lr_mul=mapping_lr_mul
        )
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.synthesis = nn.ModuleDict()
        for res in table:
            self.synthesis[f"b{res}"] = SynthesisBlock(
                table.get(res // 2, 0),
                table[res],
                w_dim=w_dim,
                resolution=res,
                img_channels=img_channels,
                conv_clamp=conv_clamp,
            )
        self.layers = self._describe_layers()

    def _describe_layers(self) -> list[LayerInfo]:
        infos: list[LayerInfo] = []

        def add(name: str, res: int, cin: int, cout: int, kind: str, w_index: int) -> None:
            infos.append(LayerInfo(len(infos), name, res, cin, cout, kind, w_index))  # type: ignore[arg-type]

        c4 = self.channels[4]
        add("b4.const", 4, c4, c4, "const", -1)
        add("b4.conv1", 4, c4, c4, "conv", 0)
        add("b4.torgb", 4, c4, self.img_channels, "torgb", 1)
        for level, res in enumerate(list(self.channels)[1:], start=1):
            cin, cout = self.channels[res // 2], self.channels[res]
            add(f"b{res}.conv0", res, cin, cout, "conv_up", 2 * level - 1)
            add(f"b{res}.conv1", res, cout, cout, "conv", 2 * level)
            add(f"b{res}.torgb", res, cout, self.img_channels, "torgb", 2 * level + 1)
        return infos

    # -- Generator API ----------------------------------------------------------------------------
    def mapping_w(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, z_dim] -> w [B, w_dim] (one code, before broadcasting and truncation)."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise GanInvError(f"z must be [B, {self.z_dim}], got {list(z.shape)}")
        return self.mapping_network(z)

    def mapping(  # type: ignore[override]
        self,
        z: torch.Tensor,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> torch.Tensor:
        """z [B, z_dim] -> ws [B, num_ws, w_dim].

        Truncation: ``w_avg + psi * (w - w_avg)`` on the first `truncation_cutoff` codes (all when
        None), i.e. NVlabs' semantics; cutoff None equals rosinality's truncation of all layers.
        """
        w = self.mapping_w(z)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
            head = self.w_avg.lerp(ws[:, :cutoff], truncation_psi)
            ws = torch.cat([head, ws[:, cutoff:]], dim=1)
        return ws

    def noise_buffers(self) -> list[torch.Tensor]:
        """The constant noise buffers [R, R] of every noisy layer, in layer order (used in forward
        for noise_mode 'const'; a projector may set requires_grad on them and optimise them)."""
        out = []
        for info in self.layers:
            if info.kind in ("conv", "conv_up"):
                out.append(self._module_of(info).noise_const)
        return out

    def weight_parameters(self) -> dict[str, nn.Parameter]:
        """Layer name -> weight of every modulated conv and toRGB layer (what a code's weight
        offsets add to): [O, I, 3, 3] for convs, [img_channels, I, 1, 1] for toRGB."""
        return {
            info.name: self._module_of(info).weight
            for info in self.layers
            if info.kind in ("conv", "conv_up", "torgb")
        }

    def _module_of(self, info: LayerInfo) -> nn.Module:
        block, part = info.name.split(".")
        return getattr(self.synthesis[block], part)

    def synthesize(
        self,
        ws: torch.Tensor,
        hooks: SynthesisHooks | None = None,
        noise_mode: NoiseMode = "const",
    ) -> torch.Tensor:
        """ws [B, num_ws, w_dim] -> images [B, img_channels, R, R].

        hooks: see `SynthesisHooks` (None = plain path). noise_mode: 'const' (stored buffers),
        'random' (fresh N(0, 1) noise) or 'none'.
        """
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise GanInvError(f"ws must be [B, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        if noise_mode not in ("const", "random", "none"):
            raise GanInvError(f"noise_mode must be 'const', 'random' or 'none', got {noise_mode!r}")
        hooks = hooks_with_active_offsets(hooks)  # a code's weight offsets, when rendering one
        layers = iter(self.layers)
        x = img = None
        for block in self.synthesis.values():
            if block.resolution == 4:
                info = next(layers)
                x = block.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
                if hooks is not None:
                    x = hooks.feature(info, hooks.const_input(x))
                if x.device.type == "cpu":
                    x = x.contiguous(memory_format=self.cpu_memory_format)
            else:
                x = self._run_conv(block.conv0, next(layers), x, ws, hooks, noise_mode)
            x = self._run_conv(block.conv1, next(layers), x, ws, hooks, noise_mode)
            info = next(layers)
            y = block.torgb(x, ws[:, info.w_index], _tuned_weight(block.torgb, info, hooks))
            img = y if img is None else ops.upsample2d(img, block.resample_filter) + y
            if hooks is not None:
                img = hooks.feature(info, img)
        assert img is not None
        return img.contiguous()

    @staticmethod
    def _run_conv(
        layer: SynthesisLayer,
        info: LayerInfo,
        x: torch.Tensor,
        ws: torch.Tensor,
        hooks: SynthesisHooks | None,
        noise_mode: str,
    ) -> torch.Tensor:
        weight = _tuned_weight(layer, info, hooks)
        x, dcoefs = layer.modulate(x, ws[:, info.w_index], weight)
        border = None
        if hooks is not None and info.kind == "conv":
            border = hooks.padding(info, x)
        x = layer.finish(layer.convolve(x, border, weight), dcoefs, noise_mode)
        if hooks is not None:
            x = hooks.feature(info, x)
        return x

    def forward(
        self,
        z: torch.Tensor,
        truncation_psi: float = 1.0,
        noise_mode: NoiseMode = "const",
    ) -> torch.Tensor:
        """z [B, z_dim] -> images; truncation of all codes around `w_avg`."""
        return self.synthesize(self.mapping(z, truncation_psi), noise_mode=noise_mode)
