"""Reproduction recipes (`configs/reproduce/<name>.yaml`): assets, training, benchmark, protocol.

A recipe ties together the asset cards it needs, the training config(s) it runs with
``ganinv train``, the benchmark config that prints the comparison table with ``ganinv bench``,
the metric protocol notes and the target numbers with their sources. Asset locations reach the
configs as ``key=value`` overrides: ``assets: {method.generator: generator}`` in a training step
sets that config key to the file found for the recipe's ``generator`` need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganinv.core.config import PositiveInt, from_dict, read_yaml
from ganinv.core.errors import GanInvError


@dataclass
class AssetNeed:
    """One thing the recipe needs; any one of `cards` satisfies it (the first present wins).

    networks: for generator files, the networks the file must hold (``discriminator`` when the
              recipe trains against the GAN's own discriminator)
    """

    role: str
    cards: list[str]
    why: str = ""
    networks: list[str] = field(default_factory=list)


@dataclass
class TrainStep:
    """One ``ganinv train`` run: a `TrainConfig` file, overrides, and asset-fed keys."""

    label: str
    config: str
    assets: dict[str, str] = field(default_factory=dict)  # config key -> role
    overrides: list[str] = field(default_factory=list)
    gpus: PositiveInt | None = None  # the original run's GPUs for this step (default: compute.gpus)


@dataclass
class BenchStep:
    """The ``ganinv bench`` run that prints the comparison table."""

    config: str
    assets: dict[str, str] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)


@dataclass
class Target:
    """Published numbers for one table row, with where they come from."""

    row: str
    source: str
    verified: bool
    values: dict[str, float | None] = field(default_factory=dict)
    protocol: str = ""
    note: str = ""


@dataclass
class Compute:
    """The original run's hardware, used for the plan (per-GPU batch, GPU hours)."""

    gpus: PositiveInt = 8
    note: str = ""


@dataclass
class Recipe:
    name: str
    title: str
    paper: str
    assets: list[AssetNeed]
    train: list[TrainStep] = field(default_factory=list)
    bench: BenchStep | None = None
    compute: Compute = field(default_factory=Compute)
    protocol: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)


def recipe_path(name_or_path: str, recipes_dir: str | Path = "configs/reproduce") -> Path:
    """The YAML file of a recipe given by name (``padinv_ffhq``) or path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise GanInvError(f"recipe file {str(path)!r} does not exist")
        return path
    candidate = Path(recipes_dir) / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    known = available_recipes(recipes_dir)
    import difflib

    close = difflib.get_close_matches(name_or_path, known, n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    raise GanInvError(
        f"unknown recipe {name_or_path!r}: {hint}known in {recipes_dir}: "
        f"{', '.join(known) or '(none)'} (run from the repository root or pass --recipes DIR)"
    )


def available_recipes(recipes_dir: str | Path = "configs/reproduce") -> list[str]:
    directory = Path(recipes_dir)
    if not directory.is_dir():
        return []
    # The folder also holds the recipes' benchmark configs: a recipe has `paper` and `assets`.
    return sorted(p.stem for p in directory.glob("*.yaml") if _is_recipe(p))


def _is_recipe(path: Path) -> bool:
    try:
        data = read_yaml(path)
    except GanInvError:
        return False
    return "assets" in data and "paper" in data


def load_recipe(name_or_path: str, recipes_dir: str | Path = "configs/reproduce") -> Recipe:
    """A recipe, validated strictly; roles named by steps must be declared in `assets`."""
    path = recipe_path(name_or_path, recipes_dir)
    try:
        recipe = from_dict(Recipe, read_yaml(path))
    except GanInvError as exc:
        raise GanInvError(f"{path}: {exc}") from exc
    roles = [need.role for need in recipe.assets]
    if len(set(roles)) != len(roles):
        raise GanInvError(f"{path}: asset roles must be unique, got {roles}")
    steps: list[Any] = [*recipe.train, *([recipe.bench] if recipe.bench else [])]
    for step in steps:
        for key, role in step.assets.items():
            if role not in roles:
                raise GanInvError(
                    f"{path}: {step.config} key {key!r} names asset role {role!r}, which the "
                    f"recipe does not declare (roles: {', '.join(roles)})"
                )
    return recipe
