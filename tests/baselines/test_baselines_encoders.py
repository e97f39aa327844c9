"""pSp, e4e and W encoders: shapes, falling loss over a few CPU steps, e4e's training parts."""

from __future__ import annotations

import pytest
import torch
from ganinv_baselines.psp_parts import FeaturePyramid, GradualStyleBlock, style_split

import ganinv
from ganinv.core.errors import GanInvError

SMALL = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}


def train_steps(encoder, space, images, steps=12, extra_weights=None):
    """A minimal version of the harness's loop: encoder step, then the auxiliary step."""
    params = [p for p in encoder.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=2e-3)
    losses = []
    for _ in range(steps):
        code = encoder(images)
        loss = (space.render(code) - images).square().mean()
        extra = encoder.extra_losses(code)
        total = loss + sum((extra_weights or {}).get(k, 0.0) * v for k, v in extra.items())
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        encoder.auxiliary_step(code, images)
        losses.append(float(loss.detach()))
    return losses


@pytest.mark.parametrize("name", ["psp", "e4e", "w_encoder"])
def test_encoder_trains(name, tiny_generator, wplus, images):
    torch.manual_seed(0)
    settings = dict(SMALL)
    if name == "e4e":
        settings.update(progressive_start=3, progressive_step_every=2)
    encoder = ganinv.build("encoders", {"name": name, **settings}, space=wplus)
    code = encoder(images)
    assert code.space == "wplus"
    assert code["wplus"].shape == (4, tiny_generator.num_ws, tiny_generator.w_dim)
    weights = {"delta_norm": 2e-4, "w_discriminator": 0.1}
    losses = train_steps(encoder, wplus, images, extra_weights=weights)
    assert losses[-1] < 0.7 * losses[0], losses


def test_codes_are_offsets_from_w_avg(tiny_generator, wplus, images):
    torch.manual_seed(0)
    on = ganinv.build("encoders", {"name": "psp", **SMALL}, space=wplus).eval()
    off = ganinv.build("encoders", {"name": "psp", **SMALL}, space=wplus).eval()
    off.load_state_dict(on.state_dict())
    off.start_from_latent_avg = False
    diff = on(images)["wplus"] - off(images)["wplus"]
    assert torch.allclose(diff, tiny_generator.w_avg.expand_as(diff), atol=1e-5)


def test_w_encoder_in_w_space(tiny_generator, images):
    space = ganinv.build("spaces", "w", generator=tiny_generator)
    encoder = ganinv.build("encoders", {"name": "w_encoder", **SMALL}, space=space)
    code = encoder(images)
    assert code.space == "w" and code["w"].shape == (4, tiny_generator.w_dim)
    assert space.render(code).shape == images.shape


