"""The hfgi space renders G(w) with one feature modulated by E_c(ADA(D, G(w))); the hfgi encoder
makes D from its frozen e4e and warps it for training; edits move w and re-align D."""

from __future__ import annotations

import hfgi_testkit as kit
import pytest
import torch
import torch.nn.functional as F
from e4e_world import load_images
from ganinv_hfgi.branch import HFGIBranch
from ganinv_hfgi.warp import random_perspective
from torchvision.transforms import RandomPerspective

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.generator import SynthesisHooks


@pytest.fixture(scope="module")
def images(hfgi_world):
    return load_images(hfgi_world["test"])


def test_zero_init_renders_exactly_the_plain_wplus_image(hfgi_world, images):
    space, encoder = kit.build(hfgi_world, {**kit.SPACE, "zero_init": True})
    with torch.no_grad():
        code = encoder(images)
        wplus = ganinv.build("spaces", "wplus", generator=space.generator)
        plain = wplus.render(wplus.make_code(code["wplus"]))
        assert float(code["distortion"].abs().mean()) > 0.05  # there is something to restore
        assert torch.equal(space.render(code), plain)


class _SetFeature(SynthesisHooks):
    def __init__(self, name: str, value: float) -> None:
        self.name, self.value = name, value

    def feature(self, layer, x):
        return torch.full_like(x, self.value) if layer.name == self.name else x


def test_the_conditions_scale_and_shift_the_chosen_layer(hfgi_world, images):
    """Heads fixed to gamma = -1, beta = 0.3: F * (1 + gamma) + beta is 0.3 everywhere at the
    first 8 px conv, which a hook setting that feature to 0.3 reproduces."""
    space, encoder = kit.build(hfgi_world)
    with torch.no_grad():
        for head, bias in (
            (space.branch.consultation.condition_scale3, -1.0),
            (space.branch.consultation.condition_shift3, 0.3),
        ):
            head[-1].weight.zero_()
            head[-1].bias.fill_(bias)
        code = encoder(images)
        expected = space.generator.synthesize(code["wplus"], hooks=_SetFeature("b8.conv0", 0.3))
        assert space.layer.name == "b8.conv0"
        assert torch.allclose(space.render(code), expected, atol=1e-6)


def test_encoder_distortion_is_the_image_minus_the_e4e_reconstruction(hfgi_world, images):
    space, encoder = kit.build(hfgi_world)
    with torch.no_grad():
        code = encoder(images)
        w = encoder.base_encoder(images)["wplus"]
        recon = space.generator.synthesize(w).clamp(-1, 1)
    assert torch.equal(code["wplus"], w)
    assert torch.allclose(code["distortion"], images - recon, atol=1e-6)
    assert code.space == "hfgi" and code.meta == {"feature_layer": "b8.conv0"}


