"""Checks added for mutants of the `Generator` base class that the suite let survive
(scripts/mutation.py, docs/mutation.md): the base `forward` every implementation inherits unless it
overrides it, and the layer look-up's error."""

from __future__ import annotations

import pytest
import torch

from ganinv.core.generator import Generator, LayerInfo


class _Recording(Generator):
    """The smallest generator: records what the base class passes to mapping and synthesize."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = [LayerInfo(0, "b4.conv1", 4, 2, 2, "conv", 0)]
        self.calls: list[tuple] = []

    def mapping(self, z, truncation_psi=1.0, truncation_cutoff=None):
        self.calls.append(("mapping", truncation_psi, truncation_cutoff))
        return z[:, None] * 2

    def synthesize(self, ws, hooks=None, noise_mode="const"):
        self.calls.append(("synthesize", hooks, noise_mode))
        return ws + 1


def test_base_forward_is_synthesize_of_mapping_with_its_arguments():
    G = _Recording()
    z = torch.tensor([[1.0, 2.0]])
    assert torch.equal(G(z), torch.tensor([[[3.0, 5.0]]]))
    assert G.calls == [("mapping", 1.0, None), ("synthesize", None, "const")]
    G.calls.clear()
    G(z, truncation_psi=0.5, noise_mode="none")
    assert G.calls == [("mapping", 0.5, None), ("synthesize", None, "none")]


def test_layer_lookup_names_the_missing_layer_and_the_known_ones():
    G = _Recording()
    assert G.layer("b4.conv1").index == 0
    with pytest.raises(KeyError, match=r"no synthesis layer 'b8.conv1'; layers: \['b4.conv1'\]"):
        G.layer("b8.conv1")
