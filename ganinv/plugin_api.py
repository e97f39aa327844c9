"""What a plugin may import from ganinv: the public surface, in one module.

A plugin (a space, encoder, refiner, loss, metric, dataset or generator in its own distribution)
imports either the names below (``from ganinv.plugin_api import InversionSpace, Code``) or the
modules of `PUBLIC_MODULES` they come from, plus the ``ganinv`` facade (``ganinv.build``,
``ganinv.registry``, ``ganinv.load_generator``, ``ganinv.GanInvError``) and ``ganinv.testing``.
Everything else (``ganinv.harness``, ``ganinv.cli``, ``_``-prefixed modules, ...) is internal
and may change without notice; `tests/core/test_layering.py` checks that no plugin shipped here
imports it. Every module of this surface sits below the harness: it imports nothing from
``ganinv.harness`` or ``ganinv.cli`` (``ganinv.testing`` excepted, which drives the harness).
"""

from __future__ import annotations

from ganinv.checkpoints.encoder_file import load_exported_encoder, read_encoder_file
from ganinv.checkpoints.frozen_base import load_base_encoder, load_e4e_base
from ganinv.checkpoints.safe_load import check_state, check_tensor, torch_load
from ganinv.core.components import build_component, spec_name
from ganinv.core.config import PositiveFloat, PositiveInt, Range
from ganinv.core.encoder import ENCODER_INPUT_RESIZE, Encoder, to_encoder_input
from ganinv.core.errors import GanInvError
from ganinv.core.generator import (
    Generator,
    LayerInfo,
    NoiseMode,
    SynthesisHooks,
    first_feature_layer,
)
from ganinv.core.latent_stats import sample_w, w_std
from ganinv.core.progress import Cancelled, steps
from ganinv.core.refiner import Refiner, check_targets
from ganinv.core.registry import (
    DATASETS,
    ENCODERS,
    GENERATORS,
    LOSSES,
    METRICS,
    REFINERS,
    SPACES,
    Registry,
    build,
    registry,
)
from ganinv.core.safetensors_io import read_table, read_tensors, write_file
from ganinv.core.space import CODE_PART_ROLES, Code, InversionSpace
from ganinv.core.weight_offsets import (
    WeightOffsetHooks,
    offset_key,
    offsets_of,
    with_offsets,
    zero_offsets,
)
from ganinv.losses.base import Loss, LossInputs
from ganinv.losses.frozen import (
    FrozenNetworkLoss,
    attach_frozen,
    frozen_forward,
    on_device_of,
)
from ganinv.metrics.base import Metric, MetricResult

# Modules (and packages, with every submodule) a plugin may import. The ``ganinv`` facade itself
# is public too, as the module alone (not as a prefix of everything).
PUBLIC_MODULES: tuple[str, ...] = (
    "ganinv.plugin_api",
    "ganinv.testing",
    # interfaces, registry, errors, configs, shared helpers
    "ganinv.core.errors",
    "ganinv.core.registry",
    "ganinv.core.config",
    "ganinv.core.components",
    "ganinv.core.space",
    "ganinv.core.weight_offsets",
    "ganinv.core.generator",
    "ganinv.core.encoder",
    "ganinv.core.refiner",
    "ganinv.core.latent_stats",
    "ganinv.core.progress",
    "ganinv.core.images",
    "ganinv.core.io",
    "ganinv.core.safetensors_io",
    # losses and metrics: the base classes and frozen-network placement
    "ganinv.losses.base",
    "ganinv.losses.frozen",
    "ganinv.metrics.base",
    # reading files safely: exported encoders (also as a frozen base), weights-only torch files,
    # plain tensors
    "ganinv.checkpoints.encoder_file",
    "ganinv.checkpoints.frozen_base",
    "ganinv.checkpoints.safe_load",
    # shared network architectures (IR-SE, VGG16 features, LPIPS, face ID) and their weights
    "ganinv.nets",
    "ganinv.weights",
)

__all__ = [
    "CODE_PART_ROLES",
    "DATASETS",
    "ENCODERS",
    "ENCODER_INPUT_RESIZE",
    "GENERATORS",
    "LOSSES",
    "METRICS",
    "PUBLIC_MODULES",
    "REFINERS",
    "SPACES",
    "Cancelled",
    "Code",
    "Encoder",
    "FrozenNetworkLoss",
    "GanInvError",
    "Generator",
    "InversionSpace",
    "LayerInfo",
    "Loss",
    "LossInputs",
    "Metric",
    "MetricResult",
    "NoiseMode",
    "PositiveFloat",
    "PositiveInt",
    "Range",
    "Refiner",
    "Registry",
    "SynthesisHooks",
    "WeightOffsetHooks",
    "attach_frozen",
    "build",
    "build_component",
    "check_state",
    "check_targets",
    "check_tensor",
    "first_feature_layer",
    "frozen_forward",
    "load_base_encoder",
    "load_e4e_base",
    "load_exported_encoder",
    "offset_key",
    "offsets_of",
    "on_device_of",
    "read_encoder_file",
    "read_table",
    "read_tensors",
    "registry",
    "sample_w",
    "spec_name",
    "steps",
    "to_encoder_input",
    "torch_load",
    "w_std",
    "with_offsets",
    "write_file",
    "zero_offsets",
]
