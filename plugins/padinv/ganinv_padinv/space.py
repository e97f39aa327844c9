"""PadInv's padding space (Bai et al., ECCV 2022): W+ plus instance-specific padding.

A code holds
- ``wplus``  [B, num_ws, w_dim]: one style code per layer, as in W+;
- ``const``  [B, C_4, 4, 4]: replaces the generator's learned constant input;
- ``pad{R}`` [B, C_in, R + 2, R + 2] for each padded resolution R: the border of the non-upsampling
  3x3 conv at R. Only the outer one-pixel ring is used; it is placed around the style-modulated
  input and is not itself modulated (see `SynthesisHooks.padding`).

With ``pad_layers = n`` the padded convs are those at 4, 8, ..., 2^(n+1) px (n = 4: 4, 8, 16, 32 px,
the released configuration). A zero border with the learned constant renders exactly what W+
renders, so the space strictly extends W+.
"""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator, LayerInfo, SynthesisHooks
from ganinv.core.space import Code, InversionSpace

MAX_PAD_LAYERS = 5


def padded_resolutions(generator: Generator, pad_layers: int) -> list[int]:
    """Resolutions whose non-upsampling conv takes a padding map."""
    if not 1 <= pad_layers <= MAX_PAD_LAYERS:
        raise GanInvError(f"pad_layers must be between 1 and {MAX_PAD_LAYERS}, got {pad_layers}")
    resolutions = [4 * 2**i for i in range(pad_layers)]
    if resolutions[-1] > generator.resolution:
        raise GanInvError(
            f"pad_layers={pad_layers} pads up to {resolutions[-1]} px but the generator is only "
            f"{generator.resolution} px; use pad_layers <= "
            f"{int(torch.log2(torch.tensor(generator.resolution))) - 1}"
        )
    return resolutions


def padded_layers(generator: Generator, pad_layers: int) -> dict[int, LayerInfo]:
    """Resolution -> the non-upsampling 3x3 conv layer padded at that resolution."""
    wanted = set(padded_resolutions(generator, pad_layers))
    layers = {info.resolution: info for info in generator.layers if info.kind == "conv"}
    return {res: layers[res] for res in sorted(wanted)}


class PaddingHooks(SynthesisHooks):
    """Feeds one padding-space code to the generator."""

    def __init__(self, const: torch.Tensor, pads: dict[str, torch.Tensor]) -> None:
        self.const = const
        self.pads = pads  # layer name -> [B, C_in, R + 2, R + 2]

    def const_input(self, const: torch.Tensor) -> torch.Tensor:
        return self.const

    def padding(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor | None:
        return self.pads.get(layer.name)


class _CaptureConst(SynthesisHooks):
    def const_input(self, const: torch.Tensor) -> torch.Tensor:
        self.const = const
        return const


class PaddingSpace(InversionSpace):
    """W+ plus padding maps (registered as space ``padinv``)."""

    name = "padinv"

    def __init__(self, generator: Generator, pad_layers: int = 4) -> None:
        super().__init__(generator)
        self.pad_layers = pad_layers
        self.layers = padded_layers(generator, pad_layers)
        self._learned_const: torch.Tensor | None = None

    @property
    def map_size(self) -> int:
        """Side of the single map the encoder predicts: the largest crop, 2^(n+1) + 2."""
        return max(self.layers) + 2

    def pad_key(self, resolution: int) -> str:
        return f"pad{resolution}"

    def padding_keys(self) -> list[str]:
        return ["const"] + [self.pad_key(r) for r in self.layers]

    def learned_const(self) -> torch.Tensor:
        """The generator's own constant input [1, C, 4, 4] (read once through the hook)."""
        if self._learned_const is None:
            hooks = _CaptureConst()
            g = self.generator
            with torch.no_grad():
                g.synthesize(g.w_avg.expand(1, g.num_ws, g.w_dim), hooks=hooks)
            self._learned_const = hooks.const[:1].detach().clone()
        return self._learned_const

    def init_code(self, batch_size: int) -> Code:
        g = self.generator
        device = g.w_avg.device
        tensors = {
            "wplus": g.w_avg.detach().expand(batch_size, g.num_ws, g.w_dim).clone(),
            "const": self.learned_const().to(device).expand(batch_size, -1, -1, -1).clone(),
        }
        for res, info in self.layers.items():
            shape = (batch_size, info.in_channels, res + 2, res + 2)
            tensors[self.pad_key(res)] = torch.zeros(shape, device=device)
        return Code(self.name, tensors, {"pad_layers": self.pad_layers})

    def from_maps(
        self, wplus: torch.Tensor, const_map: torch.Tensor, layer_maps: list[torch.Tensor]
    ) -> Code:
        """A code from full-size maps (e.g. an encoder's [B, C, S, S] outputs): each is centre-
        cropped to the size its layer uses (4 for the constant, R + 2 for the padded convs)."""
        if len(layer_maps) != len(self.layers):
            raise GanInvError(
                f"{len(layer_maps)} padding maps given for {len(self.layers)} padded layers"
            )
        tensors = {"wplus": wplus, "const": centre_crop(const_map, 4)}
        for (res, _), m in zip(self.layers.items(), layer_maps):
            tensors[self.pad_key(res)] = centre_crop(m, res + 2)
        return Code(self.name, tensors, {"pad_layers": self.pad_layers})

    def hooks(self, code: Code) -> PaddingHooks:
        pads = {info.name: code[self.pad_key(res)] for res, info in self.layers.items()}
        return PaddingHooks(code["const"], pads)

    def render(self, code: Code, noise_mode: str = "const") -> torch.Tensor:
        self.check(code)
        return self.generator.synthesize(
            code["wplus"], hooks=self.hooks(code), noise_mode=noise_mode
        )

    def to_wplus(self, code: Code) -> torch.Tensor:
        return code["wplus"]

    # -- editing --------------------------------------------------------------------------------
    def apply_direction(self, code: Code, direction: torch.Tensor, strength: float) -> Code:
        """Directions act on W+; the padding (spatial structure) is kept."""
        self.check(code)
        out = code.clone()
        out.tensors["wplus"] = code["wplus"] + strength * direction.to(code["wplus"])
        return out

    def blend(self, structure: Code, appearance: Code) -> Code:
        """Padding (contour, spatial structure) from `structure`; W+ (appearance) from the other."""
        self.check(structure)
        self.check(appearance)
        out = structure.clone()
        out.tensors["wplus"] = appearance["wplus"].detach().clone()
        return out

    def add(
        self, code: Code, delta: Code, alpha: float = 1.0, parts: list[str] | None = None
    ) -> Code:
        """``code + alpha * delta``; `parts` may name ``wplus``, ``padding`` (all maps) or keys."""
        if parts is not None:
            expanded: list[str] = []
            for part in parts:
                expanded += self.padding_keys() if part == "padding" else [part]
            parts = expanded
        return super().add(code, delta, alpha, parts)


def centre_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """Centre crop [..., H, W] to [..., size, size] (the official `_center_crop`)."""
    h, w = x.shape[-2:]
    if h < size or w < size:
        raise GanInvError(f"a {h}x{w} padding map cannot be cropped to {size}x{size}")
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top : top + size, left : left + size]
