"""e4e's latent-code discriminator and the history pool of codes it is trained on."""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import nn


class LatentCodesDiscriminator(nn.Module):
    """MLP on single W codes [B, w_dim] -> logits [B, 1]: (n_mlp - 1) x (Linear + LeakyReLU(0.2))
    then Linear(w_dim, 1); e4e uses n_mlp = 4."""

    def __init__(self, w_dim: int, n_mlp: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for _ in range(n_mlp - 1):
            layers += [nn.Linear(w_dim, w_dim), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(w_dim, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return self.mlp(w)


class LatentCodesPool:
    """e4e's ``LatentCodesPool``: returns codes from a history of up to `pool_size` earlier ones.

    For each sample (a [w_dim] code, or [n, w_dim] of which one row is drawn at random), while the
    pool is filling it is stored and returned; afterwards, with probability 1/2 it swaps with a
    random stored code (the stored one is returned), otherwise it is returned as is.
    """

    def __init__(self, pool_size: int, seed: int = 0) -> None:
        self.pool_size = pool_size
        self.codes: list[torch.Tensor] = []
        self.rng = random.Random(seed)

    def query(self, ws: torch.Tensor) -> torch.Tensor:
        if self.pool_size == 0:
            return ws if ws.ndim == 2 else ws[:, 0]
        out = []
        for w in ws:
            if w.ndim == 2:
                w = w[self.rng.randint(0, len(w) - 1)]
            if len(self.codes) < self.pool_size:
                self.codes.append(w)
                out.append(w)
            elif self.rng.uniform(0, 1) > 0.5:
                index = self.rng.randint(0, self.pool_size - 1)
                out.append(self.codes[index].clone())
                self.codes[index] = w
            else:
                out.append(w)
        return torch.stack(out)

    def state(self) -> dict[str, Any]:
        """Stored codes and the sampler's state (checkpoint-safe types only)."""
        version, internal, gauss = self.rng.getstate()
        return {
            "codes": [c.detach().cpu() for c in self.codes],
            "rng": {"version": version, "internal": list(internal), "gauss_next": gauss},
        }

    def load_state(self, state: dict[str, Any], device: torch.device | str = "cpu") -> None:
        self.codes = [c.to(device) for c in state["codes"]]
        rng = state["rng"]
        self.rng.setstate((rng["version"], tuple(rng["internal"]), rng["gauss_next"]))


def r1_vector(discriminator: nn.Module, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean over the batch of ||grad_w D(w)||^2, D(w)) for codes [B, w_dim]."""
    real = real.detach().requires_grad_(True)
    logits = discriminator(real)
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.square().reshape(grad.shape[0], -1).sum(1).mean(), logits
