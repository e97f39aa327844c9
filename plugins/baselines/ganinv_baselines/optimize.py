"""Optimisation-based inversion (Image2StyleGAN / the StyleGAN2 projector), as a refiner.

Defaults are the StyleGAN2(-ADA) projector's: Adam (0.9, 0.999), lr 0.1 with a 5 % linear ramp-up
and a 25 % cosine ramp-down, a Gaussian perturbation of the code of
``0.05 * w_std * max(0, 1 - t / 0.75)^2`` (annealed to zero over the first 75 % of the steps),
1000 steps and, when ``optimize_noise`` is on, per-layer noise maps with the multi-scale
autocorrelation regulariser (weight 1e5) renormalised after every step. Image2StyleGAN is the
setting ``lr: 0.01, lr_rampup: 0, lr_rampdown: 0, latent_noise: 0, steps: 5000`` with
``losses: {mse: 1.0, vgg_perceptual: ...}``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.progress import steps
from ganinv.core.refiner import Refiner, check_targets
from ganinv.core.space import Code, InversionSpace
from ganinv.losses.base import LossInputs
from ganinv_baselines.loss_terms import WeightedLosses
from ganinv_baselines.noise import noise_regularizer, renormalize_


def projector_lr_ramp(t: float, rampup: float, rampdown: float) -> float:
    """Multiplier of the base lr at progress ``t`` in [0, 1]: linear ramp-up over the first
    `rampup` fraction, cosine ramp-down over the last `rampdown` fraction (0 disables either)."""
    ramp = 1.0
    if rampdown > 0:
        ramp = min(1.0, (1.0 - t) / rampdown)
        ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    if rampup > 0:
        ramp = ramp * min(1.0, t / rampup)
    return ramp


def latent_noise_scale(t: float, factor: float, ramp_length: float) -> float:
    """The projector's perturbation factor ``factor * max(0, 1 - t / ramp_length)^2``."""
    if ramp_length <= 0:
        return 0.0
    return factor * max(0.0, 1.0 - t / ramp_length) ** 2


class OptimizeRefiner(Refiner):
    """Adam on the code's trainable tensors to match target images; works in any space.

    steps, lr, betas:       Adam settings; the lr follows `projector_lr_ramp`.
    lr_rampup, lr_rampdown: fractions of the run for the ramps (0 disables; both 0 = constant lr).
    latent_noise:           perturbation factor times the part's spread
                            (``space.latent_noise_std(key)``; the interface's default is the
                            W spread for parts named ``w``/``wplus``, none elsewhere); 0 disables.
    latent_noise_ramp:      fraction of the run over which the perturbation anneals to zero.
    losses:                 registered loss names to weights (or ``{weight: w, **args}``).
    optimize_noise:         also optimise per-image noise maps (``space.init_noise_parts``; the
                            baseline z/w/wplus spaces and sdic); they are returned in the code.
    noise_regularize:       weight of the noise autocorrelation regulariser.
    seed:                   seeds the perturbations and the initial noise maps.
    After `refine`, ``history`` holds the total loss of every step (floats).
    """

    def __init__(
        self,
        steps: int = 1000,
        lr: float = 0.1,
        betas: tuple[float, float] | list[float] = (0.9, 0.999),
        lr_rampup: float = 0.05,
        lr_rampdown: float = 0.25,
        latent_noise: float = 0.05,
        latent_noise_ramp: float = 0.75,
        losses: dict[str, Any] | None = None,
        optimize_noise: bool = False,
        noise_regularize: float = 1e5,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        if steps < 1:
            raise GanInvError(f"optimize: steps must be >= 1, got {steps}")
        if lr <= 0:
            raise GanInvError(f"optimize: lr must be positive, got {lr}")
        self.steps = steps
        self.lr = lr
        self.betas = (float(betas[0]), float(betas[1]))
        self.lr_rampup = lr_rampup
        self.lr_rampdown = lr_rampdown
        self.latent_noise = latent_noise
        self.latent_noise_ramp = latent_noise_ramp
        self.loss_spec = dict(losses) if losses is not None else {"mse": 1.0, "lpips_vgg": 1.0}
        self.optimize_noise = optimize_noise
        self.noise_regularize = noise_regularize
        self.seed = seed
        self.progress = progress
        self.history: list[float] = []
        # Built now, not on the first refine: loading loss networks must not count as inversion
        # time in a benchmark.
        self._losses = WeightedLosses(self.loss_spec)

    def _loss_module(self, device: torch.device) -> WeightedLosses:
        return self._losses.to(device)

    def _perturbation_stds(self, space: InversionSpace, keys: list[str]) -> dict[str, float]:
        stds = {}
        for key in keys:
            std = None if space.is_noise_part(key) else space.latent_noise_std(key)
            if std is not None:
                stds[key] = std
        return stds

    def extra_terms(
        self, space: InversionSpace, code: Code, fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Method-specific terms added to the loss each step (none here; IDInvert adds one)."""
        return torch.zeros((), device=fake.device), {}

    def refine(self, space: InversionSpace, code: Code, images: torch.Tensor) -> Code:
        """Optimise a copy of `code` (batch B) against `images` [B, 3, R, R] in [-1, 1]."""
        g = space.generator
        device = g.w_avg.device
        check_targets(space, code, images)
        images = images.to(device)
        code = code.clone().to(device)
        if self.optimize_noise and not any(space.is_noise_part(k) for k in code.tensors):
            code.tensors.update(space.init_noise_parts(code.batch_size, seed=self.seed))
        params = space.trainable(code)
        trained = {k: v for k, v in code.tensors.items() if any(v is p for p in params)}
        if not self.optimize_noise:  # noise maps a code already carries stay as they are
            for key in [k for k in trained if space.is_noise_part(k)]:
                code.tensors[key] = trained.pop(key).detach()
            params = [p for p in params if any(p is v for v in trained.values())]
        noises = [v for k, v in trained.items() if space.is_noise_part(k)]
        stds = self._perturbation_stds(space, list(trained))
        losses = self._loss_module(device)
        # On CPU the fused Adam updates each tensor in one pass instead of several (PadInv's
        # padding maps, 4.8 M values at batch 64 on the demo generator: 20 ms a step -> 6 ms);
        # the same update up to float rounding. GPUs keep the default implementation.
        fused = True if device.type == "cpu" else None  # None: torch's default elsewhere
        optimizer = torch.optim.Adam(params, lr=self.lr, betas=self.betas, fused=fused)
        rng = torch.Generator().manual_seed(self.seed)
        self.history = []
        for step in steps(self.steps, "optimize", show=self.progress):
            t = step / self.steps
            for group in optimizer.param_groups:
                group["lr"] = self.lr * projector_lr_ramp(t, self.lr_rampup, self.lr_rampdown)
            scale = latent_noise_scale(t, self.latent_noise, self.latent_noise_ramp)
            tensors = dict(code.tensors)
            if scale > 0:
                for key, std in stds.items():
                    noise = torch.randn(tensors[key].shape, generator=rng).to(device)
                    tensors[key] = tensors[key] + noise * (std * scale)
            render_code = Code(code.space, tensors, dict(code.meta))
            fake = space.render(render_code)
            loss, _ = losses(LossInputs(real=images, fake=fake, code=render_code, space=space))
            extra, _ = self.extra_terms(space, code, fake)
            loss = loss + extra
            if noises and self.noise_regularize > 0:
                loss = loss + self.noise_regularize * noise_regularizer(noises)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if noises:
                renormalize_(noises)
            self.history.append(float(loss.detach()))
        return code.detach()
