"""Frozen pretrained feature extractors for the latent-map encoder, in their own registry.

`FEATURE_EXTRACTORS` is a `ganinv.core.registry.Registry` of kind ``feature_extractors``: the
built-ins below register by decorator; another distribution adds one (e.g. a CLIP image tower
reading its weights from a path) through the entry-point group ``ganinv.feature_extractors``.

An extractor is an `nn.Module` with ``out_channels`` whose forward maps images [B, 3, H, W] in
[-1, 1] to features [B, out_channels, h, w]. Built-ins (torchvision layouts, ImageNet weights
from the offline cache, or any file with the same keys given as `weights`):

- ``vgg16``: VGG16 convolutions up to the ReLU after `layer` (conv1_2 ... conv5_3);
- ``alexnet``: AlexNet convolutions up to the ReLU after `layer` (conv1 ... conv5).

Inputs are resized (bilinear, antialiased) to `resize_to` and normalised with the ImageNet
mean / std, the backbones' own preprocessing. `resize_to` is at most `MAX_RESIZE_TO`: it sets
the memory every image costs, and may come from an exported encoder's header.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.checkpoints.safe_load import check_state, torch_load
from ganinv.core.errors import GanInvError
from ganinv.core.registry import Registry
from ganinv.core.safetensors_io import read_tensors

FEATURE_EXTRACTORS = Registry("feature_extractors")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Index of the ReLU after each named convolution in torchvision's `features`.
VGG16_LAYERS = {
    "conv1_2": 3,
    "conv2_2": 8,
    "conv3_3": 15,
    "conv4_3": 22,
    "conv5_3": 29,
}
VGG16_CHANNELS = {"conv1_2": 64, "conv2_2": 128, "conv3_3": 256, "conv4_3": 512, "conv5_3": 512}
ALEXNET_LAYERS = {"conv1": 1, "conv2": 4, "conv3": 7, "conv4": 9, "conv5": 11}
ALEXNET_CHANNELS = {"conv1": 64, "conv2": 192, "conv3": 384, "conv4": 256, "conv5": 256}
# The largest side images are resized to. The backbones were trained at 224 px; at 512, VGG16's
# first block already holds 2 x 64 x 512^2 floats (134 MB) per image.
MAX_RESIZE_TO = 512


def check_resize_to(value: object) -> None:
    """`resize_to` must be None (keep the input size) or an integer in [1, MAX_RESIZE_TO]."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RESIZE_TO:
        raise GanInvError(
            f"feature extractor resize_to must be null or an integer in [1, {MAX_RESIZE_TO}], "
            f"got {value!r}"
        )


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file or a weights-only PyTorch file (no code runs on load)."""
    file = Path(path)
    if not file.exists():
        raise GanInvError(f"feature extractor weights {path!r} do not exist")
    what = f"feature extractor weights {path!r}"
    # Regular files only, sizes checked before anything is allocated, one-line errors.
    if file.suffix == ".safetensors":
        return check_state(read_tensors(file, "feature extractor weights"), what)
    state = torch_load(file, what, kind="a state dict saved with torch.save")
    return check_state(state, what)


def _layer_index(key: str) -> int:
    head = key.split(".")[0]
    return int(head) if head.isascii() and head.isdecimal() else -1


class TorchvisionFeatures(nn.Module):
    """Frozen torchvision-layout ``features`` (truncated); see the module docstring."""

    def __init__(
        self,
        features: nn.Sequential,
        out_channels: int,
        state: dict[str, torch.Tensor],
        what: str,
        resize_to: int | None,
    ) -> None:
        from ganinv.nets.state_dict import load_strict

        super().__init__()
        self.features = features
        self.out_channels = out_channels
        self.resize_to = resize_to
        keep = len(features)
        own = {k.removeprefix("features."): v for k, v in state.items()}
        # Keys that are not "<index>.<name>" stay, so `load_strict` reports them as unexpected.
        own = {k: v for k, v in own.items() if _layer_index(k) < keep}
        load_strict(self.features, own, what)
        mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
        # ((x + 1) / 2 - mean) / std = x * (0.5 / std) - (mean - 0.5) / std
        self.register_buffer("scale", (0.5 / std).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("shift", ((mean - 0.5) / std).view(1, 3, 1, 1), persistent=False)
        self.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> TorchvisionFeatures:
        return super().train(False)  # frozen: always in eval mode

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images
        size = self.resize_to
        if size is not None and tuple(x.shape[-2:]) != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
        return self.features(x * self.scale - self.shift)


def _weights(default_name: str, weights: str | None) -> dict[str, torch.Tensor]:
    if weights is not None:
        return read_state_dict(weights)
    from ganinv.weights import load_state_dict

    return load_state_dict(default_name)


def _pick(layer: str, table: dict[str, int], net: str) -> int:
    if layer not in table:
        raise GanInvError(f"{net} has no layer {layer!r}; choose one of {list(table)}")
    return table[layer]


@FEATURE_EXTRACTORS.register("vgg16")
def vgg16_features(
    layer: str = "conv5_3", resize_to: int | None = 224, weights: str | None = None
) -> TorchvisionFeatures:
    """ImageNet VGG16 (cache entry ``vgg16_imagenet``, or `weights`) up to `layer`."""
    import torchvision

    check_resize_to(resize_to)

    index = _pick(layer, VGG16_LAYERS, "vgg16")
    features = torchvision.models.vgg16(weights=None).features[: index + 1]
    state = _weights("vgg16_imagenet", weights)
    return TorchvisionFeatures(features, VGG16_CHANNELS[layer], state, "VGG16", resize_to)


@FEATURE_EXTRACTORS.register("alexnet")
def alexnet_features(
    layer: str = "conv5", resize_to: int | None = 224, weights: str | None = None
) -> TorchvisionFeatures:
    """ImageNet AlexNet (cache entry ``alexnet_imagenet``, or `weights`) up to `layer`."""
    import torchvision

    check_resize_to(resize_to)

    index = _pick(layer, ALEXNET_LAYERS, "alexnet")
    features = torchvision.models.alexnet(weights=None).features[: index + 1]
    state = _weights("alexnet_imagenet", weights)
    return TorchvisionFeatures(features, ALEXNET_CHANNELS[layer], state, "AlexNet", resize_to)
