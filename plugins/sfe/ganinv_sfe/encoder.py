"""SFE's encoder ``sfe``: the inverter I (phase 1) and the feature editor H (phase 2).

``phase: inverter`` (docs/research/methods-2.md 6.4) trains I. Forward: ``(w, F_pred) = I(x)``,
``F_w = G_k(w)``, ``F_k = Fuser(F_pred, F_w)``; while training the rendered feature is the blend
``(1 - s) F_w + s F_k`` with ``s = min(1, step / blend_steps)`` (the paper: 10,000 steps), 1 in
eval mode. Extra terms: ``feature_rec = MSE(F_k, F_w)`` (F_w detached) and ``w_branch``, the image
losses of `w_branch_losses` on G(w) against the input (the paper applies every image loss to
both G(w, F_k) and G(w)).

``phase: editor`` (docs/research/methods-2.md 6.5) loads I from `inverter_checkpoint` (a phase-1
export), freezes it (eval mode, no gradients) and trains H only. Forward on a real batch X renders
``G(w, H(F_k, 0))`` in training (the paper's inversion term, Delta = 0) and ``G(w, F_k)`` in eval
mode (a trained code holds F_k; an edit of strength 0 is the identity). Extra term ``edit``: the
image losses of `edit_losses` between ``G(w', H(F_k(X_E), Delta))`` and ``X_E' = G(w_E')``, where
``w_E = e4e(X)``, ``X_E = G(w_E)``, a (direction, strength) is drawn per image
(`directions.TrainingDirections`), ``w_E' = w_E + s n``, ``w'`` is the inverter's code of X_E
moved the same way and ``Delta = G_k(w_E) - G_k(w_E')``.

Codes carry ``wbase``: the base encoder's W+ codes (e4e, `e4e_checkpoint`), from which edits
compute Delta; with no base encoder (phase 1 only) they are the inverter's own W+.
A phase-2 encoder attaches H to its space, so `space.apply_direction` edits through it.

The frozen networks are not part of the state dict: the e4e, and in phase 2 the inverter read
from `inverter_checkpoint`, are read from their files whenever the encoder is built, so a phase-2
file holds H alone and needs both files beside it (without `inverter_checkpoint` the phase-2
inverter stays in the state dict, frozen as it was built).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from ganinv_baselines.encoder_common import check_input, require_own_space
from torch import nn

from ganinv.checkpoints.frozen_base import load_e4e_base
from ganinv.core.components import build_component, spec_name
from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.losses.base import LossInputs
from ganinv.losses.frozen import attach_frozen, frozen_forward, on_device_of
from ganinv_sfe.backbone import PAPER_STRIDES, PAPER_UNITS, PAPER_WIDTHS
from ganinv_sfe.directions import TrainingDirections
from ganinv_sfe.fuser import Fuser
from ganinv_sfe.inverter import Inverter

PHASES = ("inverter", "editor")
DEFAULT_IMAGE_LOSSES = {"mse": 1.0, "lpips_alex": 0.8}


class SFEEncoder(Encoder):
    """Images [B, 3, S, S] in [-1, 1] -> codes of space ``sfe``.

    phase: ``inverter`` (train I) or ``editor`` (I frozen from `inverter_checkpoint`, train H).
    input_resolution, units, widths, strides: the backbone (paper: 256, iResNet-50
        [3, 4, 14, 3], [64, 128, 256, 512], strides [2, 2, 1, 2]).
    fuser_blocks, editor_blocks: residual blocks of the inverter's Fuser and of H (5 and 5).
    e4e_checkpoint: the frozen base encoder (an exported ``wplus`` encoder); needed by phase 2.
    inverter_checkpoint: a phase-1 ``sfe`` export whose inverter phase 2 starts from (and keeps).
    blend_steps: length of the F_w -> F_k ramp in training steps (0: none).
    w_branch_losses, edit_losses: registered image losses and weights of the extra terms.
    directions: phase 2's training edits (see `directions.TrainingDirections`).
    editor_identity_init: start H as H(F, Delta) = F (`Fuser.identity_init_`) instead of
        PyTorch's default initialisation (the paper's), so a short run starts from "no change".
    """

    def __init__(
        self,
        space: InversionSpace,
        phase: str = "inverter",
        input_resolution: int = 256,
        units: list[int] | None = None,
        widths: list[int] | None = None,
        strides: list[int] | None = None,
        fuser_blocks: int = 5,
        editor_blocks: int = 5,
        e4e_checkpoint: str | None = None,
        inverter_checkpoint: str | None = None,
        blend_steps: int = 10000,
        w_branch_losses: dict[str, float] | None = None,
        edit_losses: dict[str, float] | None = None,
        directions: dict[str, Any] | None = None,
        editor_identity_init: bool = False,
    ) -> None:
        super().__init__(space)
        require_own_space(space, "sfe", "attach_feature_editor", "sfe")
        if phase not in PHASES:
            raise GanInvError(f"encoder sfe: phase must be one of {list(PHASES)}, got {phase!r}")
        if blend_steps < 0:
            raise GanInvError(f"encoder sfe: blend_steps must be >= 0, got {blend_steps}")
        g = space.generator
        self.phase = phase
        self.input_resolution = int(input_resolution)
        self.blend_steps = int(blend_steps)
        self.inverter = Inverter(
            g.num_ws,
            g.w_dim,
            space.feature_shape(),
            tuple(units or PAPER_UNITS),
            tuple(widths or PAPER_WIDTHS),
            tuple(strides or PAPER_STRIDES),
            fuser_blocks,
        )
        # Training steps taken (the blend ramp): a buffer, so checkpoints restore it exactly.
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        base = load_e4e_base(e4e_checkpoint, space, "SFE") if e4e_checkpoint else None
        attach_frozen(self, "base_encoder", base)  # never trained; weights in their own file
        self.w_branch_losses = dict(w_branch_losses or DEFAULT_IMAGE_LOSSES)
        self.edit_losses = dict(edit_losses or DEFAULT_IMAGE_LOSSES)
        self._loss_modules: dict[str, nn.Module] = {}
        self.editor: Fuser | None = None
        self.directions_spec: dict[str, Any] = {}
        self._directions: TrainingDirections | None = None  # built at the first training step
        if phase == "editor":
            if base is None:
                raise GanInvError(
                    "encoder sfe, phase editor: set e4e_checkpoint (the base encoder whose edited "
                    "codes make the training pairs and the edits' feature change)"
                )
            self.editor = Fuser(space.feature_shape()[0], editor_blocks)
            if editor_identity_init:
                self.editor.identity_init_()
            self.inverter.requires_grad_(False)
            if inverter_checkpoint:
                self._load_inverter(inverter_checkpoint)
                # Frozen and read from its own file at every build, like the e4e: not in the
                # state dict, so a phase-2 file holds H alone.
                attach_frozen(self, "inverter", self.inverter)
            self.directions_spec = dict(directions or {})
            space.attach_feature_editor(self.editor)
        self._last: dict[str, Any] = {}

    # -- set-up ---------------------------------------------------------------------------------
    def _load_inverter(self, path: str) -> None:
        from ganinv.checkpoints.encoder_file import in_meta_pass, read_encoder_file

        if in_meta_pass():
            return  # an exported file is being checked on the meta device: no weights to copy
        specs, tensors, _ = read_encoder_file(path)
        if spec_name(specs["encoder"]) != "sfe":
            raise GanInvError(
                f"inverter_checkpoint {path!r} holds encoder {spec_name(specs['encoder'])!r}; "
                "give a phase-1 sfe export (ganinv train with phase: inverter)"
            )
        prefix = "inverter."
        state = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
        own = self.inverter.state_dict()
        wrong = sorted(
            k
            for k in set(own) | set(state)
            if k not in own or k not in state or own[k].shape != state[k].shape
        )
        if wrong:
            raise GanInvError(
                f"inverter_checkpoint {path!r} does not fit this inverter (e.g. {wrong[:3]}); "
                "use the phase-1 config's backbone and space settings"
            )
        self.inverter.load_state_dict(state)

    def train(self, mode: bool = True) -> SFEEncoder:
        super().train(mode)
        if self.phase == "editor":
            self.inverter.eval()  # frozen in phase 2: BatchNorm statistics included
        return self

    def _image_loss(self, name: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        if name not in self._loss_modules:  # built on first use: inference never needs them
            self._loss_modules[name] = build_component("losses", {"name": name}, device=fake.device)
        module = self._loss_modules[name]
        if isinstance(module, nn.Module):
            module = on_device_of(module, fake)
        return module(LossInputs(real=real, fake=fake))

    def _weighted(
        self, losses: dict[str, float], real: torch.Tensor, fake: torch.Tensor
    ) -> torch.Tensor:
        terms = [float(w) * self._image_loss(n, real, fake) for n, w in losses.items()]
        return torch.stack([t.reshape(()) for t in terms]).sum()

    # -- inversion ------------------------------------------------------------------------------
    def invert(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """``wplus``, ``generator_feature`` F_w = G_k(w) and ``feature`` F_k of the inverter."""
        space = self.space
        inverter = on_device_of(self.inverter, images)
        wplus, predicted = inverter(images, space.generator.w_avg)
        generator_feature = space.generator_feature(wplus)
        feature = inverter.fuse(predicted, generator_feature)
        return {"wplus": wplus, "generator_feature": generator_feature, "feature": feature}

    def base_codes(self, images: torch.Tensor) -> torch.Tensor | None:
        if self.base_encoder is None:
            return None
        return frozen_forward(self.base_encoder, images)["wplus"]

    def blend_weight(self) -> float:
        if not self.training or self.phase != "inverter" or self.blend_steps == 0:
            return 1.0
        return min(1.0, float(self.steps_done) / self.blend_steps)

    def forward(self, images: torch.Tensor) -> Code:
        check_input(images, self.input_resolution, "sfe")
        if self.phase == "editor":
            with torch.no_grad():
                inverted = self.invert(images)
        else:
            inverted = self.invert(images)
        feature = inverted["feature"]
        s = self.blend_weight()
        if s < 1.0:
            feature = (1 - s) * inverted["generator_feature"] + s * feature
        if self.phase == "editor" and self.training:
            assert self.editor is not None
            feature = self.editor(feature, torch.zeros_like(feature))
        wbase = self.base_codes(images)
        code = self.space.make_code(inverted["wplus"], feature, wbase)
        self._last = {"code": code, "images": images, "inverted": inverted}
        return code

    # -- training terms -------------------------------------------------------------------------
    def extra_losses(self, code: Code) -> dict[str, torch.Tensor]:
        last = self._last
        if not last or code["wplus"] is not last["code"]["wplus"]:
            raise GanInvError(
                "sfe extra_losses needs the code returned by the encoder's latest forward"
            )
        if self.phase == "inverter":
            inverted = last["inverted"]
            w_image = self.space.generator.synthesize(inverted["wplus"], noise_mode="const")
            w_image = _resize(w_image, last["images"].shape[-1])
            return {
                "feature_rec": F.mse_loss(
                    inverted["feature"], inverted["generator_feature"].detach()
                ),
                "w_branch": self._weighted(self.w_branch_losses, last["images"], w_image),
            }
        if not self.directions_spec:
            raise GanInvError(
                "encoder sfe, phase editor: training needs encoder.directions (pca and/or files)"
            )
        return {"edit": self.edit_loss(last["images"])}

    def training_directions(self) -> TrainingDirections:
        """Phase 2's (direction, strength) pairs, built once (seeded: the same in every run)."""
        if self._directions is None:
            self._directions = TrainingDirections(self.space.generator, self.directions_spec)
        return self._directions

    def edit_loss(self, images: torch.Tensor) -> torch.Tensor:
        """The phase-2 editing term on pairs made from the base encoder's edited codes."""
        assert self.editor is not None
        space, g = self.space, self.space.generator
        with torch.no_grad():
            w_base = self.base_codes(images)
            assert w_base is not None
            step = self.training_directions().sample(images.shape[0], images.device)
            w_edit = w_base + step
            x_base = g.synthesize(w_base, noise_mode="const").clamp(-1, 1)
            target = g.synthesize(w_edit, noise_mode="const").clamp(-1, 1)
            inverted = self.invert(_resize(x_base, self.input_resolution))
            delta = space.generator_feature(w_base) - space.generator_feature(w_edit)
        edited = space.make_code(inverted["wplus"] + step, self.editor(inverted["feature"], delta))
        return self._weighted(self.edit_losses, target, space.render(edited))

    def auxiliary_step(self, code: Code, images: torch.Tensor) -> dict[str, float]:
        self.steps_done += 1
        return {"blend": self.blend_weight()} if self.phase == "inverter" else {}


def _resize(images: torch.Tensor, size: int) -> torch.Tensor:
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    return F.interpolate(
        images, size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
