"""What an inverted code is: the `Code` container and the `InversionSpace` interface."""

from __future__ import annotations

import contextvars
import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.weight_offsets import applied_offsets, check_offsets, offsets_of, without_offsets

# Roles a space may give its code parts for generic encoders (`InversionSpace.code_part_roles`).
CODE_PART_ROLES = ("vector", "layers", "spatial", "fixed")


@dataclass
class Code:
    """A batch of inverted codes of one space: named tensors sharing the batch dimension.

    ``tensors`` e.g. ``{"wplus": [B, num_ws, w_dim]}`` or
    ``{"wplus": ..., "padding": [B, C, 34, 34]}``.
    ``space`` is the registered name of the space that made it; ``meta`` holds small JSON-able
    facts (generator name, settings) saved alongside.
    """

    space: str
    tensors: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> torch.Tensor:
        return self.tensors[key]

    @property
    def batch_size(self) -> int:
        return next(iter(self.tensors.values())).shape[0]

    def map(self, fn: Any) -> Code:
        return Code(self.space, {k: fn(v) for k, v in self.tensors.items()}, dict(self.meta))

    def to(self, device: torch.device | str) -> Code:
        return self.map(lambda t: t.to(device))

    def detach(self) -> Code:
        return self.map(lambda t: t.detach())

    def clone(self) -> Code:
        return self.map(lambda t: t.detach().clone())

    def select(self, index: int | slice | torch.Tensor) -> Code:
        """Rows of the batch (an int keeps the batch dimension)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return self.map(lambda t: t[index])

    @staticmethod
    def cat(codes: list[Code]) -> Code:
        if not codes:
            raise ValueError("Code.cat needs at least one code")
        spaces = {c.space for c in codes}
        if len(spaces) != 1:
            raise GanInvError(f"cannot concatenate codes of different spaces {sorted(spaces)}")
        keys = codes[0].tensors.keys()
        return Code(
            codes[0].space,
            {k: torch.cat([c.tensors[k] for c in codes]) for k in keys},
            dict(codes[0].meta),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Safetensors file with the space name and meta in its header (no pickle)."""
        from ganinv.core.safetensors_io import write_file

        header = {"space": self.space, "meta": json.dumps(self.meta)}
        return write_file(path, self.tensors, header)

    @staticmethod
    def load(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Code:
        from ganinv.core.safetensors_io import read_table, read_tensors

        path = Path(path)
        if not path.exists():
            raise GanInvError(f"code file {str(path)!r} does not exist")
        # The header is checked before any tensor is read (regular files only, one-line errors).
        header, _ = read_table(path, "code file")
        space = header.get("space")
        if space is None:
            raise GanInvError(
                f"{str(path)!r} has no 'space' in its header; was it saved by ganinv?"
            )
        if len(space) > 200:
            raise GanInvError(f"{str(path)!r}: header field 'space' is {len(space):,} characters")
        text = header.get("meta", "{}")
        try:
            meta = json.loads(text) if len(text) <= 1 << 20 else None
        except (ValueError, RecursionError):
            meta = None
        if not isinstance(meta, dict):
            raise GanInvError(f"{str(path)!r}: header field 'meta' is not a JSON object")
        tensors = read_tensors(path, "code file")
        return Code(space, {k: v.to(device) for k, v in tensors.items()}, meta)


class InversionSpace:
    """An inversion space bound to one generator.

    Contract: codes live on the generator's device; `render` returns [B, 3, R, R] in [-1, 1] and
    is differentiable with respect to every tensor in `trainable(code)`.

    Required of a subclass: ``name`` (equal to its registered name), `init_code` and `render`.
    Everything else is optional and has a default: `to_wplus`, `apply_direction` and `blend`
    raise a `GanInvError` saying the space does not support them (override to support editing and
    the W-norm loss); `trainable`, `regularizer`, `difference`, `add` and `check` work for any
    code; `code_part_roles` (hints for generic encoders), `latent_noise_std`, `is_noise_part` and
    `init_noise_parts` (what optimisation refiners ask) default to "nothing special".
    Refiners and generic encoders use only these methods, so a third-party space works with them.

    Weight offsets: a code of any space may also carry parts ``weight_offset.<layer>`` (one
    tuned generator per image; `ganinv.core.weight_offsets`). Every subclass's `render` is
    wrapped once, at class creation, by `_render_with_offsets`: the space's own `render` sees the
    code without those parts and runs while the generator applies them. Methods that keep the
    code's other parts (`apply_direction`, `blend`, `add`) keep the offsets.
    """

    name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "render" in cls.__dict__:
            cls.render = _render_with_offsets(cls.__dict__["render"])  # type: ignore[method-assign]

    def __init__(self, generator: Generator) -> None:
        self.generator = generator

    # -- required: creating and rendering --------------------------------------------------------
    def init_code(self, batch_size: int) -> Code:
        """The neutral starting code (e.g. w_avg), for optimisation from scratch; its parts and
        shapes are the space's code layout (generic encoders read it from ``init_code(1)``)."""
        raise NotImplementedError

    def render(self, code: Code, noise_mode: str = "const") -> torch.Tensor:
        """Images [B, 3, R, R] in [-1, 1], differentiable in the trainable tensors."""
        raise NotImplementedError

    # -- optional: W+ (editing, the W-norm loss) -------------------------------------------------
    def to_wplus(self, code: Code) -> torch.Tensor:
        """The W+ codes [B, num_ws, w_dim] this code renders with (for editing and the W-norm)."""
        raise GanInvError(
            f"space {self.name!r} has no W+ codes (to_wplus), which this operation needs (W-norm "
            "loss, encoder consistency, editing); use a space that defines to_wplus"
        )

    # -- optional: hints for generic encoders ----------------------------------------------------
    def code_part_roles(self) -> dict[str, str]:
        """How a generic encoder should predict each part of `init_code`'s code.

        Part name -> ``"vector"`` ([D], one head), ``"layers"`` ([N, D], one head per row),
        ``"spatial"`` ([C, H, W], a conv head) or ``"fixed"`` (not predicted; kept at its initial
        value). Parts not named are inferred from their shape (1, 2 or 3 dimensions besides the
        batch). Default: no hints.
        """
        return {}

    # -- optional: optimisation ------------------------------------------------------------------
    def trainable(self, code: Code) -> list[torch.Tensor]:
        """Tensors of `code` an optimiser may update (made leaf tensors requiring grad)."""
        out = []
        for key, value in list(code.tensors.items()):
            leaf = value.detach().clone().requires_grad_(True)
            code.tensors[key] = leaf
            out.append(leaf)
        return out

    def regularizer(self, code: Code) -> torch.Tensor:
        """The space's own penalty (0 by default)."""
        return torch.zeros((), device=self.generator.w_avg.device)

    def latent_noise_std(self, key: str) -> float | None:
        """Scale of the random perturbation an optimiser adds to part `key` early in a run (the
        StyleGAN2 projector's "noise ramp"); None: the part is not perturbed.

        Default: the generator's W spread (RMS distance of mapped samples from their mean, 10 000
        seeded z, computed once) for parts named ``w`` or ``wplus``; None for any other part.
        """
        if key not in ("w", "wplus"):
            return None
        cached = getattr(self, "_w_spread", None)
        if cached is None:
            from ganinv.core.latent_stats import w_std

            cached = w_std(self.generator)
            self._w_spread = cached
        return cached

    def is_noise_part(self, key: str) -> bool:
        """Whether part `key` holds per-image synthesis noise maps [B, 1, R, R] (optimisers keep
        them unperturbed, regularise and renormalise them; encoders do not predict them).
        Default: no part is."""
        return False

    def init_noise_parts(self, batch_size: int, seed: int) -> dict[str, torch.Tensor]:
        """Fresh per-image noise-map parts to add to a code (noise optimisation). Default: the
        space renders no per-image noise, so this raises a `GanInvError`."""
        raise GanInvError(
            f"space {self.name!r} cannot render per-image noise maps; set optimize_noise: false "
            "or use a space that supports them (z, w, wplus, sdic)"
        )

    # -- optional: editing -----------------------------------------------------------------------
    def apply_direction(self, code: Code, direction: torch.Tensor, strength: float) -> Code:
        """Move along a latent direction ([w_dim] or [num_ws, w_dim]) in W+; other parts kept."""
        raise GanInvError(
            f"space {self.name!r} does not support edit directions (apply_direction); edit in a "
            "space that does, e.g. 'wplus'"
        )

    def blend(self, structure: Code, appearance: Code) -> Code:
        """A code with the spatial structure of one image and the appearance of another."""
        raise GanInvError(
            f"space {self.name!r} does not support blending structure and appearance (blend); "
            "blend in a space that does, e.g. 'wplus'"
        )

    def difference(self, edited: Code, source: Code) -> Code:
        """The edit that turns `source` into `edited` (one-pair custom editing)."""
        self.check(edited)
        self.check(source)
        return Code(
            self.name, {k: edited[k] - source[k] for k in source.tensors}, dict(source.meta)
        )

    def add(
        self, code: Code, delta: Code, alpha: float = 1.0, parts: list[str] | None = None
    ) -> Code:
        """``code + alpha * delta`` on the chosen tensors (all when `parts` is None)."""
        chosen = list(code.tensors) if parts is None else parts
        unknown = [p for p in chosen if p not in code.tensors]
        if unknown:
            raise GanInvError(
                f"space {self.name!r} has no code part(s) {unknown}; parts: {list(code.tensors)}"
            )
        return Code(
            code.space,
            {k: (v + alpha * delta[k] if k in chosen else v) for k, v in code.tensors.items()},
            dict(code.meta),
        )

    def check(self, code: Code) -> None:
        """Raise a `GanInvError` for a code this space cannot render (another space's)."""
        if code.space != self.name:
            raise GanInvError(
                f"code of space {code.space!r} given to space {self.name!r}; invert again with "
                f"{self.name!r} or use the matching space"
            )


def _render_with_offsets(render: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Wrap a space's `render`: the code's weight offsets are checked against the generator and
    applied to every synthesis inside; the space renders the code without them.

    A call nested in a render of the same space (a subclass's `render` calling
    ``super().render``) with a code that has no offsets of its own keeps the enclosing offsets;
    any other render of a code without offsets runs with none."""

    @functools.wraps(render)
    def wrapped(self: InversionSpace, code: Code, *args: Any, **kwargs: Any) -> torch.Tensor:
        offsets = offsets_of(code.tensors)
        if offsets:
            code = Code(code.space, without_offsets(code.tensors), code.meta)
            check_offsets(self.generator, offsets, code.batch_size)
        elif id(self) in _RENDERING.get():
            return render(self, code, *args, **kwargs)
        token = _RENDERING.set(_RENDERING.get() | {id(self)})
        try:
            with applied_offsets(offsets):
                return render(self, code, *args, **kwargs)
        finally:
            _RENDERING.reset(token)

    return wrapped


# Spaces (by id) whose wrapped `render` is running in this context.
_RENDERING: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "ganinv_rendering_spaces", default=frozenset()
)
