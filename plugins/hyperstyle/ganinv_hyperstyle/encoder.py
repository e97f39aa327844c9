"""HyperStyle's encoder: a frozen exported initial encoder, then the hypernetwork, iterated.

Forward (released ``models/hyperstyle.py``):

1. ``code_0 = E(x)`` with the frozen initial encoder (a W encoder as released, or e4e), and
   ``y_0 = G(code_0)`` with the generator's constant noise, resized to x's size;
2. for t = 1..T: ``delta_t = delta_{t-1} + H(cat(x, y_{t-1}))`` (one multiplicative offset per
   tuned layer, W' = W * (1 + delta_t)), ``y_t = G(code_0; W')``. The latent code stays fixed.

The code is the initial encoder's code (space ``w`` or ``wplus``) plus weight-offset parts
``weight_offset.<layer>`` = ``W * delta_T`` (ganinv's offsets add to the shared weight, so the
multiplicative offset is stored as the additive one it amounts to). Edit directions move the
latent code and keep the offsets: the edit renders with the tuned weights.

Training (`training_codes`): the T codes of one step, the offsets and the reconstruction fed back
detached between iterations, so the harness puts its losses on every iteration and sums them,
as the released coach back-propagates after each one before its one optimiser step.

The initial encoder is read from `base_encoder` (an ``encoder_*.safetensors`` exported by
``ganinv train`` for the ``w`` or ``wplus`` space) every time this encoder is built; its weights
are not part of this encoder's state dict, so that file must stay available.
"""

from __future__ import annotations

import torch
from ganinv_baselines.encoder_common import check_input

from ganinv.checkpoints.frozen_base import load_base_encoder
from ganinv.core.encoder import Encoder, to_encoder_input
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.core.weight_offsets import with_offsets, without_offsets
from ganinv.losses.frozen import attach_frozen, frozen_forward
from ganinv_hyperstyle import hypernetwork as hn
from ganinv_hyperstyle.backbone import (
    RESNET34_BLOCKS,
    RESNET34_WIDTHS,
    HyperBackbone,
    load_torchvision_resnet,
)

BASE_SPACES = ("w", "wplus")


