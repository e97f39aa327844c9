"""Loading third-party state dicts strictly, with one clear error when they do not fit."""

from __future__ import annotations

import torch
from torch import nn

from ganinv.core.errors import GanInvError


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """`module.load_state_dict(state, strict=True)` tolerating only missing BN step counters.

    Files saved by old PyTorch versions lack ``num_batches_tracked``; they carry no information
    in eval mode, so the module's own (zero) counters are kept. Anything else missing, unexpected
    or of the wrong shape raises a `GanInvError` naming the first offending keys.
    """
    own = module.state_dict()
    state = dict(state)
    for key, value in own.items():
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = value
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        details = []
        if missing:
            details.append(f"missing {missing[:4]}{' ...' if len(missing) > 4 else ''}")
        if unexpected:
            details.append(f"unexpected {unexpected[:4]}{' ...' if len(unexpected) > 4 else ''}")
        if wrong:
            k = wrong[0]
            details.append(f"shape of {k}: file {tuple(state[k].shape)} vs {tuple(own[k].shape)}")
        raise GanInvError(
            f"the weights do not fit {what}: {'; '.join(details)}; check that the file is the "
            "expected one (`ganinv weights list` names each file)"
        )
    module.load_state_dict(state, strict=True)
