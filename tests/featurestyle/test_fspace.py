"""The F space: W+ plus one generator feature replacing the generator's own."""

from __future__ import annotations

import pytest
import torch

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code


def random_wplus(generator, count: int, seed: int) -> torch.Tensor:
    z = torch.randn(
        count * generator.num_ws, generator.z_dim, generator=torch.Generator().manual_seed(seed)
    )
    with torch.no_grad():
        return generator.mapping(z)[:, 0].reshape(count, generator.num_ws, generator.w_dim)


def test_the_layer_is_the_block_output_or_the_named_one(fspace, tiny_generator):
    assert fspace.layer.name == "b8.conv1"
    named = ganinv.build(
        "spaces", {"name": "fspace", "layer": "b8.conv0"}, generator=tiny_generator
    )
    assert named.layer.name == "b8.conv0"
    with pytest.raises(GanInvError, match="no feature layer 'b8.torgb'"):
        ganinv.build("spaces", {"name": "fspace", "layer": "b8.torgb"}, generator=tiny_generator)
    with pytest.raises(GanInvError, match="no synthesis layer at 12 px"):
        ganinv.build(
            "spaces", {"name": "fspace", "feature_resolution": 12}, generator=tiny_generator
        )


def test_the_generators_own_feature_renders_exactly_wplus(fspace, wplus, tiny_generator):
    """The space strictly extends W+: F = G_k(w) gives the W+ image bit for bit."""
    w = random_wplus(tiny_generator, 3, seed=1)
    with torch.no_grad():
        image_f = fspace.render(fspace.from_wplus(w))
        image_w = wplus.render(wplus.make_code(w))
        assert torch.equal(image_f, image_w)
        # init_code computes F on one row and repeats it: equal to float precision.
        init_f, init_w = fspace.render(fspace.init_code(2)), wplus.render(wplus.init_code(2))
    assert torch.allclose(init_f, init_w, atol=1e-5)


def test_the_feature_replaces_the_generators(fspace, tiny_generator):
    w = random_wplus(tiny_generator, 2, seed=2)
    with torch.no_grad():
        code = fspace.from_wplus(w)
        base = fspace.render(code)
        other = fspace.from_wplus(random_wplus(tiny_generator, 2, seed=3))
        # Another image's feature: the image follows the feature, not the early codes.
        swapped = fspace.make_code(w, other["feature"])
        changed = fspace.render(swapped)
    assert (changed - base).abs().mean() > 0.01
    # Codes of the layers before the feature act only through their toRGB skips: with the same
    # feature, changing them changes the image much less than changing the feature does.
    w_early = w.clone()
    w_early[:, :2] = random_wplus(tiny_generator, 2, seed=4)[:, :2]
    with torch.no_grad():
        early = fspace.render(fspace.make_code(w_early, code["feature"]))
        early_in_wplus = fspace.render(fspace.from_wplus(w_early))
    assert (early - base).abs().mean() < (early_in_wplus - base).abs().mean()


def test_a_feature_of_the_wrong_shape_is_refused(fspace, tiny_generator):
    w = random_wplus(tiny_generator, 1, seed=5)
    with pytest.raises(GanInvError, match="must be \\[B, 16, 8, 8\\]"):
        fspace.make_code(w, torch.zeros(1, 16, 4, 4))
    code = fspace.from_wplus(w)
    code.tensors["feature"] = torch.zeros(1, 16, 4, 4)
    with pytest.raises(GanInvError, match="build the space with the layer"):
        fspace.render(code)


def test_a_direction_edits_as_wplus_when_the_feature_is_the_generators(
    fspace, wplus, tiny_generator
):
    """F' = F + G_k(w') - G_k(w): for F = G_k(w) the edit is exactly the W+ edit."""
    w = random_wplus(tiny_generator, 2, seed=6)
    direction = torch.randn(tiny_generator.w_dim, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        edited = fspace.render(fspace.apply_direction(fspace.from_wplus(w), direction, 2.0))
        reference = wplus.render(wplus.apply_direction(wplus.make_code(w), direction, 2.0))
        assert torch.allclose(edited, reference, atol=1e-5)
        # With a feature of its own, the edit still moves the image by about the W+ change.
        code = fspace.from_wplus(w)
        code.tensors["feature"] = code["feature"] + 0.3 * torch.randn_like(code["feature"])
        moved = fspace.render(fspace.apply_direction(code, direction, 2.0)) - fspace.render(code)
        expected = reference - wplus.render(wplus.make_code(w))
    assert torch.nn.functional.cosine_similarity(moved.flatten(), expected.flatten(), dim=0) > 0.8


def test_optimisation_in_fspace_beats_wplus(fspace, wplus, tiny_generator):
    """The `optimize` refiner works on the space; with the feature free it fits an off-manifold
    target better than W+ alone at the same steps."""
    torch.manual_seed(0)
    target = (torch.rand(2, 3, 16, 16) * 2 - 1).clamp(-1, 1)
    spec = {
        "name": "optimize",
        "steps": 20,
        "lr": 0.05,
        "latent_noise": 0.0,
        "losses": {"mse": 1.0},
    }
    errors = {}
    for space in (fspace, wplus):
        refiner = ganinv.build("refiners", spec)
        code = refiner.refine(space, space.init_code(2), target)
        with torch.no_grad():
            errors[space.name] = float((space.render(code.detach()) - target).square().mean())
    # Measured: fspace 0.299, wplus 0.415 (60 steps: 0.229 and 0.356).
    assert errors["fspace"] < 0.8 * errors["wplus"], errors


def test_blend_keeps_the_structure_feature_and_mixes_wplus(fspace, tiny_generator):
    a = fspace.from_wplus(random_wplus(tiny_generator, 2, seed=8))
    b = fspace.from_wplus(random_wplus(tiny_generator, 1, seed=9))
    with torch.no_grad():
        out = fspace.blend(a, b)
    c = fspace.blend_crossover
    assert torch.equal(out["feature"], a["feature"])
    assert torch.equal(out["wplus"][:, :c], a["wplus"][:, :c])
    assert torch.equal(out["wplus"][:, c:], b["wplus"][:, c:].expand(2, -1, -1))


def test_noise_maps_render_and_change_the_layers_after_the_feature(fspace, tiny_generator):
    """Per-image noise parts (the `optimize` refiner's optimize_noise) render as in W+."""
    code = fspace.from_wplus(random_wplus(tiny_generator, 2, seed=10))
    with torch.no_grad():
        plain = fspace.render(code)
        noisy = fspace.render(Code(code.space, {**code.tensors, **fspace.init_noise_parts(2, 0)}))
    assert (noisy - plain).abs().max() > 1e-3
