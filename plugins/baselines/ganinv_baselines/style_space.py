"""What the Z, W and W+ spaces share: rendering through W+, optional per-image noise, statistics."""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator, NoiseMode
from ganinv.core.space import Code, InversionSpace
from ganinv_baselines.latent_stats import check_sample_count, w_std
from ganinv_baselines.noise import initial_noise, is_noise_key, noise_override


class StyleSpace(InversionSpace):
    """Base of the baseline spaces: a code is one latent part (``latent_key``) plus, optionally,
    per-image noise maps ``noise.<i>`` [B, 1, R, R] (made by the ``optimize`` refiner with
    ``optimize_noise: true``; see `ganinv_baselines.noise`).

    Subclasses implement `to_wplus`, `init_code`, `latent_shape` and `apply_direction`.
    `w_std_samples` random z estimate the projector's W spread (`latent_noise_std`), lazily, in
    chunks (at most `MAX_SAMPLES` draws).
    """

    latent_key: str = ""

    def __init__(self, generator: Generator, w_std_samples: int = 10000) -> None:
        super().__init__(generator)
        self.w_std_samples = check_sample_count(w_std_samples, "w_std_samples")
        self._w_std: float | None = None

    # -- shapes ---------------------------------------------------------------------------------
    def latent_shape(self) -> tuple[int, ...]:
        """Shape of the latent part without the batch dimension."""
        raise NotImplementedError

    def make_code(self, latent: torch.Tensor) -> Code:
        """Wrap a latent tensor [B, *latent_shape] as a code of this space."""
        if tuple(latent.shape[1:]) != self.latent_shape():
            raise GanInvError(
                f"space {self.name!r} expects codes of shape [B, *{list(self.latent_shape())}], "
                f"got {list(latent.shape)}"
            )
        return Code(self.name, {self.latent_key: latent})

    def latent(self, code: Code) -> torch.Tensor:
        self.check(code)
        if self.latent_key not in code.tensors:
            raise GanInvError(
                f"code of space {self.name!r} has no part {self.latent_key!r} "
                f"(parts: {list(code.tensors)}); was it written by another version?"
            )
        latent = code[self.latent_key]
        if tuple(latent.shape[1:]) != self.latent_shape():
            raise GanInvError(
                f"code part {self.latent_key!r} has shape {list(latent.shape)}, but this generator "
                f"needs [B, {', '.join(map(str, self.latent_shape()))}]; the code was made for "
                "another generator"
            )
        return latent

    # -- a part beside the latent (SDIC's residual, HFGI's distortion map, the F space's feature) --
    def add_part(
        self,
        code: Code,
        key: str,
        value: torch.Tensor,
        shape: tuple[int, ...],
        what: str,
        where: str = "",
    ) -> Code:
        """`code` with `value` [B, *shape] as part `key`; another shape is a `GanInvError`
        "the <what> must be [B, ...]<where>, got [...]"."""
        if tuple(value.shape[1:]) != tuple(shape):
            raise GanInvError(
                f"the {what} must be [B, {', '.join(map(str, shape))}]{where}, got "
                f"{list(value.shape)}"
            )
        code.tensors[key] = value
        return code

    def required_part(
        self, code: Code, key: str, shape: tuple[int, ...], what: str, mismatch: str
    ) -> torch.Tensor:
        """Part `key` [B, *shape] of a code of this space: a code of another space, without the
        part or with another shape is a `GanInvError` (the last: "the code's <what> has shape
        [...], but <mismatch>")."""
        self.check(code)
        if key not in code.tensors:
            raise GanInvError(
                f"code of space {self.name!r} has no {key!r} part (parts: {list(code.tensors)})"
            )
        value = code[key]
        if tuple(value.shape[1:]) != tuple(shape):
            raise GanInvError(f"the code's {what} has shape {list(value.shape)}, but {mismatch}")
        return value

    # -- rendering ------------------------------------------------------------------------------
    def render(self, code: Code, noise_mode: NoiseMode = "const") -> torch.Tensor:
        """Images [B, 3, R, R] in [-1, 1]; a code's own noise maps replace the constant noise
        (they are used only with ``noise_mode="const"``)."""
        ws = self.to_wplus(code)
        noises = {k: v for k, v in code.tensors.items() if is_noise_key(k)}
        if noise_mode != "const":
            noises = {}
        with noise_override(self.generator, noises):
            return self.generator.synthesize(ws, noise_mode=noise_mode)

    # -- optimisation support -------------------------------------------------------------------
    def w_std(self) -> float:
        """The projector's scalar W spread (RMS distance of W samples from their mean)."""
        if self._w_std is None:
            self._w_std = w_std(self.generator, self.w_std_samples)
        return self._w_std

    def latent_noise_std(self, key: str) -> float | None:
        """Scale of the projector's annealed perturbation for code part `key` (None: no noise):
        the W spread for the latent part (from `w_std_samples` draws); noise maps are never
        perturbed."""
        if key == self.latent_key:
            return self.w_std()
        return None

    def is_noise_part(self, key: str) -> bool:
        return is_noise_key(key)

    def init_noise_parts(self, batch_size: int, seed: int) -> dict[str, torch.Tensor]:
        """N(0, 1) maps ``noise.<i>`` [B, 1, R, R], one per generator noise buffer."""
        return initial_noise(self.generator, batch_size, seed=seed)

    # -- editing --------------------------------------------------------------------------------
    def _direction_wplus(self, direction: torch.Tensor) -> torch.Tensor:
        """A direction as [num_ws, w_dim] (a [w_dim] direction applies to every layer)."""
        g = self.generator
        if direction.shape == (g.w_dim,):
            return direction.expand(g.num_ws, g.w_dim)
        if direction.shape == (g.num_ws, g.w_dim):
            return direction
        raise GanInvError(
            f"an edit direction must have shape [{g.w_dim}] or [{g.num_ws}, {g.w_dim}] for this "
            f"generator, got {list(direction.shape)}"
        )

    def _with_latent(self, code: Code, latent: torch.Tensor) -> Code:
        tensors = dict(code.tensors)
        tensors[self.latent_key] = latent
        return Code(code.space, tensors, dict(code.meta))
