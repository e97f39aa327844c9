"""The editability part of `ganinv bench`: how well each method's inversions edit.

For every method: invert the source images (the first N images of one class), move each code
along one direction by each strength through the method's space (`space.apply_direction`, so any
space that supports directions takes part, third-party ones included), render, and measure

- edit success: the rate at which a classifier assigns the target class to the edited images
  (``success@s``); the same rate for the unedited reconstructions (``target_rate@0``) is the
  baseline it starts from;
- preservation: metrics between the edited and the unedited reconstruction of each image
  (default LPIPS-alex and SSIM; ``lpips_alex@s``...);
- distribution: a metric between the edited images and as many real images of the target class
  (default SWD, the analogue of editing FID; ``swd@s``, and ``swd@0`` for the unedited ones).

A space that does not support directions (its `apply_direction` raises `GanInvError`) gets a row
without values and the reason in its record. Direction and classifier files are recorded with
their sha256 in the protocol. The work is not sharded: under torch.distributed every process
computes the same values (no reduction), so the record is the same on every rank.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganinv.checkpoints.direction_file import load_direction_file
from ganinv.core.components import build_component, spec_name
from ganinv.core.config import to_dict
from ganinv.core.errors import GanInvError
from ganinv.harness.data import build_dataset, image_of
from ganinv.harness.evaluate import split_name
from ganinv.harness.method import Method
from ganinv.harness.resize import to_size_of
from ganinv.harness.schema import EditabilityConfig
from ganinv.harness.tables import BenchTable, Column
from ganinv.metrics.base import Metric
from ganinv.nets.fmnist_classifier import LoadedClassifier, load_classifier
from ganinv.weights.cache import sha256_file


@dataclass
class EditContext:
    """What every method is edited and judged with (built once per bench)."""

    config: EditabilityConfig
    direction: torch.Tensor
    classifier: LoadedClassifier
    source: torch.Tensor  # [N, 3, H, W] in [-1, 1], CPU
    target: torch.Tensor  # [N, 3, H, W]: real images of the target class (distribution metric)
    protocol: dict[str, Any]

    def check_generator(self, generator: Any) -> None:
        """A direction must fit the generator's W ([w_dim]) or W+ ([num_ws, w_dim])."""
        shape = tuple(self.direction.shape)
        fits = shape == (generator.w_dim,) or shape == (generator.num_ws, generator.w_dim)
        if not fits:
            raise GanInvError(
                f"editability.direction {self.config.direction!r} has shape {list(shape)}; the "
                f"generator needs [{generator.w_dim}] or [{generator.num_ws}, {generator.w_dim}]"
                " (learn the direction on this generator)"
            )


def _class_images(dataset: Any, labels: Any, wanted: int, count: int) -> torch.Tensor:
    positions = [i for i, y in enumerate(labels.tolist()) if y == wanted][:count]
    return torch.stack([image_of(dataset[i]) for i in positions]) if positions else torch.empty(0)


def prepare_editability(config: EditabilityConfig, device: torch.device) -> EditContext:
    """Read the direction, the classifier and the source/target images; check they fit together."""
    if not config.strengths or not all(math.isfinite(s) for s in config.strengths):
        raise GanInvError("editability.strengths must list at least one finite number")
    if config.source_class == config.target_class:
        raise GanInvError("editability.source_class and target_class must differ")
    direction, direction_info = load_direction_file(config.direction)
    classifier = load_classifier(config.classifier, device)
    names = classifier.class_names
    for key in ("source_class", "target_class"):
        if getattr(config, key) >= len(names):
            raise GanInvError(
                f"editability.{key} is {getattr(config, key)}; the classifier knows classes "
                f"0..{len(names) - 1}"
            )
    dataset = build_dataset(config.data)
    labels = getattr(dataset, "labels", None)
    if labels is None:
        raise GanInvError(
            f"editability.data {split_name(config.data)!r} has no class labels; use a labelled "
            "data set (e.g. fashion_mnist, or a folder with a dataset.json)"
        )
    source = _class_images(dataset, labels, config.source_class, config.images)
    target = _class_images(dataset, labels, config.target_class, config.images)
    count = min(len(source), len(target))
    if count == 0:
        raise GanInvError(
            f"editability.data {split_name(config.data)!r} holds no images of class "
            f"{config.source_class if len(source) == 0 else config.target_class}"
        )
    source, target = source[:count], target[:count]
    resolution = classifier.network.resolution
    if tuple(source.shape[-2:]) != (resolution, resolution):
        raise GanInvError(
            f"editability.data images are {source.shape[-1]} px, the classifier takes "
            f"{resolution} px; use data at the classifier's resolution"
        )
    protocol = {
        "direction": {
            "file": Path(config.direction).name,
            "sha256": sha256_file(config.direction),
            "shape": list(direction.shape),
            "norm": round(float(direction.norm()), 6),
            "info": direction_info,
        },
        "strengths": [float(s) for s in config.strengths],
        "application": "space.apply_direction(code, direction, strength) on each method's codes",
        "classifier": {
            "file": Path(config.classifier).name,
            "sha256": sha256_file(config.classifier),
            **{k: v for k, v in classifier.info.items() if k in ("test_accuracy", "test_images")},
        },
        "source": f"class {config.source_class} ({names[config.source_class]}): first {count} "
        f"images of {split_name(config.data)}",
        "target": f"class {config.target_class} ({names[config.target_class]})",
        "success": "share of edited images the classifier assigns to the target class (argmax)",
        "preservation": "metrics between the edited and the unedited reconstruction",
        "distribution": f"{spec_name(config.distribution)} between the edited images and the "
        f"first {count} real target images"
        if config.distribution is not None
        else "none",
        "images": count,
    }
    return EditContext(config, direction.float(), classifier, source, target, protocol)


