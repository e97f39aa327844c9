"""Identity similarity of faces: cosine of unit embeddings, per image then averaged.

``network="arcface"`` (default) is the pSp / e4e / HyperStyle / PadInv ``IDSIM``: ArcFace IR-SE-50,
crop [35:223, 32:220] at 256, pool to 112. ``network="facenet"`` uses FaceNet at 160 px.
"""

from __future__ import annotations

from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.registry import METRICS
from ganinv.losses.frozen import on_device_of
from ganinv.metrics.per_image import PerImageMeanMetric
from ganinv.nets.face_id import IDENTITY_NETWORKS

_DESCRIPTION = {
    "arcface": "ArcFace IR-SE-50 (model_ir_se50.pth), crop [35:223, 32:220] at 256, pool to 112",
    "facenet": "FaceNet InceptionResnetV1 VGGFace2 (facenet-pytorch), whole image at 160",
}


@METRICS.register("id_similarity")
class IDSimilarityMetric(PerImageMeanMetric):
    name = "id_similarity"
    higher_is_better = True

    def __init__(self, network: str = "arcface", resize: str = "bilinear") -> None:
        if network not in IDENTITY_NETWORKS:
            raise GanInvError(f"id_similarity network must be one of {sorted(IDENTITY_NETWORKS)}")
        self.network_name, self.resize = network, resize
        self.network = IDENTITY_NETWORKS[network](resize=resize)
        super().__init__()

    def per_image(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        model = on_device_of(self.network, fake)
        return (model(real.float()) * model(fake.float())).sum(dim=1)

    def protocol(self) -> dict[str, Any]:
        return {
            "network": _DESCRIPTION[self.network_name],
            "resize": self.resize,
            "range": "[-1, 1]",
        }