def test_edits_move_w_keep_the_distortion_and_realign_it_to_the_edited_image(
    hfgi_world, images, monkeypatch
):
    space, encoder = kit.build(hfgi_world)
    g = space.generator
    direction = torch.randn(g.w_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        code = encoder(images)
        edited = space.apply_direction(code, direction, 2.0)
        assert torch.allclose(edited["wplus"], code["wplus"] + 2.0 * direction, atol=1e-6)
        assert torch.equal(edited["distortion"], code["distortion"])
        seen = []
        ada_forward = type(space.branch.ada).forward

        def recording(module, distortion, image):
            seen.append((distortion, image))
            return ada_forward(module, distortion, image)

        monkeypatch.setattr(type(space.branch.ada), "forward", recording)
        out = space.render(edited)
        # ADA aligned the original distortion to the edited plain image (HFGI's edit).
        plain_edit = g.synthesize(edited["wplus"]).clamp(-1, 1)
        assert torch.equal(seen[0][0], code["distortion"])
        assert torch.allclose(seen[0][1], plain_edit, atol=1e-6)
        assert not torch.allclose(out, space.render(code), atol=1e-3)
        # A zero-strength edit renders the inversion itself; blending keeps the structure's map.
        assert torch.equal(
            space.render(space.apply_direction(code, direction, 0.0)), space.render(code)
        )
        mixed = space.blend(code.select(0), code.select(1))
        assert torch.equal(mixed["distortion"], code["distortion"][:1])


def test_training_pairs_are_warped_distortions_and_the_alignment_loss_restores_them(
    hfgi_world, images
):
    space, encoder = kit.build(hfgi_world, aug_rate=1.0, distortion_scale=0.5)
    with torch.no_grad():
        clean = encoder(images)["distortion"]  # eval mode: no warp
    encoder.train()
    torch.manual_seed(0)
    code = encoder(images)
    assert not torch.allclose(code["distortion"], clean, atol=1e-3)  # warped
    image = space.render(code)
    losses = encoder.extra_losses(code)
    assert set(losses) == {"alignment_l1"}
    aligned = space.last_alignment(code["distortion"])
    assert aligned is not None  # the render's own ADA output, not a second pass
    plain = space.plain_at_distortion_size(code["wplus"])
    expected = F.l1_loss(space.branch.ada(code["distortion"], plain), clean)
    assert float(losses["alignment_l1"].detach()) == pytest.approx(
        float(expected.detach()), rel=1e-5
    )
    (image.mean() + losses["alignment_l1"]).backward()
    assert all(p.grad is not None for p in encoder.branch.parameters())
    assert not any(p.requires_grad for p in encoder.base_encoder.parameters())
    # aug_rate 0: the pair is the true distortion itself.
    space0, encoder0 = kit.build(hfgi_world, aug_rate=0.0)
    encoder0.train()
    with torch.no_grad():
        assert torch.allclose(encoder0(images)["distortion"], clean, atol=1e-6)
    with pytest.raises(GanInvError, match="latest forward"):
        encoder.extra_losses(space.init_code(2))


def test_warp_is_torchvisions_random_perspective_and_can_draw_per_image():
    maps = torch.randn(1, 3, 16, 16).expand(4, 3, 16, 16).contiguous()
    torch.manual_seed(7)
    ours = random_perspective(maps, 0.15, 0.9)
    torch.manual_seed(7)
    reference = RandomPerspective(0.15, p=0.9)(maps)
    assert torch.equal(ours, reference)
    torch.manual_seed(7)
    batch = random_perspective(maps, 0.5, 1.0)
    assert all(torch.equal(batch[0], b) for b in batch) and not torch.equal(batch[0], maps[0])
    torch.manual_seed(7)
    each = random_perspective(maps, 0.5, 1.0, per_image=True)
    assert not all(torch.equal(each[0], b) for b in each)
    assert torch.equal(random_perspective(maps, 0.5, 0.0, per_image=True), maps)


def test_paper_sizes_of_the_branch():
    """At the paper's settings (S = 256, 512 channels at 64 px): ADA keeps 3 x 256 x 256, the
    conditions are 512 x 64 x 64 (built on the meta device: no memory)."""
    with torch.device("meta"):
        branch = HFGIBranch(512, (16, 32, 48, 64), (32, 48, 64))
        d = torch.empty(2, 3, 256, 256)
        aligned, scale, shift = branch(d, d, 64)
    assert aligned.shape == (2, 3, 256, 256)
    assert scale.shape == shift.shape == (2, 512, 64, 64)


def test_user_errors_are_one_line(hfgi_world, tiny_generator):
    with pytest.raises(GanInvError, match="needs the 'hfgi' space"):
        ganinv.build(
            "encoders",
            {"name": "hfgi", "e4e_checkpoint": str(hfgi_world["e4e"])},
            space=ganinv.build("spaces", "wplus", generator=tiny_generator),
        )
    with pytest.raises(GanInvError, match="feature_resolution to one of"):
        ganinv.build("spaces", {**kit.SPACE, "feature_resolution": 5}, generator=tiny_generator)
    space = ganinv.build("spaces", kit.SPACE, generator=tiny_generator)
    code = space.init_code(1)
    code.tensors["distortion"] = torch.zeros(1, 3, 8, 8)
    with pytest.raises(GanInvError, match="set distortion_resolution"):
        space.render(code)
    with pytest.raises(GanInvError, match="aug_rate must be in"):
        kit.build(hfgi_world, aug_rate=1.5)


def test_the_first_pass_is_reused_only_for_unchanged_codes(hfgi_world, images, monkeypatch):
    """Rendering an encoder's code reuses the encoder's G(w) (also after Code.detach); a code
    changed in place, or another code, is rendered from scratch, with the same result as a fresh
    space would give."""
    space, encoder = kit.build(hfgi_world)
    calls = []
    synthesize = type(space.generator).synthesize

    def counting(generator, *args, **kwargs):
        calls.append(1)
        return synthesize(generator, *args, **kwargs)

    with torch.no_grad():
        code = encoder(images).detach()
        monkeypatch.setattr(type(space.generator), "synthesize", counting)
        first = space.render(code)
        assert len(calls) == 1  # only the modulated pass
        code["wplus"].add_(0.25)  # in place: the cached first pass no longer holds
        second = space.render(code)
        assert len(calls) == 3
        fresh = space.render(code.clone())
        assert len(calls) == 5
    assert torch.equal(second, fresh) and not torch.allclose(first, second, atol=1e-3)
