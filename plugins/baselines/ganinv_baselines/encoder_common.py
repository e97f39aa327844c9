"""Checks shared by the baseline encoders: which space they feed and the input size."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ganinv.checkpoints.safe_load import check_tensor, torch_load
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace


def require_space(space: InversionSpace, names: tuple[str, ...], encoder: str) -> None:
    if space.name not in names:
        raise GanInvError(
            f"encoder {encoder!r} predicts codes of space {' or '.join(map(repr, names))}, but was "
            f"given space {space.name!r}; build it with one of those spaces"
        )


def require_own_space(space: InversionSpace, name: str, uses: str, encoder: str) -> None:
    """For an encoder made for one space: `space` must be registered `name` and have the method
    (or attribute) `uses` the encoder calls, so a look-alike space of that name is refused too."""
    if space.name != name or not hasattr(space, uses):
        raise GanInvError(
            f"the {encoder} encoder needs the {name!r} space, got {space.name!r}; set space: "
            f"{{name: {name}}}"
        )


def check_input(images: torch.Tensor, resolution: int, encoder: str) -> None:
    if images.ndim != 4 or images.shape[1] != 3 or images.shape[-2:] != (resolution, resolution):
        raise GanInvError(
            f"encoder {encoder!r} expects images [B, 3, {resolution}, {resolution}], got "
            f"{list(images.shape)}; resize them (or set input_resolution)"
        )


def wplus_code(space: InversionSpace, wplus: torch.Tensor) -> Code:
    """A code of `space` from W+ codes [B, num_ws, w_dim] ('wplus'), or from one W ('w')."""
    if space.name == "w":
        return Code("w", {"w": wplus[:, 0]})
    return Code(space.name, {"wplus": wplus})


def load_backbone_weights(module: nn.Module, source: str) -> None:
    """Fill ``module.input_layer`` and ``module.body`` from an IR-SE state dict, as pSp and e4e
    start their encoders from ArcFace IR-SE50 (``model_ir_se50.pth``, whose keys use the same
    names; its ``output_layer.*`` is ignored).

    `source` is a file path or a weights-catalogue name (``arcface_ir_se50``). The backbone must
    have that network's shape (``num_layers: 50`` with the standard widths for the public file).
    """
    path = Path(source).expanduser()
    if not path.is_file():
        if os.sep in source:
            raise GanInvError(f"backbone_weights: no such file {source!r}")
        from ganinv.weights import weights_path

        path = weights_path(source)
    what = f"backbone_weights {str(path)!r}"
    # weights_only, sizes checked before torch allocates, one-line errors naming the file.
    state = torch_load(path, what, kind="a plain PyTorch state dict")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise GanInvError(f"{what} holds a {type(state).__name__}, not a state dict")
    wanted = {
        f"{part}.{k}": v
        for part in ("input_layer", "body")
        for k, v in getattr(module, part).state_dict().items()
    }
    for key in wanted:
        if key in state:
            check_tensor(state[key], f"{what} {key}")  # real data, as many values as it claims
    missing = [k for k in wanted if k not in state]
    wrong = [k for k in wanted if k in state and state[k].shape != wanted[k].shape]
    if missing or wrong:
        raise GanInvError(
            f"backbone_weights {str(path)!r} does not fit this backbone ({len(missing)} missing, "
            f"{len(wrong)} mis-shaped keys, e.g. {(missing + wrong)[:3]}); the public IR-SE50 file "
            "needs num_layers: 50 with the standard widths"
        )
    for part in ("input_layer", "body"):
        prefix = part + "."
        sub = {k[len(prefix) :]: state[k] for k in wanted if k.startswith(prefix)}
        getattr(module, part).load_state_dict(sub, strict=True)
