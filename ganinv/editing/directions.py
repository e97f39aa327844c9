"""InterFaceGAN-style directions: a linear classifier on latent codes; direction = unit normal.

Features are W codes [N, w_dim] or W+ codes [N, num_ws, w_dim] (flattened for the classifier,
reshaped back for the direction). Two linear classifiers, fitted by full-batch L-BFGS in float64
(no scikit-learn): L2-regularised logistic regression (``logistic``, the default), or a linear SVM
(``svm``, InterFaceGAN's classifier; the objective of scikit-learn's LinearSVC: squared hinge, C).
The weight vector, normalised to unit length and oriented towards the positive label, is the
direction. A held-out fraction reports accuracy.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

# The file format is read below the harness (the editability benchmark reads it too).
from ganinv.checkpoints.direction_file import (
    DIRECTION_FORMAT,
    check_direction_shape,
    load_direction_file,
)
from ganinv.checkpoints.safe_load import parse_json, read_file
from ganinv.core.assets import resolve_file
from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import write_file
from ganinv.core.space import Code

MAX_LABELS_BYTES = 64 << 20
_LABELS = {0: 0, 1: 1, "0": 0, "1": 1}


@dataclass
class LearnedDirection:
    """direction: [w_dim] or [num_ws, w_dim], unit norm; positive labels lie along +direction."""

    direction: torch.Tensor
    part: str
    space: str
    train_accuracy: float
    val_accuracy: float | None
    num_positive: int
    num_negative: int
    classifier: str = "logistic"
    # Condition direction files projected out (`conditional.project_out`); the accuracies are
    # the classifier's, before the projection.
    conditions: list[str] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        extra = {"conditions": self.conditions} if self.conditions else {}
        return extra | {
            "method": "interfacegan",
            "classifier": self.classifier,
            "part": self.part,
            "space": self.space,
            "train_accuracy": self.train_accuracy,
            "val_accuracy": self.val_accuracy,
            "num_positive": self.num_positive,
            "num_negative": self.num_negative,
        }


def fit_linear_classifier(
    features: torch.Tensor, labels: torch.Tensor, l2: float = 1e-3, max_iter: int = 200
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logistic regression on features [N, D] with labels in {0, 1} -> (weight [D], bias [])."""
    x = features.double()
    y = labels.double()
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logits = x @ w + b
        loss = (
            torch.nn.functional.binary_cross_entropy_with_logits(logits, y) + l2 * w.square().sum()
        )
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def fit_linear_svm(
    features: torch.Tensor, labels: torch.Tensor, c: float = 1.0, max_iter: int = 1000
) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear SVM on features [N, D] with labels in {0, 1} -> (weight [D], bias []).

    Minimises scikit-learn LinearSVC's default objective, 0.5 (|w|^2 + b^2) + C sum_i
    max(0, 1 - y_i (w.x_i + b))^2 with y in {-1, +1} (liblinear appends a constant feature 1 for
    the bias, so the bias is penalised too). The squared hinge is differentiable, so L-BFGS
    converges to its unique minimum.
    """
    x = features.double()
    y = labels.double() * 2 - 1
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [w, b],
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        opt.zero_grad()
        slack = (1 - y * (x @ w + b)).clamp_min(0)
        loss = 0.5 * (w.square().sum() + b.square()) + c * slack.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def _fit_logistic(
    features: torch.Tensor, labels: torch.Tensor, l2: float, svm_c: float
) -> tuple[torch.Tensor, torch.Tensor]:
    return fit_linear_classifier(features, labels, l2=l2)


def _fit_svm(
    features: torch.Tensor, labels: torch.Tensor, l2: float, svm_c: float
) -> tuple[torch.Tensor, torch.Tensor]:
    return fit_linear_svm(features, labels, c=svm_c)


_CLASSIFIERS = {"logistic": _fit_logistic, "svm": _fit_svm}
CLASSIFIER_NAMES = tuple(_CLASSIFIERS)


def learn_direction(
    codes: Code,
    labels: torch.Tensor,
    part: str | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    l2: float = 1e-3,
    classifier: str = "logistic",
    svm_c: float = 1.0,
) -> LearnedDirection:
    """Fit the classifier (``logistic`` or ``svm``) on one code part (W [N, w_dim] or W+
    [N, num_ws, w_dim])."""
    if classifier not in _CLASSIFIERS:
        raise GanInvError(f"classifier {classifier!r} is not one of {list(_CLASSIFIERS)}")
    part = _choose_part(codes, part)
    latents = codes[part].detach().double().cpu()
    if latents.ndim not in (2, 3):
        raise GanInvError(
            f"code part {part!r} has shape {tuple(latents.shape)}; directions are learned on W "
            "[N, w_dim] or W+ [N, num_ws, w_dim] codes"
        )
    labels = labels.to(torch.int64).cpu()
    if set(labels.unique().tolist()) != {0, 1}:
        raise GanInvError("labels must contain both classes, 0 and 1")
    n = latents.shape[0]
    flat = latents.reshape(n, -1)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = int(round(n * val_fraction)) if n >= 10 else 0
    val_idx, train_idx = order[:n_val], order[n_val:]
    # Centre on the training mean: the bias then absorbs the offset and the normal stays a
    # direction in latent space.
    mean = flat[train_idx].mean(0)
    w, b = _CLASSIFIERS[classifier](flat[train_idx] - mean, labels[train_idx], l2, svm_c)

    def accuracy(idx: torch.Tensor) -> float:
        pred = ((flat[idx] - mean) @ w + b > 0).long()
        return float((pred == labels[idx]).double().mean())

    norm = w.norm()
    if not torch.isfinite(norm) or norm == 0:
        raise GanInvError("the classifier found no separating direction (all weights are zero)")
    direction = (w / norm).float().reshape(latents.shape[1:])
    return LearnedDirection(
        direction=direction,
        part=part,
        space=codes.space,
        train_accuracy=accuracy(train_idx),
        val_accuracy=accuracy(val_idx) if n_val else None,
        num_positive=int(labels.sum()),
        num_negative=int((1 - labels).sum()),
        classifier=classifier,
    )


def _choose_part(codes: Code, part: str | None) -> str:
    if part is not None:
        if part not in codes.tensors:
            raise GanInvError(f"codes have no part {part!r}; parts: {sorted(codes.tensors)}")
        return part
    latent_like = [k for k, v in codes.tensors.items() if v.ndim in (2, 3)]
    if len(latent_like) == 1:
        return latent_like[0]
    for preferred in ("wplus", "w"):
        if preferred in codes.tensors:
            return preferred
    raise GanInvError(f"codes have several parts {sorted(codes.tensors)}; choose one with --part")


# -- files --------------------------------------------------------------------------------------
def load_codes(folder: str | os.PathLike[str]) -> tuple[Code, list[str]]:
    """Every ``*.safetensors`` code in a folder (as written by `ganinv invert`), by file stem."""
    folder = Path(folder)
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    if not files:
        raise GanInvError(f"no code files (*.safetensors) in {str(folder)!r}; run `ganinv invert`")
    codes = [Code.load(f) for f in files]
    # One code per file (names are file stems, so a batch would shift every later label), and
    # the first file's space, parts and shapes everywhere (else torch.cat fails or misreads).
    for file, code in zip(files, codes):
        sizes = {tuple(v.shape[:1]) for v in code.tensors.values()}
        if sizes != {(1,)}:
            raise GanInvError(
                f"code file {str(file)!r} must hold exactly one code in every part (as `ganinv "
                f"invert` writes), it holds batch sizes {sorted(sizes)}"
            )
    first = codes[0]
    layout = {k: tuple(v.shape[1:]) for k, v in first.tensors.items()}
    for file, code in zip(files, codes):
        shapes = {k: tuple(v.shape[1:]) for k, v in code.tensors.items()}
        if code.space != first.space or shapes != layout:
            raise GanInvError(
                f"code file {str(file)!r} holds {code.space!r} codes {shapes}, unlike "
                f"{str(files[0])!r} ({first.space!r} codes {layout}); keep one method's codes "
                "per folder"
            )
    return Code.cat(codes), [f.stem for f in files]


def read_labels(
    path: str | os.PathLike[str],
    positive: list[int] | None = None,
    negative: list[int] | None = None,
) -> dict[str, int]:
    """Labels (0 or 1) by image name (file stem) from JSON ``{"name": 0|1}``, CSV rows
    ``name,label`` (header ok), or the ``dataset.json`` that `ganinv data convert` writes
    (``{"labels": [["name.png", class], ...]}``).

    Class labels (any integers) become 0/1 by choosing `positive` and `negative` classes; images
    of other classes are left out. Without a choice every label must be 0 or 1.
    """
    path = Path(path)
    if not path.exists():
        raise GanInvError(f"labels file {str(path)!r} does not exist")
    data = read_file(path)  # regular files only: a FIFO or device would block or never end
    if len(data) > MAX_LABELS_BYTES:
        raise GanInvError(
            f"labels file {str(path)!r} has {len(data):,} bytes, more than the "
            f"{MAX_LABELS_BYTES:,} a labels file may have"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GanInvError(f"labels file {str(path)!r} is not UTF-8 text ({exc.reason})") from exc
    items = _label_items(text, path)
    if positive is None and negative is None:
        return _binary_labels(items, path)
    return _class_labels(items, path, positive or [], negative or [])


def _label_items(text: str, path: Path) -> list[tuple[str, Any]]:
    """(name, raw label) pairs from any of the three layouts."""
    if path.suffix.lower() == ".json":
        raw = parse_json(text, f"labels file {str(path)!r}", MAX_LABELS_BYTES)
        if isinstance(raw, dict) and set(raw) == {"labels"} and raw["labels"] is None:
            raise GanInvError(f"{str(path)!r} holds no labels (the converted data set had none)")
        if isinstance(raw, dict) and set(raw) == {"labels"} and isinstance(raw["labels"], list):
            pairs = raw["labels"]  # dataset.json of `ganinv data convert`
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise GanInvError(f"{str(path)!r}: 'labels' must be a list of [name, class] pairs")
            return [(str(name), value) for name, value in pairs]
        if not isinstance(raw, dict):
            raise GanInvError(f"{str(path)!r}: JSON labels must map image names to 0 or 1")
        return list(raw.items())
    items = [
        (row[0].strip(), row[1].strip()) for row in csv.reader(text.splitlines()) if len(row) >= 2
    ]
    if items and not items[0][1].lstrip("-").isdigit():
        items = items[1:]  # header row
    return items


def _binary_labels(items: list[tuple[str, Any]], path: Path) -> dict[str, int]:
    labels = {}
    for name, value in items:
        # int() would also take 1.5, True or "1_0"; a label is exactly 0 or 1.
        label = _LABELS.get(value) if _plain(value) else None
        if label is None:
            hint = ""
            if _class_of(value) is not None:
                hint = "; for class labels choose the classes (--positive, --negative)"
            raise GanInvError(f"{str(path)!r}: label of {name!r} is {value!r}, not 0 or 1{hint}")
        labels[Path(str(name)).stem] = label
    return labels


def _class_labels(
    items: list[tuple[str, Any]], path: Path, positive: list[int], negative: list[int]
) -> dict[str, int]:
    if not positive or not negative or set(positive) & set(negative):
        raise GanInvError(
            f"choose one or more positive and negative classes, none in both (got positive "
            f"{positive}, negative {negative}) for {str(path)!r}"
        )
    labels, seen = {}, set()
    for name, value in items:
        cls = _class_of(value)
        if cls is None:
            raise GanInvError(f"{str(path)!r}: label of {name!r} is {value!r}, not a class number")
        seen.add(cls)
        if cls in positive or cls in negative:
            labels[Path(str(name)).stem] = int(cls in positive)
    missing = sorted(c for c in (*positive, *negative) if c not in seen)
    if missing:
        raise GanInvError(
            f"{str(path)!r} has no image of class(es) {missing}; its classes are {sorted(seen)}"
        )
    return labels


def _plain(value: Any) -> bool:
    return isinstance(value, (int, float, str)) and not isinstance(value, bool)


def _class_of(value: Any) -> int | None:
    """An integer class label (an int, or a string of ASCII digits), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value):
        return int(value)
    return None


