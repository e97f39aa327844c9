"""Face identity losses: 1 - cosine similarity of embeddings, averaged over the batch.

``id_arcface`` is the pSp / PadInv ID loss (ArcFace IR-SE-50, crop [35:223, 32:220] at 256,
pooled to 112); ``id_facenet`` uses FaceNet (InceptionResnetV1, VGGFace2) at 160 px. The real
image's embedding is a constant (detached). Both need a local weights file
(``ganinv weights install arcface_ir_se50 --from model_ir_se50.pth`` and likewise for FaceNet).
"""

from __future__ import annotations

import torch

from ganinv.core.registry import LOSSES
from ganinv.losses.base import Loss, LossInputs
from ganinv.losses.frozen import FrozenNetworkLoss, on_device_of
from ganinv.nets.face_id import arcface_identity, facenet_identity


class IdentityLoss(FrozenNetworkLoss, Loss):
    """mean_b (1 - <phi(real_b), phi(fake_b)>), phi unit-norm; images in [-1, 1]."""

    def __init__(self, network: torch.nn.Module, description: str, resize: str) -> None:
        super().__init__()
        self.network = network
        self.protocol = {"network": description, "resize": resize, "reduction": "mean over images"}

    def forward(self, inputs: LossInputs) -> torch.Tensor:
        network = on_device_of(self.network, inputs.fake)
        with torch.no_grad():
            real = network(inputs.real)
        fake = network(inputs.fake)
        return (1 - (real * fake).sum(dim=1)).mean()


@LOSSES.register("id_arcface")
class ArcFaceIdentityLoss(IdentityLoss):
    def __init__(self, resize: str = "bilinear") -> None:
        super().__init__(
            arcface_identity(resize=resize),
            "ArcFace IR-SE-50 (model_ir_se50.pth), crop [35:223, 32:220] at 256, pool to 112",
            f"{resize} to 256",
        )


@LOSSES.register("id_facenet")
class FaceNetIdentityLoss(IdentityLoss):
    def __init__(self, resize: str = "bilinear") -> None:
        super().__init__(
            facenet_identity(resize=resize),
            "FaceNet InceptionResnetV1 VGGFace2 (facenet-pytorch), whole image at 160",
            f"{resize} to 160",
        )
