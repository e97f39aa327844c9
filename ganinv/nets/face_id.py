"""Face identity embeddings from local weight files: ArcFace IR-SE-50 and FaceNet.

ArcFace follows the pSp / PadInv ID loss exactly: resize to 256 if needed, crop
``[35:223, 32:220]`` (the face region of an FFHQ-aligned 256 image), adaptive average pool to
112, IR-SE-50, L2-normalise. FaceNet (facenet-pytorch InceptionResnetV1, VGGFace2) takes the whole
image resized to 160 with its own standardisation ``(x_255 - 127.5) / 128``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganinv.core.errors import GanInvError
from ganinv.nets.ir_se import IRSEBackbone
from ganinv.nets.state_dict import load_strict

ARCFACE_CROP = (slice(35, 223), slice(32, 220))  # rows, columns at 256 px (pSp `extract_feats`)
ARCFACE_SIZE = 112
FACENET_SIZE = 160
RESIZE_MODES = ("bilinear", "area")


def _resize(x: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    if mode == "area":  # pSp's AdaptiveAvgPool2d((256, 256)) on generator outputs
        return F.adaptive_avg_pool2d(x, (size, size))
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


class ArcFaceIdentity(nn.Module):
    """[B, 3, H, W] in [-1, 1] (FFHQ-aligned faces) -> unit embeddings [B, 512].

    `resize`: how a non-256 input reaches 256 ("bilinear" as PadInv, "area" as pSp's pooling).
    """

    def __init__(self, resize: str = "bilinear") -> None:
        super().__init__()
        if resize not in RESIZE_MODES:
            raise GanInvError(f"ArcFace resize must be one of {RESIZE_MODES}, got {resize!r}")
        self.resize = resize
        self.net = IRSEBackbone(num_layers=50, mode="ir_se", drop_ratio=0.6)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _resize(images, 256, self.resize)
        x = x[:, :, ARCFACE_CROP[0], ARCFACE_CROP[1]]
        x = F.adaptive_avg_pool2d(x, (ARCFACE_SIZE, ARCFACE_SIZE))
        return self.net(x)


def _facenet_module() -> nn.Module:
    try:
        from facenet_pytorch.models.inception_resnet_v1 import InceptionResnetV1
    except ImportError as exc:
        raise GanInvError(
            "the FaceNet ID network needs the facenet-pytorch package for its architecture: run "
            "`pip install --no-deps facenet-pytorch` (--no-deps: it pins an old torch)"
        ) from exc
    return InceptionResnetV1(pretrained=None, classify=False)  # pretrained=None: no download


def _facenet_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # The released file includes the VGGFace2 classifier (`logits.*`), unused for embeddings.
    return {k: v for k, v in state.items() if not k.startswith("logits.")}


class FaceNetIdentity(nn.Module):
    """[B, 3, H, W] in [-1, 1] -> unit embeddings [B, 512] (InceptionResnetV1, VGGFace2)."""

    def __init__(self, resize: str = "bilinear") -> None:
        super().__init__()
        if resize not in RESIZE_MODES:
            raise GanInvError(f"FaceNet resize must be one of {RESIZE_MODES}, got {resize!r}")
        self.resize = resize
        self.net = _facenet_module()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = _resize(images, FACENET_SIZE, self.resize)
        # facenet-pytorch's fixed_image_standardization on x_255 = (x + 1) * 127.5
        x = x * (127.5 / 128.0)
        return F.normalize(self.net(x), p=2, dim=1)


def validate_arcface_state_dict(state: dict[str, torch.Tensor]) -> None:
    load_strict(IRSEBackbone(50, "ir_se"), state, "the ArcFace IR-SE-50 network")


def validate_facenet_state_dict(state: dict[str, torch.Tensor]) -> None:
    load_strict(_facenet_module(), _facenet_state(state), "FaceNet InceptionResnetV1")


def arcface_identity(device: torch.device | str = "cpu", resize: str = "bilinear") -> nn.Module:
    """Frozen eval-mode `ArcFaceIdentity` with the installed ``arcface_ir_se50`` weights."""
    from ganinv.weights import load_state_dict

    model = ArcFaceIdentity(resize)
    load_strict(model.net, load_state_dict("arcface_ir_se50"), "the ArcFace IR-SE-50 network")
    return model.eval().requires_grad_(False).to(device)


def facenet_identity(device: torch.device | str = "cpu", resize: str = "bilinear") -> nn.Module:
    """Frozen eval-mode `FaceNetIdentity` with the installed ``facenet_vggface2`` weights."""
    from ganinv.weights import load_state_dict

    model = FaceNetIdentity(resize)
    state = _facenet_state(load_state_dict("facenet_vggface2"))
    load_strict(model.net, state, "FaceNet InceptionResnetV1")
    return model.eval().requires_grad_(False).to(device)


IDENTITY_NETWORKS = {"arcface": arcface_identity, "facenet": facenet_identity}
