"""HFGI's encoder: a frozen exported e4e, then the distortion map; trains ADA and E_c.

Forward (released ``psp.forward``; `space.HFGISpace` renders the result):

1. ``w = e4e(x)`` (frozen, eval mode, no gradient);
2. ``G_0 = G(w)``, clamped and resized bilinearly to the distortion resolution S;
3. ``D = x - G_0`` (x resized to S the same way when sizes differ), detached;
4. in training mode, the self-supervised edited pair: D is warped by a random perspective
   (`warp.random_perspective`, probability `aug_rate`, scale `distortion_scale`) so that ADA has
   to restore it; in eval mode D is kept as is;
5. the code is ``{wplus: w, distortion: D (warped when training)}``; rendering aligns it with ADA
   against G(w) and modulates the generator with E_c's conditions.

Training term (`extra_losses`, weight in ``extra_loss_weights``): ``alignment_l1 = L1(ADA(D_warped,
G_0), D)`` (the released ``res_lambda`` = 0.1). The e4e and the generator stay frozen; only the
space's branch (ADA and E_c, adopted as this encoder's submodule ``branch``) trains.

The e4e is read from `e4e_checkpoint` (an ``encoder_*.safetensors`` exported by ``ganinv train``
for the ``wplus`` space) every time the encoder is built; its weights are not part of this
encoder's state dict, so that file must stay available.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from ganinv_baselines.encoder_common import check_input, require_own_space

from ganinv.checkpoints.frozen_base import load_e4e_base
from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.losses.frozen import attach_frozen, frozen_forward
from ganinv_hfgi.warp import random_perspective


class HFGIEncoder(Encoder):
    """Images [B, 3, R, R] in [-1, 1] (R = the e4e's input size) -> codes of space ``hfgi``.

    e4e_checkpoint: exported frozen base encoder (``ganinv train`` of e4e; any ``wplus`` encoder).
    aug_rate: probability of warping the distortion map in a training step (``train.sh``: 0.9).
    distortion_scale: RandomPerspective's distortion scale (0.15).
    warp_per_image: one random warp per image instead of one per batch (the released code).
    noise_mode: generator noise of the first pass (the space renders with 'const').
    """

    def __init__(
        self,
        space: InversionSpace,
        e4e_checkpoint: str,
        aug_rate: float = 0.9,
        distortion_scale: float = 0.15,
        warp_per_image: bool = False,
        noise_mode: str = "const",
    ) -> None:
        super().__init__(space)
        require_own_space(space, "hfgi", "branch", "hfgi")
        if not 0.0 <= float(aug_rate) <= 1.0:
            raise GanInvError(f"encoder hfgi: aug_rate must be in [0, 1], got {aug_rate}")
        if not 0.0 <= float(distortion_scale) <= 1.0:
            raise GanInvError(
                f"encoder hfgi: distortion_scale must be in [0, 1], got {distortion_scale}"
            )
        base = load_e4e_base(e4e_checkpoint, space, "HFGI")
        attach_frozen(self, "base_encoder", base)  # never trained; weights in their own file
        self.input_resolution = int(getattr(base, "input_resolution", space.generator.resolution))
        # The space's own networks: trained here, saved with this encoder, rendered by the space.
        self.branch = space.branch.requires_grad_(True)
        self.aug_rate = float(aug_rate)
        self.distortion_scale = float(distortion_scale)
        self.warp_per_image = bool(warp_per_image)
        self.noise_mode = noise_mode
        self._last: dict[str, torch.Tensor] = {}

    def initial_inversion(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """The frozen stage: ``wplus`` (e4e), ``plain`` G(w) at S (clamped) and ``distortion``
        D = x - G(w) at S."""
        wplus = frozen_forward(self.base_encoder, images)["wplus"]
        with torch.no_grad():
            plain = self.space.plain_at_distortion_size(wplus, self.noise_mode)
            target = images
            if target.shape[-2:] != plain.shape[-2:]:
                target = F.interpolate(
                    target, size=plain.shape[-2:], mode="bilinear", align_corners=False
                )
        return {"wplus": wplus, "plain": plain, "distortion": target - plain}

    def forward(self, images: torch.Tensor) -> Code:
        check_input(images, self.input_resolution, "hfgi")
        first = self.initial_inversion(images)
        distortion = first["distortion"]
        if self.training:  # the self-supervised edited pair
            distortion = random_perspective(
                distortion, self.distortion_scale, self.aug_rate, self.warp_per_image
            )
        code = self.space.make_code(first["wplus"], distortion)
        self._last = {"given": distortion, "target": first["distortion"], "plain": first["plain"]}
        return code

    def extra_losses(self, code: Code) -> dict[str, torch.Tensor]:
        last = self._last
        if not last or code["distortion"] is not last["given"]:
            raise GanInvError(
                "hfgi extra_losses needs the code returned by the encoder's latest forward"
            )
        aligned = self.space.last_alignment(last["given"])
        if aligned is None:  # not rendered in training mode yet: align here
            aligned = self.branch.ada(last["given"], last["plain"])
        return {"alignment_l1": F.l1_loss(aligned, last["target"])}
