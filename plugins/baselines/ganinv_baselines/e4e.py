"""e4e (Tov et al., SIGGRAPH 2021): one W code plus progressively enabled per-layer offsets.

The encoder predicts w0 from the coarsest pyramid level and, for code i, an offset (delta_i) from
the level pSp would use, giving W+ = [w0, w0 + delta_1, ...] (+ w_avg). Training follows e4e:

* progressive stages: stage s uses offsets 1..s; stage s starts at ``progressive_steps[s]``
  (default, as in e4e's FFHQ recipe: stage 0 until step 20000, then one more offset every 2000
  steps). The step count is a buffer (``trained_steps``, saved with the weights so a resumed run
  continues the schedule) advanced by `auxiliary_step`, which the trainer calls after each step.
  Without a schedule (``progressive_start: null``) every offset is used from the start.
* `extra_losses`: ``delta_norm`` = sum over active offsets of mean_b ||delta_i||_2 (e4e's
  delta-norm regulariser, weight 2e-4 in e4e) and, with the latent discriminator,
  ``w_discriminator`` = mean over discriminated codes of softplus(-D(w_i)) (weight 0.1 in e4e).
* `auxiliary_step`: one update of the latent discriminator (MLP, Adam lr 2e-5) with the
  non-saturating loss on real W = mapping(z) vs. the encoder's codes through 50-code pools, plus
  R1 (gamma 10) every 16 steps scaled by 16 (lazy regularisation), as in e4e's coach.

The discriminator is a submodule (so it is saved with the encoder) whose parameters have
``requires_grad=False`` outside `auxiliary_step`, so the encoder's optimiser never updates it.
Order differs from e4e in one detail: e4e updates D before the encoder step on the same batch;
here D is updated right after it, on the codes computed for that step.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ganinv.core.encoder import Encoder
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv.nets.ir_se import STAGE_WIDTHS
from ganinv_baselines.encoder_common import check_input, load_backbone_weights, require_space
from ganinv_baselines.latent_discriminator import (
    LatentCodesDiscriminator,
    LatentCodesPool,
    r1_vector,
)
from ganinv_baselines.psp_parts import FeaturePyramid, style_heads, upsample_add
from ganinv_baselines.psp_parts import style_split as split_codes


def _average_gradients(module: torch.nn.Module) -> None:
    """Mean of the gradients over processes under torch.distributed (the harness's data-parallel
    mode), so every process keeps the same latent discriminator."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    for p in module.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= dist.get_world_size()


def progressive_schedule(
    num_ws: int, start: int | None, every: int, steps: list[int] | None
) -> list[int] | None:
    """Step at which each stage starts ([0, start, start + every, ...], num_ws entries), e4e's
    ``progressive_steps``; None: no progressive training."""
    if steps is not None:
        if steps[0] != 0 or any(b < a for a, b in zip(steps, steps[1:])):
            raise GanInvError(f"progressive_steps must start at 0 and not decrease, got {steps}")
        return list(steps)
    if start is None:
        return None
    if start < 0 or every < 0:
        raise GanInvError("progressive_start and progressive_step_every must be >= 0")
    return [0] + [start + i * every for i in range(num_ws - 1)]


