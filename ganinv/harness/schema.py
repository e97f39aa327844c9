"""Config schemas of the harness: a method, training, evaluation and a benchmark grid.

Every schema is a dataclass validated strictly by `ganinv.core.config.from_dict` (unknown keys are
errors with a suggestion). Component sections (space, encoder, refiner, dataset, metric) are either
a registered name or ``{name: ..., **arguments}``; their arguments are checked against the
registered constructor when they are built. Numeric keys carry their range (`PositiveInt`, ...),
so an impossible number (``batch_size: 0``, ``lr: -1``, ``every: 0``) fails when the config is read.
Path keys are typed `PathStr` / `PathOrName`: they are made absolute when a config is read and
saved (`ganinv.core.config_paths`), so a saved config works from any working folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from ganinv.core.config import (
    AdamBetas,
    Keys,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Probability,
    Range,
    Seed,
)
from ganinv.core.config_paths import PathOrName, PathStr
from ganinv.harness.resize import CompareResize

Spec = str | dict[str, Any]
# Arguments every built-in dataset takes, checked when the config is read (the rest when the
# dataset is built); `ganinv train-gan` narrows `resolution` to a power of two. `path` is a path
# (stored absolute; a dataset registered by a plugin uses it for the same).
DATASET_ARGUMENTS: dict[str, Any] = {
    "path": PathStr | None,
    "resolution": PositiveInt,
    "pad": NonNegativeInt,
    "limit": PositiveInt,
    "test_fraction": Probability,
    "seed": Seed,
}
DataSpec = str | Annotated[dict[str, Any], Keys(**DATASET_ARGUMENTS)]
# A loss is a weight, or ``{weight: w, **arguments of the loss}``.
LossSpec = NonNegativeFloat | Annotated[dict[str, Any], Keys(weight=NonNegativeFloat)]


@dataclass
class MethodConfig:
    """One inversion method: generator x space x (encoder or none) x (refiner or none).

    generator:          checkpoint path or weights-catalogue name (may come from
                        `encoder_checkpoint` or, in a benchmark, from the grid's shared generator)
    space:              the inversion space spec (may come from `encoder_checkpoint`)
    encoder:            encoder spec, or null for optimisation-only methods
    encoder_checkpoint: an encoder exported by `ganinv train` (``encoder_*.safetensors``); it
                        carries its generator, space and encoder specs, so it alone is enough
                        (paths in it resolve relative to the file, so it works from any folder)
    refiner:            refiner spec, or null for encoder-only methods
    label:              the row name in tables (default: derived from the parts)
    imports:            Python modules to import first, so components they register with the
                        registry decorators can be named without packaging them as a plugin.
                        Only what the user writes here or types on the command line is imported,
                        never a list read from a file (an exported encoder's header)
    """

    generator: PathOrName | None = None
    space: Spec | None = None
    encoder: Spec | None = None
    encoder_checkpoint: PathOrName | None = None  # a file or a registry card name
    refiner: Spec | None = None
    label: str = ""
    imports: list[str] = field(default_factory=list)


@dataclass
class LookaheadConfig:
    """Lookahead (Zhang et al. 2019): every `k` steps the slow weights move `alpha` of the way to
    the fast weights, which are then reset to them."""

    k: PositiveInt = 6
    alpha: Annotated[float, Range(low=0, high=1, low_open=True)] = 0.5


@dataclass
class OptimizerConfig:
    """Adam / AdamW / RAdam, optionally with gradient centralisation and Lookahead.

    ``{name: radam, lr: 0.001, betas: [0.95, 0.999], eps: 1.0e-5, gradient_centralization: true,
    lookahead: {k: 6, alpha: 0.5}}`` is Ranger as pSp / e4e / SDIC use it.
    """

    name: Literal["adam", "adamw", "radam"] = "adam"
    lr: PositiveFloat = 1e-4
    betas: AdamBetas = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: NonNegativeFloat = 0.0
    eps: PositiveFloat = 1e-8  # torch's default for all three
    gradient_centralization: bool = False  # subtract each weight gradient's mean (dims 1..)
    lookahead: LookaheadConfig | None = None


@dataclass
class ScheduleConfig:
    """Learning-rate factor per step: linear warm-up, then constant, cosine or exponential decay
    (``decay_rate ** (step / decay_steps)``, continuous, as TF's ``exponential_decay``)."""

    name: Literal["constant", "cosine", "exponential"] = "constant"
    warmup_steps: NonNegativeInt = 0
    min_factor: Probability = 0.0  # cosine ends at lr * min_factor
    decay_rate: PositiveFloat = 1.0  # exponential only
    decay_steps: PositiveInt = 1  # exponential only


@dataclass
class DiscriminatorConfig:
    """A discriminator trained alongside the encoder, started from the GAN's own.

    The encoder's adversarial term is the registered ``adversarial`` loss (give it a weight in
    ``losses``), which reads this discriminator. The discriminator takes a non-saturating step
    every training step and an R1 step every `r1_interval` steps (lazy regularisation: the
    penalty is scaled by the interval, as in StyleGAN2). With ``r1_lazy: false`` the penalty is
    instead part of every discriminator step (PadInv's released code).
    """

    checkpoint: PathOrName | None = None  # default: the method's generator checkpoint
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    r1_gamma: NonNegativeFloat = 10.0
    r1_interval: PositiveInt = 16
    r1_lazy: bool = True


@dataclass
class ValidationConfig:
    data: DataSpec
    every: PositiveInt = 1000
    metrics: list[Spec] = field(default_factory=lambda: ["mse"])
    best_metric: str = "mse"  # the metric that decides which checkpoint is "best"
    batch_size: PositiveInt = 8


@dataclass
class TrainConfig:
    """`ganinv train`: one generic loop for every encoder-based method.

    losses:             registered loss name -> weight, or -> {weight: w, **arguments}
    extra_loss_weights: weights of the encoder's own `extra_losses(code)` terms (by name);
                        a term without a weight here is an error, so nothing is silently dropped
    batch_size:         the global batch; each of N processes takes batch_size / N
    """

    method: MethodConfig
    data: DataSpec
    losses: dict[str, LossSpec]
    extra_loss_weights: dict[str, NonNegativeFloat] = field(default_factory=dict)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    discriminator: DiscriminatorConfig | None = None
    validation: ValidationConfig | None = None
    steps: PositiveInt = 1000
    batch_size: PositiveInt = 8
    seed: Seed = 0
    out: PathStr = "runs/train"
    checkpoint_every: PositiveInt = 500
    log_every: PositiveInt = 10
    grad_clip: PositiveFloat | None = None
    num_workers: NonNegativeInt = 0
    tensorboard: bool = False
    progress: bool = True


@dataclass
class EvalConfig:
    """`ganinv eval`: one method on a test split."""

    method: MethodConfig
    data: DataSpec
    metrics: list[Spec] = field(default_factory=lambda: ["mse"])
    batch_size: PositiveInt = 8
    compare_resize: CompareResize = "area"  # reconstruction -> target size for the metrics
    out: PathStr = "runs/eval"
    seed: Seed = 0
    progress: bool = True


@dataclass
class EditabilityConfig:
    """The editability part of `ganinv bench` (docs/metrics.md, "Editability protocol").

    Every method inverts the first `images` images of class `source_class` of `data`, moves the
    codes along `direction` (a direction file) by each of `strengths` through its space's
    `apply_direction`, and is scored on: edit success (the rate at which `classifier` assigns
    `target_class` to the edited images), preservation (`preservation` metrics between edited and
    unedited reconstructions) and `distribution` (a metric between the edited images and as many
    real images of `target_class` of `data`; null: none).
    """

    direction: PathOrName  # a direction file or its registry card name
    classifier: PathOrName
    data: DataSpec
    source_class: NonNegativeInt
    target_class: NonNegativeInt
    strengths: list[Annotated[float, Range(low=-1000, high=1000)]]
    images: PositiveInt = 64
    preservation: list[Spec] = field(default_factory=lambda: ["lpips_alex", "ssim"])
    distribution: Spec | None = "swd"


@dataclass
class BenchConfig:
    """`ganinv bench`: a grid of methods on one test split, with tables, grids and a report.

    generator: the default generator of every method that does not name one
    grid_images: how many test images the image grids show
    editability: edit each method's inversions along a direction and score the edits
    """

    data: DataSpec
    methods: list[MethodConfig]
    generator: PathOrName | None = None
    metrics: list[Spec] = field(default_factory=lambda: ["mse"])
    batch_size: PositiveInt = 8
    compare_resize: CompareResize = "area"  # reconstruction -> target size for the metrics
    out: PathStr = "runs/bench"
    seed: Seed = 0
    grid_images: NonNegativeInt = 4
    title: str = "ganinv benchmark"
    progress: bool = True
    editability: EditabilityConfig | None = None  # the second table (null: none)
