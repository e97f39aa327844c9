"""SFE's networks: the backbone's strides, the Fuser's identity start, the inverter's outputs and
phase 2's training directions."""

from __future__ import annotations

import pytest
import torch
from ganinv_sfe.backbone import Backbone
from ganinv_sfe.directions import TrainingDirections, pca_directions, read_direction
from ganinv_sfe.fuser import Fuser
from ganinv_sfe.inverter import Inverter

from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import write_file


def test_stage_three_keeps_its_resolution():
    backbone = Backbone((1, 1, 1, 1), (4, 8, 8, 8), (2, 2, 1, 2))
    sizes = [tuple(s.shape[1:]) for s in backbone(torch.zeros(2, 3, 32, 32))]
    assert sizes == [(4, 16, 16), (8, 8, 8), (8, 8, 8), (8, 4, 4)]
    with pytest.raises(GanInvError, match="must each name 4 stages"):
        Backbone((1, 1, 1), (4, 8, 8), (2, 2, 1))


def test_identity_fuser_returns_its_first_input_exactly():
    fuser = Fuser(6, blocks=2).identity_init_().eval()
    a, b = torch.randn(2, 6, 5, 5), torch.randn(2, 6, 5, 5)
    assert torch.allclose(fuser(a, b), a, atol=1e-6)
    # ... and it still learns: the ignored input gets a gradient through the 1x1 conv.
    fuser.train()
    fuser(a, b).square().sum().backward()
    assert fuser.merge.weight.grad[:, 6:].abs().sum() > 0


def test_inverter_heads_start_at_w_avg_plus_offsets(tiny_generator):
    g = tiny_generator
    inverter = Inverter(g.num_ws, g.w_dim, (8, 8, 8), (1, 1, 1, 1), (8, 8, 16, 16), (2, 1, 1, 2))
    with torch.no_grad():
        for head in inverter.w_heads:
            head.weight.zero_()
            head.bias.zero_()
        wplus, predicted = inverter(torch.zeros(2, 3, 16, 16), g.w_avg)
    assert torch.equal(wplus, g.w_avg.expand(2, g.num_ws, g.w_dim))
    assert predicted.shape == (2, 8, 8, 8)  # stage 3 at 8 px: F's size, no resize


def test_pca_directions_are_orthonormal_and_ordered(tiny_generator):
    vectors, sigma = pca_directions(tiny_generator, 4, samples=500)
    assert torch.allclose(vectors @ vectors.T, torch.eye(4), atol=1e-5)
    assert bool((sigma[:-1] >= sigma[1:]).all()) and bool((sigma > 0).all())
    # sigma is the spread of the samples along each direction
    from ganinv.core.latent_stats import sample_w

    w = sample_w(tiny_generator, 500, 0)
    spread = ((w - w.mean(0)) @ vectors[0]).std()
    assert abs(float(spread) - float(sigma[0])) < 1e-3 * float(sigma[0])


def test_direction_files_are_checked(tmp_path, tiny_generator):
    g = tiny_generator
    good = write_file(tmp_path / "d.safetensors", {"direction": torch.ones(g.w_dim)}, {})
    assert read_direction(str(good), g.num_ws, g.w_dim).shape == (g.num_ws, g.w_dim)
    bad = write_file(tmp_path / "bad.safetensors", {"direction": torch.ones(g.w_dim + 1)}, {})
    with pytest.raises(GanInvError, match="has shape"):
        read_direction(str(bad), g.num_ws, g.w_dim)
    nan = write_file(
        tmp_path / "nan.safetensors", {"direction": torch.full((g.w_dim,), float("nan"))}, {}
    )
    with pytest.raises(GanInvError, match="NaN"):
        read_direction(str(nan), g.num_ws, g.w_dim)
    other = write_file(tmp_path / "o.safetensors", {"x": torch.ones(3)}, {})
    with pytest.raises(GanInvError, match="no 'direction'"):
        read_direction(str(other), g.num_ws, g.w_dim)


def test_training_directions_draw_a_pair_per_image(tmp_path, tiny_generator):
    g = tiny_generator
    file = write_file(tmp_path / "d.safetensors", {"direction": torch.ones(g.w_dim)}, {})
    spec = {
        "pca": {"count": 2, "strengths": [-1.0, 1.0], "samples": 200},
        "files": [{"path": str(file), "strengths": [3.0]}],
    }
    directions = TrainingDirections(g, spec)
    assert directions.steps.shape == (5, g.num_ws, g.w_dim)
    assert torch.equal(directions.steps[4], torch.full((g.num_ws, g.w_dim), 3.0))
    torch.manual_seed(0)
    a = directions.sample(64, torch.device("cpu"))
    torch.manual_seed(0)
    b = directions.sample(64, torch.device("cpu"))
    assert torch.equal(a, b)  # the global RNG: a resumed run draws the same pairs
    assert len({tuple(x[0, :3].tolist()) for x in a}) == 5  # every pair drawn
    with pytest.raises(GanInvError, match="unknown keys"):
        TrainingDirections(g, {"pcaa": {}})
    with pytest.raises(GanInvError, match="needs training directions"):
        TrainingDirections(g, {})
    with pytest.raises(GanInvError, match="strengths must be"):
        TrainingDirections(g, {"pca": {"count": 2, "strengths": []}})
