"""The sfe encoder: phase 1's blend ramp and terms, phase 2's frozen inverter, its feature editor
and editing pairs, and edits of exported codes through the editing operations."""

from __future__ import annotations

import pytest
import torch
from sfe_testkit import DIRECTIONS, INVERTER, SPACE

import ganinv
from ganinv.core.errors import GanInvError


def build(space_generator, spec):
    space = ganinv.build("spaces", SPACE, generator=space_generator)
    return space, ganinv.build("encoders", spec, space=space)


def inputs(seed: int = 0) -> torch.Tensor:
    return torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def export(path, encoder, spec):
    from ganinv.harness.method import save_encoder
    from ganinv.harness.schema import MethodConfig

    return save_encoder(path, encoder, MethodConfig(generator="tiny", space=SPACE, encoder=spec))


def test_phase_one_blends_from_the_generators_feature(tiny_generator):
    space, encoder = build(tiny_generator, INVERTER)  # blend over 4 steps
    x = inputs()
    encoder.train()
    with torch.no_grad():
        inverted = encoder.invert(x)
        first = encoder(x)
    assert torch.equal(first["feature"], inverted["generator_feature"])  # s = 0
    assert torch.equal(first["wbase"], first["wplus"])  # no base encoder: its own W+
    for _ in range(2):
        encoder.auxiliary_step(first, x)
    with torch.no_grad():
        half = encoder(x)["feature"]
    expected = 0.5 * inverted["generator_feature"] + 0.5 * inverted["feature"]
    assert torch.allclose(half, expected, atol=1e-6)
    encoder.eval()  # inference: s = 1, the inverter's F_k
    with torch.no_grad():
        assert torch.allclose(encoder(x)["feature"], encoder.invert(x)["feature"], atol=1e-6)
    assert int(encoder.state_dict()["steps_done"]) == 2  # restored by a resumed run


def test_phase_one_terms(tiny_generator):
    _, encoder = build(tiny_generator, INVERTER)
    x = inputs(1)
    code = encoder.train()(x)
    terms = encoder.extra_losses(code)
    assert sorted(terms) == ["feature_rec", "w_branch"]
    plain = tiny_generator.synthesize(code["wplus"], noise_mode="const")
    assert torch.allclose(terms["w_branch"], (plain - x).square().mean(), atol=1e-6)
    with pytest.raises(GanInvError, match="latest forward"):
        encoder.extra_losses(encoder(x)) and encoder.extra_losses(code)


def test_phase_two_needs_a_base_encoder_and_loads_the_inverter(tmp_path, tiny_generator, e4e_file):
    with pytest.raises(GanInvError, match="set e4e_checkpoint"):
        build(tiny_generator, {**INVERTER, "phase": "editor"})
    _, phase1 = build(tiny_generator, INVERTER)
    phase1_file = export(tmp_path / "p1.safetensors", phase1, INVERTER)
    spec = {
        **INVERTER,
        "phase": "editor",
        "e4e_checkpoint": str(e4e_file),
        "inverter_checkpoint": str(phase1_file),
        "editor_blocks": 1,
        "directions": DIRECTIONS,
    }
    space, encoder = build(tiny_generator, spec)
    for key, value in phase1.inverter.state_dict().items():
        assert torch.equal(encoder.inverter.state_dict()[key], value), key
    encoder.train()
    assert not encoder.inverter.training and encoder.editor.training
    trained = [n for n, p in encoder.named_parameters() if p.requires_grad]
    assert trained and all(n.startswith("editor.") for n in trained)
    assert space.feature_editor is encoder.editor
    # The phase-1 file is read at every build: the phase-2 state dict holds H alone, and an
    # export rebuilds the same encoder from it and that file.
    assert sorted({k.split(".")[0] for k in encoder.state_dict()}) == ["editor", "steps_done"]
    from ganinv.checkpoints.encoder_file import load_exported_encoder

    rebuilt = load_exported_encoder(
        export(tmp_path / "p2.safetensors", encoder.eval(), spec), space
    )
    with torch.no_grad():
        a, b = encoder(inputs(5)), rebuilt(inputs(5))
    assert all(torch.equal(a[k], b[k]) for k in a.tensors)
    encoder.train()
    wrong = tmp_path / "wrong.safetensors"
    _, other = build(tiny_generator, {**INVERTER, "widths": [8, 8, 8, 8]})
    export(wrong, other, {**INVERTER, "widths": [8, 8, 8, 8]})
    with pytest.raises(GanInvError, match="does not fit this inverter"):
        build(tiny_generator, {**spec, "inverter_checkpoint": str(wrong)})