def align_labels(names: list[str], labels: dict[str, int]) -> tuple[list[int], torch.Tensor]:
    """Indices of the codes that have a label, and those labels."""
    keep = [i for i, n in enumerate(names) if n in labels]
    if len(keep) < 2:
        raise GanInvError(
            f"only {len(keep)} of {len(names)} codes have a label; label names must match the "
            "code file names (without suffix)"
        )
    return keep, torch.tensor([labels[names[i]] for i in keep])


def save_direction(path: str | os.PathLike[str], learned: LearnedDirection) -> Path:
    return write_direction(path, learned.direction, learned.info())


def write_direction(
    path: str | os.PathLike[str], direction: torch.Tensor, info: dict[str, Any]
) -> Path:
    """A direction file: tensor ``direction`` ([w_dim] or [num_ws, w_dim]) and the JSON protocol
    record ``info`` in the header (every method writes this one format)."""
    check_direction_shape(
        tuple(direction.shape), str(direction.dtype), f"direction for {str(path)!r}"
    )
    header = {"format": DIRECTION_FORMAT, "info": json.dumps(info)}
    return write_file(path, {"direction": direction.detach().float().cpu().contiguous()}, header)


def load_direction(path: str | os.PathLike[str]) -> tuple[torch.Tensor, dict[str, Any]]:
    """A direction file (from `save_direction`, or any safetensors with a ``direction`` tensor,
    or a ``.pt`` tensor loaded weights-only), or the registry card naming one
    (``demo_fmnist_tshirt_to_pullover``), checked before anything is allocated for it."""
    return load_direction_file(resolve_file(str(path)))