class HyperStyleEncoder(Encoder):
    """Images [B, 3, R, R] in [-1, 1] (R = the initial encoder's input size) -> the initial
    encoder's code plus weight offsets of the tuned layers.

    base_encoder: the exported frozen initial encoder (``ganinv train`` of ``w_encoder`` on space
        ``w`` as released, or e4e on ``wplus``); the space must be that encoder's.
    iterations: refinement iterations at inference (5, the released test default).
    train_iterations: iterations of one training step, each one scored (5, the README command).
    layers_to_tune: generator layer names (default: every modulated 3 x 3 conv, the released
        default); shared_layers: those fed by the shared hypernetwork (default: the tuned layers
        at 64 px or less that map the widest width to itself, the released choice at 1024 px).
    blocks, widths, stem_stride: the ResNet backbone (ResNet-34: 3/4/6/3 blocks, 64..512, 2).
    backbone_weights: torchvision's ResNet-34 ImageNet state dict to start from (released), or
        null for a random start.
    inner_channels, head_channels: individual refinement blocks (256, 512);
        shared_inner_channels: shared blocks' heads (128); shared_code_dim: the code they pass
        to the shared hypernetwork (default: the shared layers' width, 512 at 1024 px, released).
    zero_init: start with no offsets (the initial encoder's image) instead of the released
        initialisation.
    noise_mode: generator noise of the initial reconstruction and of the fed-back images.
    """

    def __init__(
        self,
        space: InversionSpace,
        base_encoder: str,
        iterations: int = 5,
        train_iterations: int = 5,
        layers_to_tune: list[str] | None = None,
        shared_layers: list[str] | None = None,
        blocks: list[int] | None = None,
        widths: list[int] | None = None,
        stem_stride: int = 2,
        backbone_weights: str | None = None,
        inner_channels: int = 256,
        head_channels: int = 512,
        shared_inner_channels: int = 128,
        shared_code_dim: int | None = None,
        zero_init: bool = False,
        noise_mode: str = "const",
    ) -> None:
        super().__init__(space)
        if space.name not in BASE_SPACES:
            raise GanInvError(
                f"the hyperstyle encoder adds weight offsets to a 'w' or 'wplus' code, got space "
                f"{space.name!r}; set method.space to the base encoder's space"
            )
        for name, value in (("iterations", iterations), ("train_iterations", train_iterations)):
            if not isinstance(value, int) or value < 1:
                raise GanInvError(f"encoder 'hyperstyle': {name} must be at least 1, got {value}")
        # The base must predict codes of this very space (``w`` or ``wplus``).
        base = load_base_encoder(
            base_encoder,
            space,
            accept=(space.name,),
            option="base_encoder",
            needs=f"the hyperstyle encoder was built for space {space.name!r}: set method.space "
            "to the space the base encoder predicts",
        )
        attach_frozen(self, "base_encoder", base)  # never trained; weights in their own file
        self.input_resolution = int(getattr(base, "input_resolution", space.generator.resolution))
        self.iterations = iterations
        self.train_iterations = train_iterations
        self.noise_mode = noise_mode
        backbone = HyperBackbone(
            tuple(blocks or RESNET34_BLOCKS), tuple(widths or RESNET34_WIDTHS), stem_stride
        )
        if backbone_weights:
            load_torchvision_resnet(backbone, backbone_weights)
        if self.input_resolution % backbone.reduction():
            raise GanInvError(
                f"encoder 'hyperstyle': input_resolution {self.input_resolution} is not a "
                f"multiple of the backbone's reduction {backbone.reduction()}; change stem_stride"
            )
        tuned = hn.tuned_layers(space.generator, layers_to_tune)
        shared = hn.shared_layers(tuned, shared_layers)
        self.hypernet = hn.HyperNetwork(
            backbone,
            self.input_resolution // backbone.reduction(),
            tuned,
            shared,
            inner_channels,
            head_channels,
            shared_inner_channels,
            shared_code_dim,
        )
        if zero_init:
            self.hypernet.zero_init_()

    # -- stages ---------------------------------------------------------------------------------
    def initial_code(self, images: torch.Tensor) -> Code:
        """The frozen initial encoder's code (no gradient)."""
        return frozen_forward(self.base_encoder, images).detach()

    def reconstruct(self, code: Code, images: torch.Tensor) -> torch.Tensor:
        """G(code) at `images`' size, without gradient: what the hypernetwork sees next."""
        with torch.no_grad():
            out = self.space.render(code, noise_mode=self.noise_mode)
        return to_encoder_input(out, self.input_resolution)

    def with_deltas(self, code: Code, deltas: dict[str, torch.Tensor]) -> Code:
        """`code` plus the offsets ``W * delta`` (W * (1 + delta) = W + W * delta)."""
        weights = self.space.generator.weight_parameters()
        offsets = {name: weights[name].detach() * delta for name, delta in deltas.items()}
        return Code(code.space, with_offsets(code.tensors, offsets), dict(code.meta))

    def iterate(self, images: torch.Tensor, steps: int, detach_between: bool) -> list[Code]:
        """One code per iteration (the offsets accumulate; the latent code stays the initial
        encoder's). With `detach_between`, each iteration's offsets start from the previous ones
        detached, so a loss on code t trains only the t-th hypernetwork call (released coach)."""
        check_input(images, self.input_resolution, "hyperstyle")
        base = self.initial_code(images)
        base = Code(base.space, without_offsets(base.tensors), base.meta)
        recon = self.reconstruct(base, images)
        deltas: dict[str, torch.Tensor] = {}
        codes = []
        for t in range(steps):
            step = self.hypernet(torch.cat([images, recon], dim=1))
            deltas = {
                name: (deltas[name].detach() if detach_between else deltas[name]) + value
                if name in deltas
                else value
                for name, value in step.items()
            }
            codes.append(self.with_deltas(base, deltas))
            if t < steps - 1:
                recon = self.reconstruct(codes[-1], images)
        return codes

    # -- Encoder API ----------------------------------------------------------------------------
    def forward(self, images: torch.Tensor) -> Code:
        return self.iterate(images, self.iterations, detach_between=False)[-1]

    def training_codes(self, images: torch.Tensor) -> list[Code]:
        return self.iterate(images, self.train_iterations, detach_between=True)
