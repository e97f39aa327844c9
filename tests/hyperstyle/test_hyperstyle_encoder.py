"""HyperStyle's encoder on a tiny generator: W' = W * (1 + delta) per image, offsets that add up
over the iterations, training codes detached between iterations, the frozen initial encoder, and
codes that edit, save and load with their offsets."""

from __future__ import annotations

import copy

import hyperstyle_testkit as kit
import numpy as np
import pytest
import torch
from PIL import Image

from ganinv.core.errors import GanInvError
from ganinv.core.space import Code
from ganinv.core.weight_offsets import offsets_of, without_offsets

MIXED = {"shared_layers": ["b4.conv1", "b8.conv1"]}  # the other convs get their own blocks


def load_images(folder) -> torch.Tensor:
    arrays = [np.array(Image.open(p)) for p in sorted(folder.glob("*.png"))]
    return torch.stack([torch.from_numpy(a).permute(2, 0, 1).float() / 127.5 - 1 for a in arrays])


@pytest.fixture(scope="module")
def images(hs_world) -> torch.Tensor:
    return load_images(hs_world["images"])[:4]


def test_code_is_the_base_code_plus_offsets_of_every_tuned_layer(hs_world, images):
    torch.manual_seed(0)
    space, encoder = kit.build(hs_world, **MIXED)
    encoder.eval()
    with torch.no_grad():
        code = encoder(images)
        base = encoder.base_encoder(images)
    assert code.space == "wplus"
    assert torch.equal(code["wplus"], base["wplus"])  # the latent code stays the base's
    offsets = offsets_of(code.tensors)
    convs = [i.name for i in space.generator.layers if i.kind in ("conv", "conv_up")]
    assert sorted(offsets) == sorted(convs)  # every modulated conv, no ToRGB
    weights = space.generator.weight_parameters()
    for name, value in offsets.items():
        assert value.shape == (4, *weights[name].shape)
    assert [n for n in encoder.hypernet.layer_names if n in encoder.hypernet.shared] == [
        "b4.conv1",
        "b8.conv1",
    ]


