"""The latent-map encoder: frozen pretrained features -> pooled -> MLP -> W or W+.

images [B, 3, R, R] in [-1, 1] -> feature extractor (frozen, e.g. ImageNet VGG16 conv5_3) ->
adaptive average pooling to `pool_size` x `pool_size` -> flatten -> LayerNorm -> MLP (`layers`
linear layers of width `hidden`, LeakyReLU 0.2) -> offset from w_avg -> a code of space ``w``
([B, w_dim]) or ``wplus`` ([B, num_ws, w_dim]). The last linear layer starts at zero, so an
untrained encoder returns the mean code.

Masked inputs: with ``mask_probability > 0``, each training image is masked with that
probability (random rectangles / free-form strokes, holes set to `mask_fill`; see `masks`) and
the features are computed on the masked image, while the targets (the synthetic pair's w, the
full image) stay unmasked: the encoder learns to invert masked images. At inference, give images
whose holes hold the same fill value. The mask is not an extra input (the pretrained extractor
takes RGB only). Masks are drawn from torch's global RNG, which the trainer checkpoints.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from ganinv_baselines.encoder_common import check_input, require_space
from torch import nn

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.losses.frozen import attach_frozen, on_device_of
from ganinv_latentmap.features import FEATURE_EXTRACTORS
from ganinv_latentmap.masks import MASK_KINDS, apply_mask, random_masks


def mlp(in_dim: int, hidden: int, out_dim: int, layers: int) -> nn.Sequential:
    """LayerNorm, then `layers` linear layers (LeakyReLU 0.2 between); the last starts at 0."""
    if layers < 1:
        raise GanInvError(f"latentmap needs at least 1 MLP layer, got {layers}")
    modules: list[nn.Module] = [nn.LayerNorm(in_dim)]
    width = in_dim
    for _ in range(layers - 1):
        modules += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    last = nn.Linear(width, out_dim)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(*modules, last)


class LatentMapEncoder(Encoder):
    """Registered as encoder ``latentmap`` for the spaces ``w`` and ``wplus``.

    features: feature extractor spec (a name or ``{name: ..., **settings}``) of the
        ``feature_extractors`` registry; default ImageNet VGG16 up to conv5_3 at 224 px.
    pool_size, hidden, layers: pooling grid and MLP size.
    input_resolution: the size images are given at (default: the generator's).
    mask_probability, mask_kind, mask_fill, mask_max_shapes: training-time masking.
    """

    def __init__(
        self,
        space: InversionSpace,
        features: str | dict[str, Any] = "vgg16",
        pool_size: int = 1,
        hidden: int = 1024,
        layers: int = 3,
        input_resolution: int | None = None,
        mask_probability: float = 0.0,
        mask_kind: str = "mixed",
        mask_fill: float = 0.0,
        mask_max_shapes: int = 2,
    ) -> None:
        super().__init__(space)
        require_space(space, ("w", "wplus"), "latentmap")
        if not 0 <= mask_probability <= 1:
            raise GanInvError(f"mask_probability must be in [0, 1], got {mask_probability}")
        if mask_kind not in MASK_KINDS:
            raise GanInvError(f"mask_kind must be one of {MASK_KINDS}, got {mask_kind!r}")
        if pool_size < 1:
            raise GanInvError(f"pool_size must be >= 1, got {pool_size}")
        extractor = FEATURE_EXTRACTORS.build(features)
        attach_frozen(self, "extractor", extractor)  # never trained; weights in their own file
        g = space.generator
        self.input_resolution = input_resolution or g.resolution
        self.pool_size = pool_size
        self.latent_shape = tuple(space.init_code(1)[space.latent_key].shape[1:])
        in_dim = extractor.out_channels * pool_size**2
        self.mlp = mlp(in_dim, hidden, math.prod(self.latent_shape), layers)
        self.mask_probability = mask_probability
        self.mask_kind = mask_kind
        self.mask_fill = mask_fill
        self.mask_max_shapes = mask_max_shapes

    def mask_for_training(self, images: torch.Tensor) -> torch.Tensor:
        """Each image masked with probability `mask_probability` (holes = `mask_fill`)."""
        b, _, h, _ = images.shape
        masks = random_masks(b, h, self.mask_kind, max_shapes=self.mask_max_shapes)  # type: ignore[arg-type]
        chosen = (torch.rand(b) < self.mask_probability).float().view(b, 1, 1, 1)
        masks = chosen * masks + (1 - chosen)
        return apply_mask(images, masks.to(images.device), self.mask_fill)

    def pooled_features(self, images: torch.Tensor) -> torch.Tensor:
        """[B, out_channels * pool_size^2] from the frozen extractor."""
        with torch.no_grad():
            extractor = on_device_of(self.extractor, images)
            features = extractor(images)
        return F.adaptive_avg_pool2d(features, self.pool_size).flatten(1)

    def forward(self, images: torch.Tensor) -> Code:
        check_input(images, self.input_resolution, "latentmap")
        if self.training and self.mask_probability > 0:
            images = self.mask_for_training(images)
        offset = self.mlp(self.pooled_features(images))
        w_avg = self.space.generator.w_avg.to(offset)
        latent = offset.view(images.shape[0], *self.latent_shape) + w_avg
        return self.space.make_code(latent)
