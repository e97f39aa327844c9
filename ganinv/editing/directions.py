"""InterFaceGAN-style directions: a linear classifier on latent codes; direction = unit normal.

Features are W codes [N, w_dim] or W+ codes [N, num_ws, w_dim] (flattened for the classifier,
reshaped back for the direction). The classifier is L2-regularised logistic regression fitted
by full-batch L-BFGS in float64 (no scikit-learn); its weight vector, normalised to unit length and
oriented towards the positive label, is the direction. A held-out fraction reports accuracy.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganinv.checkpoints.safe_load import check_tensor, read_file, torch_load
from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import read_table, read_tensors, write_file
from ganinv.core.space import Code

DIRECTION_FORMAT = "ganinv-direction"
# A W+ direction at 1024 px holds 18 * 512 = 9,216 values; a file claiming far more is not one.
MAX_DIRECTION_VALUES = 1 << 20
MAX_LABELS_BYTES = 64 << 20
# dtype names as torch (.pt) and safetensors (.safetensors) spell them.
_FLOAT_DTYPES = {"torch.float32", "torch.float16", "torch.bfloat16", "torch.float64"}
_FLOAT_DTYPES |= {"F32", "F16", "BF16", "F64"}
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

    def info(self) -> dict[str, Any]:
        return {
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


def learn_direction(
    codes: Code,
    labels: torch.Tensor,
    part: str | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    l2: float = 1e-3,
) -> LearnedDirection:
    """Fit the classifier on one code part (W [N, w_dim] or W+ [N, num_ws, w_dim])."""
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
    w, b = fit_linear_classifier(flat[train_idx] - mean, labels[train_idx], l2=l2)

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


def read_labels(path: str | os.PathLike[str]) -> dict[str, int]:
    """Labels by image name from JSON ``{"name": 0|1}`` or CSV rows ``name,label`` (header ok)."""
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
    if path.suffix.lower() == ".json":
        raw = _json(text, f"labels file {str(path)!r}")
        if not isinstance(raw, dict):
            raise GanInvError(f"{str(path)!r}: JSON labels must map image names to 0 or 1")
        items = list(raw.items())
    else:
        items = [
            (row[0].strip(), row[1].strip())
            for row in csv.reader(text.splitlines())
            if len(row) >= 2
        ]
        if items and not items[0][1].lstrip("-").isdigit():
            items = items[1:]  # header row
    labels = {}
    for name, value in items:
        # int() would also take 1.5, True or "1_0"; a label is exactly 0 or 1.
        plain = isinstance(value, (int, float, str)) and not isinstance(value, bool)
        label = _LABELS.get(value) if plain else None
        if label is None:
            raise GanInvError(f"{str(path)!r}: label of {name!r} is {value!r}, not 0 or 1")
        labels[Path(str(name)).stem] = label
    return labels


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
    header = {"format": DIRECTION_FORMAT, "info": json.dumps(learned.info())}
    return write_file(path, {"direction": learned.direction}, header)


def load_direction(path: str | os.PathLike[str]) -> tuple[torch.Tensor, dict[str, Any]]:
    """A direction file (from `save_direction`, or any safetensors with a ``direction`` tensor,
    or a ``.pt`` tensor loaded weights-only), checked before anything is allocated for it."""
    path = Path(path)
    if not path.exists():
        raise GanInvError(f"direction file {str(path)!r} does not exist")
    if path.suffix == ".safetensors":
        return _safetensors_direction(path)
    what = f"direction file {str(path)!r}"
    value = torch_load(path, what, kind="a direction (a tensor or {'direction': tensor})")
    if isinstance(value, dict) and "direction" in value:
        value = value["direction"]
    if not isinstance(value, torch.Tensor):
        raise GanInvError(f"{what} holds a {type(value).__name__}, not a direction tensor")
    _check_shape(tuple(value.shape), str(value.dtype), what)
    return _check_values(check_tensor(value, what), what), {}


def _safetensors_direction(path: Path) -> tuple[torch.Tensor, dict[str, Any]]:
    what = f"direction file {str(path)!r}"
    header, table = read_table(path, "direction file")
    if "direction" not in table:
        raise GanInvError(f"{what} has no 'direction' tensor (it holds {sorted(table)[:5]})")
    _check_shape(table["direction"].shape, table["direction"].dtype, what)
    # Every tensor of the file is read below: their total is bounded too, not just the direction.
    total = sum(info.numel for info in table.values())
    if total > MAX_DIRECTION_VALUES:
        raise GanInvError(
            f"{what} holds {total:,} values in {len(table)} tensors; a direction file holds one "
            f"direction of at most {MAX_DIRECTION_VALUES:,}"
        )
    info = _json(header.get("info", "{}"), f"{what} header field 'info'")
    if not isinstance(info, dict):
        raise GanInvError(f"{what} header field 'info' must be a JSON object")
    direction = read_tensors(path, "direction file")["direction"]
    return _check_values(check_tensor(direction, what), what), info


def _check_shape(shape: tuple[int, ...], dtype: str, what: str) -> None:
    """A direction is [w_dim] or [num_ws, w_dim] floats of bounded size (checked before reading)."""
    count = 1
    for size in shape:
        count *= size
    if len(shape) not in (1, 2) or count == 0 or count > MAX_DIRECTION_VALUES:
        raise GanInvError(
            f"{what}: 'direction' has shape {list(shape)}; expected [w_dim] or [num_ws, w_dim] "
            f"with at most {MAX_DIRECTION_VALUES:,} values"
        )
    if dtype not in _FLOAT_DTYPES:
        raise GanInvError(f"{what}: 'direction' has dtype {dtype}; expected floating point")


def _check_values(direction: torch.Tensor, what: str) -> torch.Tensor:
    if not bool(torch.isfinite(direction).all()):
        raise GanInvError(f"{what}: 'direction' holds NaN or infinite values")
    return direction


def _json(text: str, what: str) -> Any:
    """Parsed JSON with a size limit; malformed text is one `GanInvError` line naming `what`."""
    if len(text) > MAX_LABELS_BYTES:
        raise GanInvError(f"{what} is {len(text):,} characters (corrupt)")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise GanInvError(f"{what} is not valid JSON ({' '.join(str(exc).split())})") from exc
