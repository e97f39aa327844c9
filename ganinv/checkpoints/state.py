"""Copying a converted state dict into one of our modules, with errors a user can act on."""

from __future__ import annotations

import torch

from ganinv.core.errors import GanInvError


def load_exact(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """`load_state_dict(strict=True)` with shape checks, reported as a `GanInvError`."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [
        f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and state[k].numel() != own[k].numel()
    ]
    if missing or unexpected or wrong:
        raise GanInvError(
            f"{what}: checkpoint does not match the inferred architecture "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]}, shape mismatch {wrong[:5]})"
        )
    module.load_state_dict({k: state[k].reshape(own[k].shape).float() for k in own})
