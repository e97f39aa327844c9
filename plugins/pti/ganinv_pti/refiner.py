"""PTI (pivotal tuning inversion) as a refiner: a pivot code, then a generator tuned around it.

Defaults are the official configuration (danielroich/PTI ``configs/hyperparameters.py``,
``training/coaches``; see docs/pti.md for the sources and the deviations):

* pivot: the starting code's latent optimised for ``pivot_steps`` 450 steps by the StyleGAN2
  projector (the ``optimize`` refiner: Adam, peak lr 0.01 with 5 % ramp-up and 25 % cosine
  ramp-down, annealed latent perturbation, LPIPS-VGG loss, noise maps optimised with the 1e5
  regulariser and then discarded, as the official code discards them). ``pivot_steps: 0`` keeps
  the starting code as the pivot (e.g. an encoder's, as PTI's e4e option does).
* tuning: per-image weight offsets for the tuned layers (every modulated conv and toRGB by
  default), Adam lr 3e-4, loss ``l2_lambda * MSE + lpips_lambda * LPIPS(alex)`` (both 1), at most
  ``tune_steps`` 350 steps, stopping an image as soon as its LPIPS is <= 0.06 (checked before the
  step, as the official code does). A batch tunes one generator per image at once; an image that
  stopped keeps the offsets that met the threshold.
* locality regulariser (``locality: true``; off by default as in the official code, although the
  paper presents it as part of the method): every ``locality_interval`` steps, random codes
  w_z = mapping(z, psi 0.5) give w_r = w_p + alpha (w_z - w_p) / ||w_z - w_p|| (alpha 30, the
  norm over the whole W+ tensor), and ``0.1 MSE + 0.1 LPIPS`` between the original and the tuned
  generator at w_r (noise off) is added.
* ``multi_image: true``: one generator tuned for the whole batch (the official multi-ID coach:
  ``tune_steps`` rounds, each one Adam step per image in turn, no early stop); every image's code
  carries the same offsets.

The returned code is the pivot code plus parts ``weight_offset.<layer>`` [B, *weight shape];
any space's `render` applies them (`ganinv.core.weight_offsets`).
"""

from __future__ import annotations

from typing import Any

import torch
from ganinv_baselines.optimize import OptimizeRefiner

from ganinv.core.errors import GanInvError
from ganinv.core.progress import steps
from ganinv.core.refiner import Refiner, check_targets
from ganinv.core.space import Code, InversionSpace
from ganinv.core.weight_offsets import (
    WeightOffsetHooks,
    with_offsets,
    without_offsets,
    zero_offsets,
)
from ganinv.losses.frozen import on_device_of
from ganinv.nets.lpips_offline import lpips_network

# The official pivot objective: the StyleGAN2-ADA projector's VGG16 LPIPS distance.
DEFAULT_PIVOT_LOSSES: dict[str, Any] = {"lpips_vgg": 1.0}


