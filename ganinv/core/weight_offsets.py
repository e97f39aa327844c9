"""Codes that carry generator weight offsets: one tuned generator per image, never in place.

PTI and HyperStyle change the generator for each image. ganinv expresses that as part of the
code: a code of ANY space may carry parts ``weight_offset.<layer name>`` of shape
[B, *weight shape] (e.g. ``weight_offset.b16.conv1`` [B, O, I, 3, 3]); image b renders with the
layer weight ``W + offset[b]`` (raw parameter units, before the style modulation). Only the
layers a method tunes are present; every other layer uses the shared weight.

How offsets reach the generator, without any space knowing about them:

* `InversionSpace.render` (every subclass, wrapped once at class creation) splits the offset
  parts off the code, checks them against the generator, and renders the rest inside
  `applied_offsets(offsets)`;
* inside that block a generator's `synthesize` wraps whatever hooks the space passed in
  `WeightOffsetHooks` (`hooks_with_active_offsets`), so the one hook point
  `SynthesisHooks.weight_offset(layer)` answers the offsets;
* code that calls `synthesize` directly may pass ``WeightOffsetHooks(offsets)`` itself.

Saving a code saves its offsets (they are ordinary code parts); edit directions change the
latent parts and keep the offsets, so they apply on top of the tuned weights. With no offsets the
generator takes its plain path (bit-identical output).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator, LayerInfo, SynthesisHooks

OFFSET_PREFIX = "weight_offset."

# Offsets of the render in progress (layer name -> [B or 1, *weight shape]); empty outside.
_ACTIVE: contextvars.ContextVar[dict[str, torch.Tensor] | None] = contextvars.ContextVar(
    "ganinv_weight_offsets", default=None
)


def offset_key(layer_name: str) -> str:
    """The code part that holds the offsets of layer `layer_name` (e.g. ``b16.conv1``)."""
    return f"{OFFSET_PREFIX}{layer_name}"


def is_offset_key(key: str) -> bool:
    return key.startswith(OFFSET_PREFIX)


def offsets_of(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The weight offsets among a code's parts, by layer name."""
    return {k[len(OFFSET_PREFIX) :]: v for k, v in tensors.items() if is_offset_key(k)}


def without_offsets(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A code's parts other than weight offsets (what the space itself renders)."""
    return {k: v for k, v in tensors.items() if not is_offset_key(k)}


def with_offsets(
    tensors: dict[str, torch.Tensor], offsets: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """`tensors` with `offsets` (layer name -> tensor) added as parts (replacing earlier ones)."""
    out = without_offsets(tensors)
    out.update({offset_key(name): value for name, value in offsets.items()})
    return out


def check_offsets(generator: Generator, offsets: dict[str, torch.Tensor], batch: int) -> None:
    """Raise a `GanInvError` unless every offset names a tunable layer of `generator` and has
    shape [batch, *that layer's weight shape] (a code holds one offset per image)."""
    if not offsets:
        return
    params = generator.weight_parameters()
    for name, value in offsets.items():
        if name not in params:
            raise GanInvError(
                f"code part {offset_key(name)!r}: generator {type(generator).__name__} has no "
                f"tunable layer {name!r} (layers: {sorted(params)}); the code was made for "
                "another generator"
            )
        shape = tuple(params[name].shape)
        if value.ndim != len(shape) + 1 or tuple(value.shape[1:]) != shape:
            raise GanInvError(
                f"code part {offset_key(name)!r} has shape {list(value.shape)}; layer {name} "
                f"needs [B, {', '.join(map(str, shape))}]; the code was made for another generator"
            )
        if value.shape[0] != batch:
            raise GanInvError(
                f"code part {offset_key(name)!r} holds {value.shape[0]} offsets for a batch of "
                f"{batch} codes"
            )


def zero_offsets(
    generator: Generator, batch_size: int, layers: list[str] | None = None
) -> dict[str, torch.Tensor]:
    """Zero offsets [B, *weight shape] for `layers` (all tunable layers when None)."""
    params = generator.weight_parameters()
    names = list(params) if layers is None else layers
    unknown = [n for n in names if n not in params]
    if unknown:
        raise GanInvError(f"no tunable layer(s) {unknown}; layers: {list(params)}")
    return {n: torch.zeros((batch_size, *params[n].shape), device=params[n].device) for n in names}


class WeightOffsetHooks(SynthesisHooks):
    """Hooks that add per-image weight offsets (layer name -> [B or 1, *weight shape]) and pass
    everything else to `inner` (another space's hooks, or none)."""

    def __init__(
        self, offsets: dict[str, torch.Tensor], inner: SynthesisHooks | None = None
    ) -> None:
        self.offsets = offsets
        self.inner = inner if inner is not None else SynthesisHooks()

    def const_input(self, const: torch.Tensor) -> torch.Tensor:
        return self.inner.const_input(const)

    def padding(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor | None:
        return self.inner.padding(layer, x)

    def feature(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor:
        return self.inner.feature(layer, x)

    def weight_offset(self, layer: LayerInfo) -> torch.Tensor | None:
        mine = self.offsets.get(layer.name)
        theirs = self.inner.weight_offset(layer)
        if mine is None or theirs is None:
            return mine if theirs is None else theirs
        return mine + theirs


@contextlib.contextmanager
def applied_offsets(offsets: dict[str, torch.Tensor]) -> Iterator[None]:
    """Inside the block, every `synthesize` call applies `offsets` (see the module docstring).

    Always sets the value (an empty dict too), so a render nested in another render's block
    never inherits the outer code's offsets.
    """
    token = _ACTIVE.set(offsets)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def hooks_with_active_offsets(hooks: SynthesisHooks | None) -> SynthesisHooks | None:
    """For a generator's `synthesize`: `hooks` unchanged when no offsets are active (the plain
    path stays the plain path), else `hooks` wrapped to also answer the active offsets."""
    active = _ACTIVE.get()
    if not active:
        return hooks
    return WeightOffsetHooks(active, hooks)


def tuned_copy(generator: Generator, offsets: dict[str, torch.Tensor], index: int) -> Generator:
    """A standalone copy of `generator` whose weights are ``W + offsets[layer][index]`` (what image
    `index` of a code renders with); the shared generator is not changed."""
    import copy

    batch = next(iter(offsets.values())).shape[0] if offsets else 1
    check_offsets(generator, offsets, batch)
    if not 0 <= index < batch:
        raise GanInvError(f"image index {index} is out of range; the code holds {batch} images")
    tuned = copy.deepcopy(generator)
    params = tuned.weight_parameters()
    with torch.no_grad():
        for name, value in offsets.items():
            params[name].add_(value[index].to(params[name]))
    return tuned
