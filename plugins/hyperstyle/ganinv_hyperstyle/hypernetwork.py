"""HyperStyle's hypernetwork H: (image, current reconstruction) -> an offset per tuned layer.

Released ``models/hypernetworks/hypernetwork.py`` (``SharedWeightsHyperNetResNet``): the ResNet-34
backbone on the 6-channel input, then per tuned layer either its own `RefinementBlock` or a
`SharedRefinementBlock` feeding the one `SharedHypernet`.

Which layers (generator layer names, e.g. ``b8.conv1``):
- tuned: by default every modulated 3 x 3 conv (``conv`` and ``conv_up``), never a ToRGB: the
  released default ``layers_to_tune = 0,2,3,5,6,8,9,11,12,14,15,17,18,20,21,23,24`` (the 17
  non-ToRGB convs of the 1024 px generator);
- shared: by default the tuned layers at 64 px or less whose input and output widths both equal
  the widest tuned layer's, which at 1024 px is exactly the released ``shared_layers = [0, 2, 3,
  5, 6, 8, 9, 11, 12]`` (the 512 -> 512 convs at 4 to 64 px). Shared layers must share a shape.
"""

from __future__ import annotations

import torch
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator, LayerInfo
from ganinv_hyperstyle.backbone import HyperBackbone
from ganinv_hyperstyle.refinement import RefinementBlock, SharedHypernet, SharedRefinementBlock

TUNABLE_KINDS = ("conv", "conv_up")
SHARED_MAX_RESOLUTION = 64


def tuned_layers(generator: Generator, names: list[str] | None) -> list[LayerInfo]:
    """The layers to tune, in synthesis order (every modulated 3 x 3 conv when `names` is None)."""
    convs = [info for info in generator.layers if info.kind in TUNABLE_KINDS]
    if names is None:
        return convs
    by_name = {info.name: info for info in convs}
    unknown = [n for n in names if n not in by_name]
    if unknown or not names or len(set(names)) != len(names):
        what = f"unknown {unknown}" if unknown else "empty or repeated names"
        raise GanInvError(
            f"encoder 'hyperstyle': layers_to_tune has {what}; choose distinct names among the "
            f"generator's modulated convs {list(by_name)}"
        )
    return [info for info in convs if info.name in set(names)]


def shared_layers(tuned: list[LayerInfo], names: list[str] | None) -> list[str]:
    """The tuned layers whose offsets come from the shared hypernetwork."""
    if names is None:
        widest = max(max(i.in_channels, i.out_channels) for i in tuned)
        return [
            i.name
            for i in tuned
            if i.resolution <= SHARED_MAX_RESOLUTION and i.in_channels == i.out_channels == widest
        ]
    tuned_names = [i.name for i in tuned]
    unknown = [n for n in names if n not in tuned_names]
    if unknown:
        raise GanInvError(
            f"encoder 'hyperstyle': shared_layers {unknown} are not among the tuned layers "
            f"{tuned_names}; share only tuned layers"
        )
    shapes = {(i.in_channels, i.out_channels) for i in tuned if i.name in set(names)}
    if len(shapes) > 1 or any(a != b for a, b in shapes):
        raise GanInvError(
            "encoder 'hyperstyle': shared_layers must all map C channels to C (one shared "
            f"hypernetwork); their (in, out) widths are {sorted(shapes)}"
        )
    return [n for n in tuned_names if n in set(names)]


def module_key(layer_name: str) -> str:
    """A layer name as a submodule name (no dots)."""
    return layer_name.replace(".", "_")


class HyperNetwork(nn.Module):
    """[B, 6, R, R] (image, reconstruction) -> {layer name: offset [B, C_out, C_in, 3, 3]}.

    backbone: a `HyperBackbone`; spatial: its feature size for R px inputs.
    inner_channels, head_channels: widths of the individual refinement blocks (256, 512).
    shared_inner_channels: width of the shared blocks' heads (128); shared_code_dim: the size of
    the code they give the shared hypernetwork (default: the shared layers' width, 512 at paper
    scale, as released).
    """

    def __init__(
        self,
        backbone: HyperBackbone,
        spatial: int,
        tuned: list[LayerInfo],
        shared: list[str],
        inner_channels: int = 256,
        head_channels: int = 512,
        shared_inner_channels: int = 128,
        shared_code_dim: int | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.layer_names = [info.name for info in tuned]
        self.shared = list(shared)
        self.shared_hypernet: SharedHypernet | None = None
        code_dim = shared_code_dim
        if shared:
            width = next(i.in_channels for i in tuned if i.name == shared[0])
            code_dim = code_dim or width
            self.shared_hypernet = SharedHypernet(code_dim, width)
        self.blocks = nn.ModuleDict()
        for info in tuned:
            if info.name in self.shared:
                block: nn.Module = SharedRefinementBlock(
                    backbone.out_channels, spatial, shared_inner_channels, code_dim or 1
                )
            else:
                block = RefinementBlock(
                    info.in_channels,
                    info.out_channels,
                    backbone.out_channels,
                    spatial,
                    inner_channels,
                    head_channels,
                )
            self.blocks[module_key(info.name)] = block

    def zero_init_(self) -> None:
        """Predict no offset until trained (each path's last stage starts at zero)."""
        if self.shared_hypernet is not None:
            self.shared_hypernet.zero_init_()
        for name in self.layer_names:
            if name not in self.shared:
                self.blocks[module_key(name)].zero_init_()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.backbone(x)
        out = {}
        for name in self.layer_names:
            block = self.blocks[module_key(name)]
            if name in self.shared:
                assert self.shared_hypernet is not None
                out[name] = block(features, self.shared_hypernet)
            else:
                out[name] = block(features)
        return out