def test_offsets_are_multiplicative_one_tuned_generator_per_image(hs_world, images):
    """Rendering image b of the code equals a copy of the generator whose weights were set to
    W * (1 + delta_b), rendering the base code: the released W' = W (1 + delta)."""
    torch.manual_seed(0)
    space, encoder = kit.build(hs_world, **MIXED, iterations=1)
    encoder.eval()
    with torch.no_grad():
        x = torch.cat([images, encoder.reconstruct(encoder.initial_code(images), images)], 1)
        deltas = encoder.hypernet(x)
        code = encoder(images)
        rendered = space.render(code)
        base = Code(code.space, without_offsets(code.tensors), code.meta)
        for b in range(2):
            tuned = copy.deepcopy(space.generator)
            params = tuned.weight_parameters()
            for name, delta in deltas.items():
                params[name].mul_(1 + delta[b])
            expected = tuned.synthesize(base["wplus"][b : b + 1])
            torch.testing.assert_close(rendered[b : b + 1], expected, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(rendered, space.render(base), atol=1e-3)  # offsets do act


def test_zero_init_starts_at_the_initial_encoders_image(hs_world, images):
    space, encoder = kit.build(hs_world, zero_init=True)
    encoder.eval()
    with torch.no_grad():
        code = encoder(images)
        base = encoder.initial_code(images)
        assert all(v.abs().max() == 0 for v in offsets_of(code.tensors).values())
        torch.testing.assert_close(space.render(code), space.render(base), atol=1e-6, rtol=0)


def test_iterations_accumulate_offsets_on_the_fed_back_reconstruction(hs_world, images):
    torch.manual_seed(0)
    space, encoder = kit.build(hs_world, **MIXED, iterations=3)
    encoder.eval()
    weights = space.generator.weight_parameters()
    with torch.no_grad():
        code = encoder(images)
        base = encoder.initial_code(images)
        recon = encoder.reconstruct(base, images)
        total: dict[str, torch.Tensor] = {}
        for _ in range(3):
            step = encoder.hypernet(torch.cat([images, recon], 1))
            total = {k: total.get(k, 0) + v for k, v in step.items()}
            recon = encoder.reconstruct(encoder.with_deltas(base, total), images)
    for name, value in offsets_of(code.tensors).items():
        torch.testing.assert_close(value, weights[name] * total[name], atol=1e-6, rtol=1e-5)
    one = encoder.iterate(images, 1, detach_between=False)[-1]
    assert not torch.allclose(
        offsets_of(one.tensors)["b4.conv1"], offsets_of(code.tensors)["b4.conv1"]
    )


def test_training_codes_score_every_iteration_with_detached_inputs(hs_world, images):
    """Two codes per step; the second one's gradient reaches the hypernetwork only through its
    own call on (x, y_1), as the released coach detaches delta and y between iterations."""
    torch.manual_seed(0)
    space, encoder = kit.build(hs_world, **MIXED, train_iterations=2)
    encoder.train()
    codes = encoder.training_codes(images)
    assert len(codes) == 2
    params = [p for p in encoder.parameters() if p.requires_grad]
    second = sum(v.sum() for v in offsets_of(codes[1].tensors).values())
    got = torch.autograd.grad(second, params, allow_unused=True)
    # The second call alone, on the first code's image (train mode: batch statistics).
    _, again = kit.build(hs_world, **MIXED, train_iterations=2)
    again.load_state_dict(encoder.state_dict())
    again.train()
    recon = again.reconstruct(codes[0].detach(), images)
    weights = space.generator.weight_parameters()
    step = again.hypernet(torch.cat([images, recon], 1))
    alone = sum((weights[k] * v).sum() for k, v in step.items())
    want = torch.autograd.grad(alone, [p for p in again.parameters() if p.requires_grad])
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_the_initial_encoder_is_frozen_and_not_in_the_state_dict(hs_world, images):
    _, encoder = kit.build(hs_world)
    assert not any(k.startswith("base_encoder") for k in encoder.state_dict())
    encoder.train()
    codes = encoder.training_codes(images)
    loss = sum(v.square().sum() for v in offsets_of(codes[-1].tensors).values())
    loss.backward()
    assert all(p.grad is None for p in encoder.base_encoder.parameters())


def test_w_encoder_base_gives_w_codes_with_offsets(hs_world, images):
    space, encoder = kit.build(hs_world, base="w_encoder")
    with torch.no_grad():
        code = encoder.eval()(images)
    assert code.space == "w" and code["w"].shape == (4, space.generator.w_dim)
    assert space.render(code).shape == (4, 3, 16, 16)


def test_base_of_another_space_and_bad_settings_are_one_error(hs_world):
    import ganinv

    generator = ganinv.load_generator(str(hs_world["generator"]))
    w_space = ganinv.build("spaces", "w", generator=generator)
    spec = {"name": "hyperstyle", "base_encoder": str(hs_world["e4e"]), **kit.SMALL}
    with pytest.raises(GanInvError, match="predicts codes of space 'wplus'.*set method.space"):
        ganinv.build("encoders", spec, space=w_space)
    with pytest.raises(GanInvError, match="iterations must be at least 1"):
        kit.build(hs_world, iterations=0)
    with pytest.raises(GanInvError, match="feature map is 1 x 1; .*power of two >= 2"):
        kit.build(hs_world, stem_stride=2)  # 16 px / 16
    with pytest.raises(GanInvError, match="layers_to_tune has unknown"):
        kit.build(hs_world, layers_to_tune=["b16.torgb"])


def test_edits_apply_on_top_and_codes_save_with_their_offsets(hs_world, images, tmp_path):
    torch.manual_seed(0)
    space, encoder = kit.build(hs_world, **MIXED)
    with torch.no_grad():
        code = encoder.eval()(images)
        direction = torch.randn(space.generator.w_dim)
        edited = space.apply_direction(code, direction, 1.0)
        assert sorted(offsets_of(edited.tensors)) == sorted(offsets_of(code.tensors))
        moved = Code(code.space, {**code.tensors, "wplus": edited["wplus"]}, code.meta)
        torch.testing.assert_close(space.render(edited), space.render(moved))
        plain = Code(code.space, without_offsets(edited.tensors), code.meta)
        assert not torch.allclose(space.render(edited), space.render(plain), atol=1e-3)
        path = code.save(tmp_path / "code.safetensors")
        torch.testing.assert_close(space.render(Code.load(path)), space.render(code))
