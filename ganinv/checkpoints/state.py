"""Building a network a checkpoint describes and copying its tensors in, exactly and boundedly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ganinv.checkpoints.bounds import MAX_NETWORK_ELEMENTS, check_config
from ganinv.checkpoints.safe_load import check_tensor
from ganinv.core.errors import GanInvError


def _mismatch(
    own: Mapping[str, tuple[int, ...]], given: Mapping[str, tuple[int, ...]], what: str
) -> None:
    missing = sorted(set(own) - set(given))
    unexpected = sorted(set(given) - set(own))
    # Exact shapes: a [4, 16] tensor in an [8, 8] parameter is a different network, not a reshape.
    wrong = [f"{k}: {given[k]} vs {own[k]}" for k in own if k in given and given[k] != own[k]]
    if missing or unexpected or wrong:
        raise GanInvError(
            f"{what}: checkpoint does not match the inferred architecture "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]}, shape mismatch {wrong[:5]})"
        )


def build_network(
    class_key: str,
    cls: type[nn.Module],
    config: Any,
    shapes: Mapping[str, tuple[int, ...]],
    what: str,
    bounds: dict[str, tuple[str, float, float]] | None = None,
) -> nn.Module:
    """``cls(**config)``, built only once its state matches `shapes` (the file's tensors) exactly.

    The config is checked for types and ranges (`check_config`), the network is first built on the
    ``meta`` device (allocating nothing) and its parameter names and shapes compared with `shapes`
    and its size with `MAX_NETWORK_ELEMENTS`; only then is the real network allocated. `bounds`
    are a registered plugin generator's ``config_bounds`` (the built-ins' are in `bounds.FIELDS`).
    """
    kwargs = check_config(class_key, config, f"{what} config", bounds)
    try:
        with torch.device("meta"):
            skeleton = cls(**kwargs)
    except GanInvError as exc:
        raise GanInvError(f"{what} config: {exc}") from exc
    own = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    elements = sum(v.numel() for v in skeleton.state_dict().values())
    if elements > MAX_NETWORK_ELEMENTS:
        raise GanInvError(
            f"{what} describes a network of {elements:,} values, more than the "
            f"{MAX_NETWORK_ELEMENTS:,} ganinv builds; the file is corrupt or not a StyleGAN2"
        )
    _mismatch(own, {k: tuple(v) for k, v in shapes.items()}, what)
    return cls(**kwargs)


def load_exact(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """`load_state_dict(strict=True)`: same names, exactly the same shapes, floating-point values.

    Anything else raises a `GanInvError` naming `what` and the first offending keys.
    """
    own = module.state_dict()
    for key, value in state.items():
        check_tensor(value, f"{what} {key}")
        if not value.is_floating_point():
            raise GanInvError(f"{what} {key} has dtype {value.dtype}; expected floating point")
    _mismatch(
        {k: tuple(v.shape) for k, v in own.items()},
        {k: tuple(v.shape) for k, v in state.items()},
        what,
    )
    module.load_state_dict({k: state[k].to(own[k].dtype) for k in own})