def test_e4e_progressive_stages_and_discriminator(tiny_generator, wplus, images):
    torch.manual_seed(0)
    encoder = ganinv.build(
        "encoders",
        {
            "name": "e4e",
            **SMALL,
            "progressive_start": 2,
            "progressive_step_every": 1,
            "d_reg_every": 2,
        },
        space=wplus,
    )
    assert encoder.schedule == [0, 2, 3, 4, 5, 6]
    code = encoder(images)["wplus"]
    assert encoder.stage == 0
    assert torch.allclose(code, code[:, :1].expand_as(code))  # stage 0: a single W
    extra = encoder.extra_losses(encoder(images))
    assert extra["delta_norm"].item() == 0.0 and "w_discriminator" in extra
    d_before = [p.clone() for p in encoder.discriminator.parameters()]
    e_before = [p.clone() for p in encoder.pyramid.parameters()]
    logs = {}
    for _ in range(3):
        logs = encoder.auxiliary_step(encoder(images), images)
    assert int(encoder.trained_steps) == 3 and encoder.stage == 2 and logs["e4e_stage"] == 2
    assert "w_discriminator_loss" in logs
    assert any(not torch.equal(a, b) for a, b in zip(d_before, encoder.discriminator.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(e_before, encoder.pyramid.parameters()))
    assert not any(p.requires_grad for p in encoder.discriminator.parameters())
    code = encoder(images)["wplus"]
    assert not torch.allclose(code[:, 1], code[:, 0])  # offsets 1..2 active
    assert torch.allclose(code[:, 3:], code[:, :1].expand_as(code[:, 3:]))
    assert encoder.extra_losses(encoder(images))["delta_norm"].item() > 0
    # The step counter is saved, so a reloaded encoder resumes at the same stage.
    clone = ganinv.build(
        "encoders",
        {"name": "e4e", **SMALL, "progressive_start": 2, "progressive_step_every": 1},
        space=wplus,
    )
    clone.load_state_dict(encoder.state_dict())
    assert clone.stage == 2
    # The encoder's adversarial term reaches the encoder, not the discriminator.
    encoder.zero_grad(set_to_none=True)
    encoder.extra_losses(encoder(images))["w_discriminator"].backward()
    assert all(p.grad is None for p in encoder.discriminator.parameters())
    assert any(p.grad is not None for p in encoder.styles.parameters())


def test_psp_parts_shapes():
    pyramid = FeaturePyramid(None, units=[1, 1, 1, 1], widths=[8, 8, 16, 16])
    c3, p2, p1 = pyramid(torch.randn(2, 3, 32, 32))
    assert c3.shape == (2, 16, 2, 2) and p2.shape == (2, 16, 4, 4) and p1.shape == (2, 16, 8, 8)
    assert FeaturePyramid.spatial(256) == (16, 32, 64)
    ir50 = FeaturePyramid(50)
    assert (ir50.tap_c1, ir50.tap_c2, ir50.tap_c3) == (6, 20, 23)  # pSp's taps
    assert len(GradualStyleBlock(16, 8, 16).convs) == 2 * 4  # log2(16) stride-2 convs
    assert GradualStyleBlock(16, 8, 4)(torch.randn(3, 16, 4, 4)).shape == (3, 8)
    assert style_split(18) == (3, 7) and style_split(14) == (3, 7)
    assert style_split(6) == (3, 5) and style_split(8) == (3, 7)
    with pytest.raises(GanInvError):
        style_split(6, [4, 3])


def test_encoder_errors(tiny_generator, wplus):
    w = ganinv.build("spaces", "w", generator=tiny_generator)
    with pytest.raises(GanInvError, match="space"):
        ganinv.build("encoders", {"name": "psp", **SMALL}, space=w)
    encoder = ganinv.build("encoders", {"name": "psp", **SMALL}, space=wplus)
    with pytest.raises(GanInvError, match=r"\[B, 3, 16, 16\]"):
        encoder(torch.randn(1, 3, 32, 32))
    with pytest.raises(GanInvError, match="divisible by 16"):
        ganinv.build("encoders", {"name": "psp", **SMALL, "input_resolution": 24}, space=wplus)
    with pytest.raises(GanInvError, match="unknown argument"):
        ganinv.build("encoders", {"name": "e4e", **SMALL, "progresive_start": 1}, space=wplus)


def test_backbone_weights_from_an_ir_se_state_dict(wplus, tmp_path):
    from ganinv.nets.ir_se import IRSEBackbone

    # The public ArcFace IR-SE50 layout fits the depth-50 pyramid key for key, shape for shape.
    arcface = {k: v.shape for k, v in IRSEBackbone(50).state_dict().items()}
    pyramid = FeaturePyramid(50)
    for part in ("input_layer", "body"):
        for k, v in getattr(pyramid, part).state_dict().items():
            assert arcface[f"{part}.{k}"] == v.shape
    # Loading: a small "ArcFace" file (with an output_layer to ignore) fills stem and body.
    donor = ganinv.build("encoders", {"name": "psp", **SMALL}, space=wplus).pyramid
    with torch.no_grad():
        for p in donor.parameters():
            p.normal_()
    state = {f"input_layer.{k}": v for k, v in donor.input_layer.state_dict().items()}
    state.update({f"body.{k}": v for k, v in donor.body.state_dict().items()})
    state["output_layer.1.weight"] = torch.zeros(3)
    path = tmp_path / "ir_se.pth"
    torch.save(state, path)
    for name in ("psp", "e4e", "w_encoder"):
        enc = ganinv.build(
            "encoders", {"name": name, **SMALL, "backbone_weights": str(path)}, space=wplus
        )
        body = enc.pyramid.body if name != "w_encoder" else enc.body
        assert all(torch.equal(a, b) for a, b in zip(body.parameters(), donor.body.parameters()))
    wide = {**SMALL, "widths": [8, 8, 16, 32], "backbone_weights": str(path)}
    with pytest.raises(GanInvError, match="does not fit"):
        ganinv.build("encoders", {"name": "psp", **wide}, space=wplus)
    with pytest.raises(GanInvError, match="no such file"):
        ganinv.build(
            "encoders", {"name": "psp", **SMALL, "backbone_weights": "x/y.pth"}, space=wplus
        )