class E4EEncoder(Encoder):
    """e4e ``Encoder4Editing`` for the 'wplus' space: images -> W+ [B, num_ws, w_dim].

    Settings as `PSPEncoder` (input_resolution, num_layers / units / widths, style_split,
    start_from_latent_avg, backbone_weights) plus the progressive schedule (progressive_start,
    progressive_step_every, or an explicit progressive_steps list) and the latent discriminator
    (w_discriminator, discriminator_layers, w_discriminator_lr, r1, d_reg_every, w_pool_size).
    """

    def __init__(
        self,
        space: InversionSpace,
        input_resolution: int = 256,
        num_layers: int | None = 50,
        units: list[int] | None = None,
        widths: list[int] | None = None,
        style_split: list[int] | None = None,
        start_from_latent_avg: bool = True,
        backbone_weights: str | None = None,
        progressive_start: int | None = 20000,
        progressive_step_every: int = 2000,
        progressive_steps: list[int] | None = None,
        w_discriminator: bool = True,
        discriminator_layers: int = 4,
        w_discriminator_lr: float = 2e-5,
        r1: float = 10.0,
        d_reg_every: int = 16,
        w_pool_size: int = 50,
        seed: int = 0,
    ) -> None:
        super().__init__(space)
        require_space(space, ("wplus",), "e4e")
        g = space.generator
        self.num_ws = g.num_ws
        self.input_resolution = input_resolution
        self.start_from_latent_avg = start_from_latent_avg
        self.pyramid = FeaturePyramid(num_layers, units, widths or STAGE_WIDTHS)
        if backbone_weights:
            load_backbone_weights(self.pyramid, backbone_weights)
        self.split = split_codes(g.num_ws, style_split)
        self.styles = style_heads(
            g.num_ws, self.pyramid.out_channels, g.w_dim, input_resolution, self.split
        )
        self.init_training_terms(
            progressive_start,
            progressive_step_every,
            progressive_steps,
            w_discriminator,
            discriminator_layers,
            w_discriminator_lr,
            r1,
            d_reg_every,
            w_pool_size,
            seed,
        )

    def init_training_terms(
        self,
        progressive_start: int | None,
        progressive_step_every: int,
        progressive_steps: list[int] | None,
        w_discriminator: bool,
        discriminator_layers: int,
        w_discriminator_lr: float,
        r1: float,
        d_reg_every: int,
        w_pool_size: int,
        seed: int,
    ) -> None:
        """The progressive schedule and the latent discriminator (arguments as `__init__`); a
        subclass with another network (ReStyle-e4e) calls it instead of `__init__`."""
        g = self.space.generator
        self.num_ws = g.num_ws
        self.schedule = progressive_schedule(
            g.num_ws, progressive_start, progressive_step_every, progressive_steps
        )
        self.register_buffer("trained_steps", torch.zeros((), dtype=torch.long))
        self.discriminator: LatentCodesDiscriminator | None = None
        if w_discriminator:
            self.discriminator = LatentCodesDiscriminator(g.w_dim, discriminator_layers)
            self.discriminator.requires_grad_(False)
        self.w_discriminator_lr = w_discriminator_lr
        self.r1 = r1
        self.d_reg_every = d_reg_every
        self.real_pool = LatentCodesPool(w_pool_size, seed)
        self.fake_pool = LatentCodesPool(w_pool_size, seed + 1)
        self.rng = torch.Generator().manual_seed(seed)
        self._d_optimizer: torch.optim.Optimizer | None = None

    # -- progressive stages ---------------------------------------------------------------------
    @property
    def stage(self) -> int:
        """Number of active offsets (num_ws - 1 = all, e4e's ``Inference`` stage)."""
        if self.schedule is None:
            return self.num_ws - 1
        step = int(self.trained_steps)
        return min(sum(1 for s in self.schedule if s <= step) - 1, self.num_ws - 1)

    # -- forward --------------------------------------------------------------------------------
    def predict_wplus(self, images: torch.Tensor) -> torch.Tensor:
        check_input(images, self.input_resolution, "e4e")
        c1, c2, c3 = self.pyramid.backbone(images)
        coarse, middle = self.split
        w0 = self.styles[0](c3)
        codes = [w0]
        p2 = p1 = None
        for i in range(1, self.num_ws):
            if i > self.stage:
                codes.append(w0)
                continue
            if i >= coarse and p2 is None:
                p2 = upsample_add(c3, self.pyramid.latlayer1(c2))
            if i >= middle and p1 is None:
                p1 = upsample_add(p2, self.pyramid.latlayer2(c1))
            features = c3 if i < coarse else p2 if i < middle else p1
            codes.append(w0 + self.styles[i](features))
        wplus = torch.stack(codes, dim=1)
        if self.start_from_latent_avg:
            wplus = wplus + self.space.generator.w_avg.to(wplus)
        return wplus

    def forward(self, images: torch.Tensor) -> Code:
        return Code(self.space.name, {"wplus": self.predict_wplus(images)})

    # -- training terms -------------------------------------------------------------------------
    def _discriminated(self) -> list[int]:
        if self.schedule is None:
            return list(range(self.num_ws))
        return list(range(self.stage + 1))

    def extra_losses(self, code: Code) -> dict[str, torch.Tensor]:
        wplus = code["wplus"]
        first = wplus[:, 0]
        out = {"delta_norm": torch.zeros((), device=wplus.device)}
        for i in range(1, self.stage + 1):
            out["delta_norm"] = out["delta_norm"] + (wplus[:, i] - first).norm(p=2, dim=1).mean()
        if self.discriminator is not None:
            self.discriminator.requires_grad_(False)
            dims = self._discriminated()
            adv = sum(F.softplus(-self.discriminator(wplus[:, i])).mean() for i in dims)
            out["w_discriminator"] = adv / len(dims)
        return out

    def auxiliary_step(self, code: Code, images: torch.Tensor) -> dict[str, float]:
        """One latent-discriminator update (when enabled); advances the progressive schedule."""
        logs: dict[str, float] = {}
        if self.discriminator is not None:
            logs = self._discriminator_step(code["wplus"].detach())
        self.trained_steps += 1
        logs["e4e_stage"] = float(self.stage)
        return logs

    def auxiliary_state(self) -> dict[str, Any]:
        """The latent discriminator's optimiser, both code pools and the z sampler."""
        state: dict[str, Any] = {
            "rng": self.rng.get_state(),
            "real_pool": self.real_pool.state(),
            "fake_pool": self.fake_pool.state(),
        }
        if self._d_optimizer is not None:
            state["d_optimizer"] = self._d_optimizer.state_dict()
        return state

    def load_auxiliary_state(self, state: dict[str, Any]) -> None:
        device = self.space.generator.w_avg.device
        self.rng.set_state(state["rng"])
        self.real_pool.load_state(state["real_pool"], device)
        self.fake_pool.load_state(state["fake_pool"], device)
        if "d_optimizer" in state and self.discriminator is not None:
            self._d_optimizer = torch.optim.Adam(
                self.discriminator.parameters(), lr=self.w_discriminator_lr
            )
            self._d_optimizer.load_state_dict(state["d_optimizer"])

    def _discriminator_step(self, wplus: torch.Tensor) -> dict[str, float]:
        d = self.discriminator
        assert d is not None
        g = self.space.generator
        if self._d_optimizer is None:
            self._d_optimizer = torch.optim.Adam(d.parameters(), lr=self.w_discriminator_lr)
        step = int(self.trained_steps)
        with torch.no_grad():
            z = torch.randn(wplus.shape[0], g.z_dim, generator=self.rng).to(wplus.device)
            real_w = self.real_pool.query(g.mapping(z)[:, 0])
            fake_w = self.fake_pool.query(wplus[:, self._discriminated()])
        d.requires_grad_(True)
        try:
            loss = F.softplus(-d(real_w)).mean() + F.softplus(d(fake_w)).mean()
            self._d_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            _average_gradients(d)
            self._d_optimizer.step()
            logs: dict[str, Any] = {"w_discriminator_loss": float(loss.detach())}
            if self.d_reg_every > 0 and step % self.d_reg_every == 0:
                penalty, logits = r1_vector(d, real_w)
                r1_loss = self.r1 / 2 * penalty * self.d_reg_every + 0 * logits[0].sum()
                self._d_optimizer.zero_grad(set_to_none=True)
                r1_loss.backward()
                _average_gradients(d)
                self._d_optimizer.step()
                logs["w_discriminator_r1"] = float(r1_loss.detach())
        finally:
            self._d_optimizer.zero_grad(set_to_none=True)
            d.requires_grad_(False)
        return logs