def evaluate_editability(
    method: Method,
    context: EditContext,
    batch_size: int,
    compare_resize: str = "area",
) -> dict[str, Any]:
    """The editability record of one method (values by column key, metric protocols, time)."""
    config = context.config
    device = method.device
    started = time.perf_counter()
    try:  # does the space take a direction at all? (cheap: the neutral code, no inversion)
        method.space.apply_direction(
            method.space.init_code(1), context.direction.to(device), config.strengths[0]
        )
    except GanInvError as exc:
        return {"supported": False, "reason": str(exc), "values": {}, "columns": {}}
    strengths = [float(s) for s in config.strengths]

    def copies(spec: Any, count: int) -> list[Metric]:
        # Built once and copied: building LPIPS costs seconds (its backbone's initialisation).
        built = build_component("metrics", spec, device=device)
        built.reset()
        return [copy.deepcopy(built) for _ in range(count)]

    # Keyed by strength; None is the unedited reconstruction.
    steps: list[float | None] = [None, *strengths]
    per_spec = [copies(spec, len(strengths)) for spec in config.preservation]
    preservation = {s: [built[i] for built in per_spec] for i, s in enumerate(strengths)}
    distribution = (
        dict(zip(steps, copies(config.distribution, len(steps))))
        if config.distribution is not None
        else {}
    )
    hits = dict.fromkeys(steps, 0)
    direction = context.direction.to(device)
    for start in range(0, len(context.source), batch_size):
        real = context.source[start : start + batch_size].to(device)
        reference = context.target[start : start + batch_size].to(device)
        code, recon = method.invert(real)
        images = {None: to_size_of(recon, real, compare_resize)}
        with torch.no_grad():
            for s in strengths:
                edited = method.space.render(method.space.apply_direction(code, direction, s))
                images[s] = to_size_of(edited.clamp(-1, 1), real, compare_resize)
            for s, batch in images.items():
                hits[s] += int((context.classifier.predict(batch) == config.target_class).sum())
                if s in distribution:
                    distribution[s].update(reference, batch)
                for m in preservation.get(s, []):
                    m.update(images[None], batch)

    count = len(context.source)
    values: dict[str, float] = {}
    columns: dict[str, dict[str, Any]] = {}

    def add(key: str, title: str, value: float, higher: bool, protocol: dict, ranked: bool) -> None:
        values[key] = float(value)
        rate = key == "unedited_target_rate" or key.startswith("success@")
        columns[key] = {
            "title": title,
            "higher_is_better": higher,
            "ranked": ranked,
            "protocol": protocol,
            "format": "{:.3f}" if rate else "{:.4f}",
        }

    def add_metric(key: str, title: str, m: Metric, ranked: bool = True) -> None:
        result = m.compute()
        add(key, title, result.value, bool(result.higher_is_better), dict(result.protocol), ranked)

    dist_name = spec_name(config.distribution) if config.distribution is not None else ""
    # The unedited rate and distance are where the edits start from: shown, never ranked.
    add("unedited_target_rate", "target rate, unedited", hits[None] / count, False, {}, False)
    if distribution:
        add_metric(
            f"unedited_{dist_name}",
            f"{dist_name} to target, unedited",
            distribution[None],
            ranked=False,
        )
    for s in strengths:
        add(f"success@{s:g}", f"success α={s:g}", hits[s] / count, True, {}, True)
        for spec, m in zip(config.preservation, preservation[s]):
            add_metric(f"{spec_name(spec)}@{s:g}", f"{spec_name(spec)} α={s:g}", m)
        if distribution:
            add_metric(
                f"{dist_name}_to_target@{s:g}", f"{dist_name} to target α={s:g}", distribution[s]
            )
    return {
        "supported": True,
        "values": values,
        "columns": columns,
        "seconds": time.perf_counter() - started,
        "images": count,
    }


def editability_fingerprint(config: EditabilityConfig) -> dict[str, Any]:
    """What must match for a saved editability record to be reused on --resume (the files by
    content: a retrained classifier or a new direction under the same name runs again)."""
    return {
        "config": to_dict(config),
        "direction_sha256": sha256_file(config.direction),
        "classifier_sha256": sha256_file(config.classifier),
    }


def editability_table(results: list[dict[str, Any]], protocol: dict[str, Any]) -> BenchTable:
    """The second bench table: one row per method, the columns of the first supported record."""
    records = [(r["label"], r.get("editability") or {}) for r in results]
    layout = next((rec for _, rec in records if rec.get("supported")), {})
    columns: list[Column] = []
    seen: set[str] = set()
    for key, meta in layout.get("columns", {}).items():
        # One footnote per metric: every strength's column shares it.
        name = key.split("@")[0]
        protocol_note = {} if name in seen else dict(meta["protocol"])
        seen.add(name)
        columns.append(
            Column(
                key,
                meta["title"],
                bool(meta["higher_is_better"]),
                meta["format"],
                protocol_note,
                ranked=bool(meta["ranked"]),
            )
        )
    rows = [
        (label, {c.key: rec.get("values", {}).get(c.key) for c in columns})
        for label, rec in records
    ]
    notes = [
        f"{label}: not editable here ({rec['reason']})"
        for label, rec in records
        if rec and not rec.get("supported")
    ]
    notes.append("editability protocol: " + _plain(protocol))
    return BenchTable(columns, rows, notes)


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}={_inner(v)}" for k, v in value.items())
    return str(value)


def _inner(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_inner(v)}" for k, v in value.items()) + "}"
    return str(value)
