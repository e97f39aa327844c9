"""Writing rosinality's ``.pt`` layout: the inverse of the reader, checked on a real rosinality
checkpoint (same keys, shapes and values as the file rosinality's code wrote)."""

from __future__ import annotations

import pytest
import torch

from ganinv.checkpoints.load import load_generator
from ganinv.checkpoints.rosinality import read_checkpoint
from ganinv.checkpoints.rosinality_writer import generator_state_to_rosinality, save_rosinality
from ganinv.core.errors import GanInvError
from ganinv.stylegan2.generator import StyleGAN2Generator


def test_written_state_is_rosinality_s_own(refs, rosinality_networks):
    original = read_checkpoint(refs / "rosinality_s64.pt")["g_ema"]
    written = generator_state_to_rosinality(rosinality_networks["generator"])
    assert sorted(written) == sorted(original)
    for key, value in original.items():
        assert written[key].shape == value.shape, key
        assert torch.equal(written[key], value.float()), key


def test_written_file_loads_back_and_renders_the_same(tmp_path, rosinality_networks):
    generator = rosinality_networks["generator"]
    path = save_rosinality(tmp_path / "g.pt", generator)
    back = load_generator(path)
    assert torch.equal(back.w_avg, generator.w_avg)
    ws = generator.mapping(
        torch.randn(2, generator.z_dim, generator=torch.Generator().manual_seed(0))
    )
    with torch.no_grad():
        assert torch.equal(back.synthesize(ws), generator.synthesize(ws))


def test_generators_rosinality_cannot_express_are_refused():
    clamped = StyleGAN2Generator(
        z_dim=8, w_dim=8, resolution=8, channels={4: 4, 8: 4}, mapping_layers=1, conv_clamp=256.0
    )
    with pytest.raises(GanInvError, match="conv_clamp 256.0 \\(rosinality: none\\)"):
        generator_state_to_rosinality(clamped)
