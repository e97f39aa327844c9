"""The sfe space: fspace codes plus the base codes, edited through the attached feature editor."""

from __future__ import annotations

import pytest
import torch
from sfe_testkit import SPACE

import ganinv
from ganinv.core.errors import GanInvError


def random_wplus(generator, count: int, seed: int) -> torch.Tensor:
    z = torch.randn(
        count * generator.num_ws, generator.z_dim, generator=torch.Generator().manual_seed(seed)
    )
    with torch.no_grad():
        return generator.mapping(z)[:, 0].reshape(count, generator.num_ws, generator.w_dim)


class Recorder(torch.nn.Module):
    """A feature editor that records its inputs and returns F + 1 (a known, visible change)."""

    def forward(self, feature, delta):
        self.inputs = (feature, delta)
        return feature + 1.0


def test_renders_as_fspace_and_ignores_the_base_codes(sfe_space, tiny_generator):
    fspace = ganinv.build("spaces", {**SPACE, "name": "fspace"}, generator=tiny_generator)
    w, other = random_wplus(tiny_generator, 2, 1), random_wplus(tiny_generator, 2, 2)
    feature = torch.randn(2, *sfe_space.feature_shape(), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        a = sfe_space.render(sfe_space.make_code(w, feature, wbase=w))
        b = sfe_space.render(sfe_space.make_code(w, feature, wbase=other))
        c = fspace.render(fspace.make_code(w, feature))
        own = sfe_space.render(sfe_space.make_code(w))  # G's own feature: the W+ image
        plain = tiny_generator.synthesize(w, noise_mode="const")
    assert torch.equal(a, b) and torch.equal(a, c)
    assert torch.equal(own, plain)
    assert list(sfe_space.make_code(w).tensors) == ["wplus", "feature", "wbase"]
    with pytest.raises(GanInvError, match="base codes must have the W\\+ shape"):
        sfe_space.make_code(w, wbase=w[:, :2])


def test_trainable_leaves_the_base_codes_alone(sfe_space):
    code = sfe_space.init_code(2)
    base = code["wbase"]
    params = sfe_space.trainable(code)
    assert len(params) == 2 and code["wbase"] is base and not base.requires_grad
    assert sfe_space.code_part_roles()["wbase"] == "fixed"


def test_an_edit_runs_through_the_feature_editor(tiny_generator):
    space = ganinv.build("spaces", SPACE, generator=tiny_generator)
    w, wbase = random_wplus(tiny_generator, 2, 4), random_wplus(tiny_generator, 2, 5)
    code = space.make_code(w, wbase=wbase)
    direction = torch.randn(tiny_generator.w_dim, generator=torch.Generator().manual_seed(6))
    with pytest.raises(GanInvError, match="none is attached"):
        space.apply_direction(code, direction, 2.0)
    editor = Recorder()
    space.attach_feature_editor(editor)
    with torch.no_grad():
        edited = space.apply_direction(code, direction, 2.0)
        step = 2.0 * direction.expand(tiny_generator.num_ws, -1)
        expected_delta = space.generator_feature(wbase) - space.generator_feature(wbase + step)
    feature, delta = editor.inputs
    assert torch.equal(feature, code["feature"])
    assert torch.allclose(delta, expected_delta, atol=1e-6) and delta.abs().max() > 0
    assert torch.equal(edited["feature"], code["feature"] + 1.0)
    assert torch.allclose(edited["wplus"], w + step) and torch.allclose(
        edited["wbase"], wbase + step
    )
    # Strength 0 and a zero direction change nothing (the editor is not called).
    editor.inputs = None
    for d, s in ((direction, 0.0), (torch.zeros_like(direction), 3.0)):
        same = space.apply_direction(code, d, s)
        assert all(torch.equal(same[k], code[k]) for k in code.tensors)
    assert editor.inputs is None


def test_blend_mixes_the_base_codes_at_the_crossover(sfe_space, tiny_generator):
    a = sfe_space.make_code(
        random_wplus(tiny_generator, 1, 7), wbase=random_wplus(tiny_generator, 1, 8)
    )
    b = sfe_space.make_code(
        random_wplus(tiny_generator, 1, 9), wbase=random_wplus(tiny_generator, 1, 10)
    )
    c = sfe_space.blend_crossover
    mixed = sfe_space.blend(a, b)
    assert torch.equal(mixed["wbase"][:, :c], a["wbase"][:, :c])
    assert torch.equal(mixed["wbase"][:, c:], b["wbase"][:, c:])
    assert torch.equal(mixed["feature"], a["feature"])