class PTIRefiner(Refiner):
    """Pivotal tuning inversion (defaults: the official configuration; see the module docstring).

    pivot_steps, pivot_lr, pivot_losses, pivot_optimize_noise, pivot_noise_regularize,
    pivot_latent_noise: the pivot optimisation (``optimize`` refiner settings; 0 steps keeps the
        starting code).
    tune_steps, tune_lr:  the tuning's step budget and Adam learning rate (default betas).
    l2_lambda, lpips_lambda, lpips_net: the tuning loss (MSE mean over pixels, LPIPS v0.1).
    lpips_threshold:      early stop per image when LPIPS <= it (None: run every step).
    layers:               names of the layers to tune (`Generator.weight_parameters`); None: all.
    locality, locality_interval, locality_samples, locality_alpha, locality_l2_lambda,
    locality_lpips_lambda, locality_truncation: the locality regulariser.
    multi_image:          one tuned generator for the whole batch.
    After `refine`: ``history`` (mean tuning loss per step), ``stop_steps`` (per image, the step
    at which it stopped; ``tune_steps`` when it never met the threshold).
    """

    def __init__(
        self,
        pivot_steps: int = 450,
        pivot_lr: float = 0.01,
        pivot_losses: dict[str, Any] | None = None,
        pivot_optimize_noise: bool = True,
        pivot_noise_regularize: float = 1e5,
        pivot_latent_noise: float = 0.05,
        tune_steps: int = 350,
        tune_lr: float = 3e-4,
        l2_lambda: float = 1.0,
        lpips_lambda: float = 1.0,
        lpips_net: str = "alex",
        lpips_threshold: float | None = 0.06,
        layers: list[str] | None = None,
        locality: bool = False,
        locality_interval: int = 1,
        locality_samples: int = 1,
        locality_alpha: float = 30.0,
        locality_l2_lambda: float = 0.1,
        locality_lpips_lambda: float = 0.1,
        locality_truncation: float = 0.5,
        multi_image: bool = False,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        for field, value in (("pivot_steps", pivot_steps), ("tune_steps", tune_steps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise GanInvError(f"pti: {field} must be an integer >= 0, got {value!r}")
        if tune_lr <= 0:
            raise GanInvError(f"pti: tune_lr must be positive, got {tune_lr}")
        if locality_interval < 1 or locality_samples < 1:
            raise GanInvError("pti: locality_interval and locality_samples must be >= 1")
        if lpips_net not in ("alex", "vgg"):
            raise GanInvError(f"pti: lpips_net must be 'alex' or 'vgg', got {lpips_net!r}")
        self.pivot_steps = pivot_steps
        self.tune_steps = tune_steps
        self.tune_lr = tune_lr
        self.l2_lambda = l2_lambda
        self.lpips_lambda = lpips_lambda
        self.lpips_threshold = lpips_threshold
        self.layers = list(layers) if layers is not None else None
        self.locality = locality
        self.locality_interval = locality_interval
        self.locality_samples = locality_samples
        self.locality_alpha = locality_alpha
        self.locality_l2_lambda = locality_l2_lambda
        self.locality_lpips_lambda = locality_lpips_lambda
        self.locality_truncation = locality_truncation
        self.multi_image = multi_image
        self.seed = seed
        self.progress = progress
        self.history: list[float] = []
        self.stop_steps: list[int] = []
        # Networks are built now, not on the first refine: loading them is not inversion time.
        self._pivot = None
        if pivot_steps > 0:
            self._pivot = OptimizeRefiner(
                steps=pivot_steps,
                lr=pivot_lr,
                losses=dict(pivot_losses) if pivot_losses is not None else DEFAULT_PIVOT_LOSSES,
                optimize_noise=pivot_optimize_noise,
                noise_regularize=pivot_noise_regularize,
                latent_noise=pivot_latent_noise,
                seed=seed,
                progress=progress,
            )
        needs_lpips = lpips_lambda != 0 or lpips_threshold is not None
        needs_lpips = needs_lpips or (locality and locality_lpips_lambda != 0)
        self._lpips = lpips_network(lpips_net) if needs_lpips else None

    # -- the two stages ---------------------------------------------------------------------------
    def refine(self, space: InversionSpace, code: Code, images: torch.Tensor) -> Code:
        """Pivot, then tune; returns the pivot code with ``weight_offset.<layer>`` parts."""
        g = space.generator
        device = g.w_avg.device
        check_targets(space, code, images)
        images = images.to(device)
        # The pivot is the latent part: offsets the starting code may carry are dropped.
        start = Code(code.space, without_offsets(code.tensors), dict(code.meta)).clone().to(device)
        pivot = self._make_pivot(space, start, images)
        if self.multi_image:
            offsets = self._tune_shared(space, pivot, images)
        else:
            offsets = self._tune_per_image(space, pivot, images)
        return Code(pivot.space, with_offsets(pivot.tensors, offsets), dict(pivot.meta)).detach()

    def _make_pivot(self, space: InversionSpace, start: Code, images: torch.Tensor) -> Code:
        if self._pivot is None:
            return start
        pivot = self._pivot.refine(space, start, images)
        # Noise maps the pivot optimisation added are discarded (the official code optimises
        # them on a copy of G and tunes with G's constant noise).
        kept = {k: v for k, v in pivot.tensors.items() if k in start.tensors}
        return Code(pivot.space, kept, dict(pivot.meta))

    def _layer_names(self, space: InversionSpace) -> list[str]:
        params = space.generator.weight_parameters()
        if not params:
            raise GanInvError(
                f"pti: generator {type(space.generator).__name__} offers no tunable weights "
                "(Generator.weight_parameters); PTI needs a generator with weight offsets"
            )
        names = list(params) if self.layers is None else self.layers
        unknown = [n for n in names if n not in params]
        if unknown:
            raise GanInvError(f"pti: layers {unknown} are not tunable; choose from {list(params)}")
        return names

    def _tune_per_image(
        self, space: InversionSpace, pivot: Code, images: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        batch = pivot.batch_size
        offsets = zero_offsets(space.generator, batch, self._layer_names(space))
        params = [v.requires_grad_(True) for v in offsets.values()]
        optimizer = torch.optim.Adam(params, lr=self.tune_lr)
        final = {k: torch.zeros_like(v) for k, v in offsets.items()}
        active = torch.ones(batch, dtype=torch.bool, device=images.device)
        self.history = []
        self.stop_steps = [self.tune_steps] * batch
        rng = torch.Generator().manual_seed(self.seed)
        for step in steps(self.tune_steps, "pti", show=self.progress):
            rows = active.nonzero().flatten()
            sub = {k: v[rows] for k, v in pivot.tensors.items()}
            sub_offsets = {k: v[rows] for k, v in offsets.items()}
            fake = space.render(Code(pivot.space, with_offsets(sub, sub_offsets), pivot.meta))
            l2, lp = self._per_image_losses(images[rows], fake)
            if self.lpips_threshold is not None:
                stop = lp.detach() <= self.lpips_threshold
                if bool(stop.any()):
                    done = rows[stop]
                    for key, value in offsets.items():
                        final[key][done] = value.detach()[done]
                    active[done] = False
                    for index in done.tolist():
                        self.stop_steps[index] = step
                    if not bool(active.any()):
                        break
                    keep = ~stop
                    rows, l2, lp = rows[keep], l2[keep], lp[keep]
            # A sum over images: each image's offsets get the gradient of its own loss alone.
            loss = (self.l2_lambda * l2 + self.lpips_lambda * lp).sum()
            if self.locality and step % self.locality_interval == 0:
                wplus = space.to_wplus(
                    Code(pivot.space, {k: v[rows] for k, v in pivot.tensors.items()}, pivot.meta)
                )
                loss = loss + self._locality_loss(
                    space, wplus, {k: v[rows] for k, v in offsets.items()}, rng
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            self.history.append(float(loss.detach()) / max(len(rows), 1))
            with torch.no_grad():  # images that stopped keep the offsets that met the threshold
                stopped = ~active
                if bool(stopped.any()):
                    for key, value in offsets.items():
                        value[stopped] = final[key][stopped]
        for key, value in offsets.items():
            final[key][active] = value.detach()[active]
        return final

    def _tune_shared(
        self, space: InversionSpace, pivot: Code, images: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        batch = pivot.batch_size
        offsets = zero_offsets(space.generator, 1, self._layer_names(space))
        params = [v.requires_grad_(True) for v in offsets.values()]
        optimizer = torch.optim.Adam(params, lr=self.tune_lr)
        self.history = []
        self.stop_steps = [self.tune_steps] * batch
        rng = torch.Generator().manual_seed(self.seed)
        for step in steps(self.tune_steps, "pti multi", show=self.progress):
            total = 0.0
            for index in range(batch):
                one = pivot.select(index)
                fake = space.render(Code(one.space, with_offsets(one.tensors, offsets), one.meta))
                l2, lp = self._per_image_losses(images[index : index + 1], fake)
                loss = (self.l2_lambda * l2 + self.lpips_lambda * lp).sum()
                if self.locality and step % self.locality_interval == 0:
                    loss = loss + self._locality_loss(space, space.to_wplus(one), offsets, rng)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach())
            self.history.append(total / batch)
        return {k: v.detach().expand(batch, *v.shape[1:]).clone() for k, v in offsets.items()}

    # -- losses -----------------------------------------------------------------------------------
    def _lpips_of(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        assert self._lpips is not None
        return on_device_of(self._lpips, fake)(real, fake).flatten()

    def _per_image_losses(
        self, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(MSE [n], LPIPS [n]) per image; LPIPS is zeros when no LPIPS network is used."""
        l2 = (fake - real).square().flatten(1).mean(1)
        if self._lpips is None:
            return l2, torch.zeros_like(l2)
        return l2, self._lpips_of(real, fake)

    def _locality_loss(
        self,
        space: InversionSpace,
        wplus: torch.Tensor,
        offsets: dict[str, torch.Tensor],
        rng: torch.Generator,
    ) -> torch.Tensor:
        """Sum over images of the mean over samples of the locality term (module docstring)."""
        g = space.generator
        n, s = wplus.shape[0], self.locality_samples
        z = torch.randn(n * s, g.z_dim, generator=rng).to(wplus.device)
        with torch.no_grad():
            w_z = g.mapping(z, truncation_psi=self.locality_truncation)
            w_p = wplus.detach().repeat_interleave(s, dim=0)
            direction = w_z - w_p
            norm = direction.flatten(1).norm(dim=1).clamp_min(1e-8).reshape(-1, 1, 1)
            w_r = w_p + self.locality_alpha * direction / norm
            original = g.synthesize(w_r, noise_mode="none")
        repeated = {k: v.repeat_interleave(s, dim=0) for k, v in offsets.items()}
        tuned = g.synthesize(w_r, hooks=WeightOffsetHooks(repeated), noise_mode="none")
        l2 = (tuned - original).square().flatten(1).mean(1)
        term = self.locality_l2_lambda * l2
        if self.locality_lpips_lambda != 0:
            term = term + self.locality_lpips_lambda * self._lpips_of(original, tuned)
        return term.reshape(n, s).mean(1).sum()