def test_phase_two_codes_and_the_editing_term(tiny_generator, e4e_file):
    spec = {
        **INVERTER,
        "phase": "editor",
        "e4e_checkpoint": str(e4e_file),
        "editor_blocks": 1,
        "directions": DIRECTIONS,
    }
    space, encoder = build(tiny_generator, spec)
    x = inputs(2)
    encoder.train()
    code = encoder(x)
    with torch.no_grad():
        inverted = encoder.invert(x)
        zero = torch.zeros_like(inverted["feature"])
        assert torch.allclose(code["feature"], encoder.editor(inverted["feature"], zero), atol=1e-6)
        assert torch.equal(code["wbase"], encoder.base_encoder(x)["wplus"])
    terms = encoder.extra_losses(code)
    assert sorted(terms) == ["edit"] and torch.isfinite(terms["edit"])
    terms["edit"].backward()
    grads = {n: p.grad for n, p in encoder.named_parameters() if p.grad is not None}
    assert grads and all(n.startswith("editor.") for n in grads)
    encoder.eval()
    with torch.no_grad():
        assert torch.allclose(encoder(x)["feature"], inverted["feature"], atol=1e-6)


def test_exported_phase_two_edits_through_its_editor(tmp_path, tiny_generator, e4e_file):
    """What `ganinv edit apply` runs: the method built from the file edits with the file's H."""
    from tiny_world import save_tiny_networks

    from ganinv.editing import operations as ops
    from ganinv.harness.method import build_method
    from ganinv.harness.schema import MethodConfig

    generator_file = save_tiny_networks(tmp_path / "g.safetensors", tiny_generator)
    spec = {**INVERTER, "phase": "editor", "e4e_checkpoint": str(e4e_file), "editor_blocks": 1}
    space, encoder = build(tiny_generator, spec)
    with torch.no_grad():
        for p in encoder.editor.parameters():
            p.add_(0.05)  # a non-trivial editor
    from ganinv.harness.method import save_encoder

    path = save_encoder(
        tmp_path / "sfe.safetensors",
        encoder.eval(),
        MethodConfig(generator=str(generator_file), space=SPACE, encoder=spec),
    )
    method = build_method(MethodConfig(encoder_checkpoint=str(path)))
    assert method.space.feature_editor is method.encoder.editor
    code, _ = method.invert(inputs(3))
    direction = torch.randn(tiny_generator.w_dim, generator=torch.Generator().manual_seed(4))
    edited, image = ops.apply_direction(method, code, direction, 1.5)
    with torch.no_grad():
        step = 1.5 * direction
        delta = method.space.generator_feature(code["wbase"]) - method.space.generator_feature(
            code["wbase"] + step
        )
        expected = encoder.editor(code["feature"], delta)
    assert torch.allclose(edited["feature"], expected, atol=1e-5)
    fse_rule = ganinv.build("spaces", {**SPACE, "name": "fspace"}, generator=method.generator)
    fse_code = fse_rule.make_code(code["wplus"], code["feature"])
    fse_edit = fse_rule.apply_direction(fse_code, direction, 1.5)
    assert not torch.allclose(edited["feature"], fse_edit["feature"], atol=1e-3)
    assert image.shape == (3, 3, 16, 16)
