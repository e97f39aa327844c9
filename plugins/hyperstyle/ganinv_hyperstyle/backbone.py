"""HyperStyle's hypernetwork backbone: a ResNet-34 on 6 channels (image and reconstruction).

Released ``models/hypernetworks/hypernetwork.py``: torchvision's ResNet-34 (ImageNet weights),
its first convolution replaced by a 6-channel 7x7 stride-2 one (the RGB filter copied into the
first three channels, the other three drawn N(0, 1)), then BatchNorm, PReLU(64), no max-pool,
and layer1 to layer4: 16 x 16 x 512 for a 256 px input.

Module names follow torchvision's (``conv1``, ``bn1``, ``layer1.0.conv1``, ...) so that its
ResNet-34 state dict loads as it is (`load_torchvision_resnet`). `blocks`, `widths` and
`stem_stride` shrink the network for small generators (the demo's 32 px images).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ganinv.checkpoints.safe_load import torch_load
from ganinv.core.errors import GanInvError

RESNET34_BLOCKS = (3, 4, 6, 3)
RESNET34_WIDTHS = (64, 128, 256, 512)


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block: two 3x3 convs with BatchNorm, identity or 1x1 shortcut."""

    def __init__(self, in_c: int, out_c: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_c, out_c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_c)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_c != out_c:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_c, out_c, 1, stride, bias=False), nn.BatchNorm2d(out_c)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class HyperBackbone(nn.Module):
    """[B, 6, R, R] -> features [B, widths[-1], R / (stem_stride * 8), same].

    blocks, widths: basic blocks and channels of layer1..layer4 (ResNet-34: 3, 4, 6, 3 and
    64, 128, 256, 512). stem_stride: stride of the first 7x7 conv (2 as released).
    """

    def __init__(
        self,
        blocks: tuple[int, ...] = RESNET34_BLOCKS,
        widths: tuple[int, ...] = RESNET34_WIDTHS,
        stem_stride: int = 2,
        in_channels: int = 6,
    ) -> None:
        super().__init__()
        if len(blocks) != 4 or len(widths) != 4 or min(blocks) < 1 or min(widths) < 1:
            raise GanInvError(
                f"hypernetwork backbone: blocks and widths need 4 positive entries each (layer1 "
                f"to layer4), got blocks={list(blocks)}, widths={list(widths)}"
            )
        if stem_stride not in (1, 2):
            raise GanInvError(
                f"hypernetwork backbone: stem_stride must be 1 or 2, got {stem_stride}"
            )
        self.stem_stride = stem_stride
        self.out_channels = widths[-1]
        self.conv1 = nn.Conv2d(in_channels, widths[0], 7, stem_stride, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.PReLU(widths[0])
        in_c = widths[0]
        for index, (count, width) in enumerate(zip(blocks, widths, strict=True), start=1):
            stride = 1 if index == 1 else 2
            layer = [BasicBlock(in_c, width, stride)]
            layer += [BasicBlock(width, width, 1) for _ in range(count - 1)]
            self.add_module(f"layer{index}", nn.Sequential(*layer))
            in_c = width

    def reduction(self) -> int:
        """Input size / feature size."""
        return self.stem_stride * 8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        for index in range(1, 5):
            x = getattr(self, f"layer{index}")(x)
        return x


def load_torchvision_resnet(backbone: HyperBackbone, source: str) -> None:
    """Fill `backbone` from a torchvision ResNet state dict (``resnet34-b627a593.pth``) as
    HyperStyle starts: every layer copied, the 6-channel conv1 taking the RGB filter in its first
    three input channels and N(0, 1) in the others; ``fc.*`` is ignored. The backbone must have
    that network's shape (ResNet-34 blocks and widths for the public file)."""
    path = Path(source).expanduser()
    if not path.is_file():
        raise GanInvError(
            f"backbone_weights: no such file {source!r}; give torchvision's ResNet-34 ImageNet "
            "state dict (resnet34-b627a593.pth) or null"
        )
    what = f"backbone_weights {os.fspath(path)!r}"
    state = torch_load(path, what, kind="a plain PyTorch state dict")
    if not isinstance(state, dict):
        raise GanInvError(f"{what} holds a {type(state).__name__}, not a state dict")
    own = backbone.state_dict()
    wanted = {k for k in own if k != "conv1.weight" and not k.startswith("relu.")}
    missing = sorted(wanted - set(state))
    if missing:
        raise GanInvError(
            f"{what} lacks {len(missing)} tensors of the backbone (first: {missing[0]!r}); it "
            "must be a torchvision ResNet state dict with the backbone's blocks and widths"
        )
    for key in sorted(wanted | {"conv1.weight"}):
        value = state.get(key)
        expected = own[key].shape
        if key == "conv1.weight":
            expected = torch.Size([expected[0], 3, *expected[2:]])
        if not isinstance(value, torch.Tensor) or value.shape != expected:
            shape = list(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise GanInvError(f"{what}: {key!r} is {shape}, the backbone needs {list(expected)}")
    with torch.no_grad():
        for key in wanted:
            own[key].copy_(state[key])
        conv1 = own["conv1.weight"]
        conv1[:, :3].copy_(state["conv1.weight"])
        conv1[:, 3:].normal_(0.0, 1.0)
