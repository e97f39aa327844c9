"""Shared fixtures for the StyleGAN2 / checkpoint tests: reference vectors and tiny networks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REFS = Path(__file__).resolve().parents[1] / "data" / "refs"


@pytest.fixture(scope="session")
def refs() -> Path:
    return REFS


@pytest.fixture(scope="session")
def rosinality_networks():
    from ganinv.checkpoints.rosinality import load_rosinality

    networks, _ = load_rosinality(REFS / "rosinality_s64.pt")
    return networks


@pytest.fixture(scope="session")
def nvlabs_networks():
    from ganinv.checkpoints.nvlabs import load_nvlabs

    networks, _ = load_nvlabs(REFS / "nvlabs_s64_scrubbed.pkl")
    return networks


@pytest.fixture
def tiny_generator():
    from ganinv.stylegan2.generator import StyleGAN2Generator

    torch.manual_seed(0)
    G = StyleGAN2Generator(
        z_dim=16,
        w_dim=16,
        resolution=16,
        channels={4: 8, 8: 8, 16: 4},
        mapping_layers=2,
    )
    # Non-zero noise strengths and biases, so noise and bias paths are exercised.
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith(("noise_strength", ".bias")):
                p.normal_(0, 0.3)
    return G


@pytest.fixture
def tiny_discriminator():
    from ganinv.stylegan2.discriminator import StyleGAN2Discriminator

    torch.manual_seed(1)
    D = StyleGAN2Discriminator(resolution=16, channels={4: 8, 8: 8, 16: 4}, mbstd_group_size=2)
    with torch.no_grad():
        for name, p in D.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0, 0.3)
    return D
