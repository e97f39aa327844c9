"""The `lpips` package's LPIPS network, filled from the offline weights cache.

`lpips.LPIPS` normally downloads its torchvision backbone; here it is built with
``pnet_rand=True, pretrained=False`` (nothing fetched) and both the ImageNet backbone
(``alexnet_imagenet`` / ``vgg16_imagenet``) and the v0.1 linear layers are loaded from the cache.
The computation (z-scoring with LPIPS' shift/scale, unit-normalised features, linear layers,
spatial mean, sum over layers) is the package's own.
"""

from __future__ import annotations

import copy
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.weights import load_state_dict, verify, weights_path

BACKBONE_WEIGHTS = {"alex": "alexnet_imagenet", "vgg": "vgg16_imagenet"}
LINEAR_WEIGHTS = {"alex": "lpips_alex_v0.1", "vgg": "lpips_vgg_v0.1"}


# Built networks by kind and weight files (path, sha256); callers get copies. Building costs
# about 0.3 s (the torchvision constructor initialises a whole AlexNet/VGG at random first), and
# a benchmark builds one per method for its metrics, editability and losses.
_BUILT: dict[tuple, nn.Module] = {}


def lpips_network(net: str = "alex") -> nn.Module:
    """A frozen, eval-mode `lpips.LPIPS(net=net, version="0.1")` with offline weights.

    Call it as ``model(x, y)`` with x, y [B, 3, H, W] in [-1, 1]; returns [B, 1, 1, 1].
    Each call returns a new copy of the network built at the first call with these weights.
    """
    if net not in BACKBONE_WEIGHTS:
        raise ValueError(f"LPIPS net must be one of {sorted(BACKBONE_WEIGHTS)}, got {net!r}")
    # The files' paths and verified hashes (cached by the weights manager): another cache
    # folder or a reinstalled file builds again.
    key = (
        net,
        *((str(weights_path(n)), verify(n)) for n in (BACKBONE_WEIGHTS[net], LINEAR_WEIGHTS[net])),
    )
    if key not in _BUILT:
        _BUILT[key] = _build(net)
    return copy.deepcopy(_BUILT[key])


def _build(net: str) -> nn.Module:
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's deprecation note for pretrained=False
        model = lpips.LPIPS(net=net, version="0.1", pretrained=False, pnet_rand=True, verbose=False)
    if net == "alex":  # filled with the backbone's weights below, like the layer it replaces
        model.net.slice1[0] = FoldGradConv2d(3, 64, kernel_size=11, stride=4, padding=2)
    backbone = load_state_dict(BACKBONE_WEIGHTS[net])
    convs = {
        name.split(".")[-1]: module
        for name, module in model.net.named_modules()
        if isinstance(module, nn.Conv2d)
    }
    if len(convs) * 2 != len(backbone):
        raise RuntimeError(f"LPIPS {net}: {len(convs)} convolutions vs {len(backbone)} tensors")
    with torch.no_grad():
        for index, conv in convs.items():
            conv.weight.copy_(backbone[f"features.{index}.weight"])
            conv.bias.copy_(backbone[f"features.{index}.bias"])
        for key, value in load_state_dict(LINEAR_WEIGHTS[net]).items():
            layer = int(key[len("lin")])
            model.lins[layer].model[1].weight.copy_(value)
    model.eval()
    model.requires_grad_(False)
    return model


class _FoldInputGrad(torch.autograd.Function):
    """conv2d(x, weight, bias) with the input gradient computed as fold(weight^T @ grad)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):  # type: ignore[override]
        ctx.save_for_backward(weight)
        ctx.geometry = (tuple(x.shape[-2:]), tuple(weight.shape[-2:]), stride, padding)
        return F.conv2d(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (weight,) = ctx.saved_tensors
        size, kernel, stride, padding = ctx.geometry
        columns = torch.matmul(weight.flatten(1).t(), grad.flatten(2))  # [B, I*kh*kw, L]
        grad_x = F.fold(columns, size, kernel, padding=padding, stride=stride)
        return grad_x, None, None, None, None


class FoldGradConv2d(nn.Conv2d):
    """AlexNet's first LPIPS layer (11x11, stride 4, 3 input channels): with frozen weights the
    gradient to the image is one [I*k*k, O] x [O, L] product and a `fold`, 3.5 ms instead of
    9.4 ms for 64 images of 32 px on one core (oneDNN's backward for this shape is slow). The
    same numbers up to float rounding; a trainable layer takes the ordinary path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frozen = not self.weight.requires_grad and not (
            self.bias is not None and self.bias.requires_grad
        )
        if not frozen or not x.requires_grad or not torch.is_grad_enabled():
            return super().forward(x)
        return _FoldInputGrad.apply(x, self.weight, self.bias, self.stride, self.padding)


def lpips_features(model: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The unit-normalised features of images x [B, 3, H, W] in [-1, 1] that `model`
    (`lpips_network`) compares: one tensor per layer, computed as ``model(x, y)`` computes them."""
    import lpips

    _check_plain_v01(model)
    outs = model.net.forward(model.scaling_layer(x))
    return [lpips.normalize_tensor(outs[k]) for k in range(model.L)]


def lpips_to_features(
    model: nn.Module, features: list[torch.Tensor], y: torch.Tensor
) -> torch.Tensor:
    """``model(x, y)`` [B, 1, 1, 1] given ``features = lpips_features(model, x)``: the same
    operations in the same order, so a fixed target's features can be computed once (an
    optimisation compares many renderings with one target)."""
    import lpips

    fake = lpips_features(model, y)
    value: torch.Tensor | int = 0
    for k in range(model.L):
        diff = (features[k] - fake[k]) ** 2
        value = value + lpips.spatial_average(model.lins[k](diff), keepdim=True)
    assert isinstance(value, torch.Tensor)
    return value


def _check_plain_v01(model: nn.Module) -> None:
    """The feature helpers reproduce LPIPS v0.1 with linear layers, averaged over the image."""
    if model.version != "0.1" or not model.lpips or model.spatial:
        raise ValueError("lpips_features needs an LPIPS v0.1 network (lpips_network)")
