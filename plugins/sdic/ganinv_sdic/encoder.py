"""SDIC's encoder: a frozen exported e4e, then the trainable DIPN and DICN.

Forward (released ``SDIC.forward``; `space.SDICSpace` renders the result):

1. ``w = e4e(x)`` (frozen, eval mode, no gradient);
2. first pass ``R_o, F = G(w)``: the image and the feature at the space's compensation layer;
3. ``D = DIPN(x, R_o)``, R_o clamped to [-1, 1] and resized bilinearly to x's size;
4. ``(F' - F, w') = DICN(D, F, w)``; the code is ``{wplus: w', residual: F' - F}``.

Training terms (`extra_losses`, weights in the config's ``extra_loss_weights``):
``feature_reg = MSE(F', F)`` and ``latent_reg = MSE(w', w)`` (SDIC's fixed
``0.5 * (0.8 * MSE(F', F) + 0.2 * MSE(w', w))``: weights 0.4 and 0.1), and with
``discrepancy_loss: true`` ``discrepancy_l1 = L1(D, x - R_o)`` (SDIC's lambda_res, 0 as released).

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
from ganinv_sdic.dicn import DICN
from ganinv_sdic.dipn import DIPN, PAPER_FEATURE_WIDTHS


class SDICEncoder(Encoder):
    """Images [B, 3, R, R] in [-1, 1] (R = the e4e's input size) -> codes of space ``sdic``.

    e4e_checkpoint: exported frozen base encoder (``ganinv train`` of e4e; any ``wplus`` encoder).
    feature_widths, descriptor_hidden, descriptor_channels, volume_channels, head_channels: DIPN
        widths (paper: [16, 24, 32, 96, 160], 48, 24, 8, 16).
    dicn_widths, latent_map_size: DICN widths ([32, 64]) and latent-shift map size (64).
    zero_init: start with no compensation (zero residual, w' = w) instead of PyTorch's default
        initialisation (the paper's).
    discrepancy_loss: also return the L1 term on the discrepancy map (``discrepancy_l1``).
    noise_mode: generator noise of the first pass (the space renders with 'const').
    """

    def __init__(
        self,
        space: InversionSpace,
        e4e_checkpoint: str,
        feature_widths: list[int] | None = None,
        descriptor_hidden: int = 48,
        descriptor_channels: int = 24,
        volume_channels: int = 8,
        head_channels: int = 16,
        dicn_widths: list[int] | None = None,
        latent_map_size: int = 64,
        zero_init: bool = False,
        discrepancy_loss: bool = False,
        noise_mode: str = "const",
    ) -> None:
        super().__init__(space)
        require_own_space(space, "sdic", "render_with_feature", "sdic")
        base = load_e4e_base(e4e_checkpoint, space, "SDIC")
        attach_frozen(self, "base_encoder", base)  # never trained; weights in their own file
        self.input_resolution = int(getattr(base, "input_resolution", space.generator.resolution))
        g = space.generator
        self.dipn = DIPN(
            tuple(feature_widths or PAPER_FEATURE_WIDTHS),
            descriptor_hidden,
            descriptor_channels,
            volume_channels,
            head_channels,
        )
        self.dicn = DICN(
            space.layer.out_channels,
            g.num_ws,
            g.w_dim,
            tuple(dicn_widths or (32, 64)),
            latent_map_size,
        )
        if zero_init:
            self.dicn.zero_init_()
        self.discrepancy_loss = discrepancy_loss
        self.noise_mode = noise_mode
        self._last: dict[str, torch.Tensor] = {}

    def initial_inversion(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """The frozen stage: ``wplus`` (e4e), ``image`` G(w), ``feature`` F, ``recon`` R_o at
        the input size (clamped)."""
        wplus = frozen_forward(self.base_encoder, images)["wplus"]
        with torch.no_grad():
            image, feature = self.space.render_with_feature(wplus, self.noise_mode)
            recon = image.clamp(-1, 1)
            if recon.shape[-2:] != images.shape[-2:]:
                recon = F.interpolate(
                    recon, size=images.shape[-2:], mode="bilinear", align_corners=False
                )
        return {"wplus": wplus, "image": image, "feature": feature, "recon": recon}

    def forward(self, images: torch.Tensor) -> Code:
        check_input(images, self.input_resolution, "sdic")
        first = self.initial_inversion(images)
        discrepancy = self.dipn(images, first["recon"])
        residual, wplus = self.dicn(discrepancy, first["feature"], first["wplus"])
        code = self.space.make_code(wplus, residual)
        self._last = {
            "wplus_out": wplus,
            "wplus_base": first["wplus"],
            "discrepancy": discrepancy,
            "target_discrepancy": images - first["recon"],
        }
        return code

    def extra_losses(self, code: Code) -> dict[str, torch.Tensor]:
        last = self._last
        if not last or code["wplus"] is not last["wplus_out"]:
            raise GanInvError(
                "sdic extra_losses needs the code returned by the encoder's latest forward"
            )
        out = {
            "feature_reg": code["residual"].square().mean(),
            "latent_reg": F.mse_loss(code["wplus"], last["wplus_base"]),
        }
        if self.discrepancy_loss:
            out["discrepancy_l1"] = F.l1_loss(last["discrepancy"], last["target_discrepancy"])
        return out
