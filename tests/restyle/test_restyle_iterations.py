"""ReStyle's residual scheme: start at w_avg and G(w_avg), add one predicted offset per step from
concat(image, current reconstruction), a loss per training step, a settable number of steps."""

from __future__ import annotations

import pytest
import torch

import ganinv
from ganinv.core.errors import GanInvError

SMALL = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}


def build(wplus, name: str = "restyle_psp", **args):
    torch.manual_seed(0)
    return ganinv.build("encoders", {"name": name, **SMALL, **args}, space=wplus)


def test_first_step_reads_the_average_image_and_starts_from_w_avg(wplus, images):
    encoder = build(wplus).eval()
    seen = []
    encoder.backbone.register_forward_hook(lambda m, args, out: seen.append(args[0].clone()))
    with torch.no_grad():
        (code,) = encoder.iterate(images, 1)
        average = wplus.render(wplus.init_code(1))
        delta = encoder.predict_delta(torch.cat([images, average.expand_as(images)], dim=1))
    assert seen[0].shape == (4, 6, 16, 16)
    assert torch.equal(seen[0][:, :3], images)
    assert torch.allclose(seen[0][:, 3:], average.expand_as(images))
    w_avg = wplus.generator.w_avg.expand_as(code["wplus"])
    assert torch.allclose(code["wplus"], w_avg + delta, atol=1e-6)


def test_each_step_adds_the_offset_predicted_from_the_last_reconstruction(wplus, images):
    encoder = build(wplus).eval()
    with torch.no_grad():
        codes = encoder.iterate(images, 3)
        for before, after in zip(codes, codes[1:]):
            recon = wplus.render(before)
            delta = encoder.predict_delta(torch.cat([images, recon], dim=1))
            assert torch.allclose(after["wplus"], before["wplus"] + delta, atol=1e-5)
        # the offsets are not zero: the steps really move the code
        assert float((codes[2]["wplus"] - codes[1]["wplus"]).abs().max()) > 1e-3


def test_inference_steps_is_the_number_of_steps_forward_takes(wplus, images):
    with torch.no_grad():
        codes = build(wplus).eval().iterate(images, 4)
        for steps in (1, 2, 4):
            code = build(wplus, inference_steps=steps).eval()(images)
            assert torch.allclose(code["wplus"], codes[steps - 1]["wplus"], atol=1e-6)
    # a one-step encoder is not the four-step one
    assert not torch.allclose(codes[0]["wplus"], codes[3]["wplus"], atol=1e-4)


@pytest.mark.parametrize("name", ["restyle_psp", "restyle_e4e"])
def test_training_codes_one_per_step_each_graph_only_its_own_step(wplus, images, name):
    extra = {"w_discriminator": False} if name == "restyle_e4e" else {}
    encoder = build(wplus, name, train_steps=3, **extra).train()
    codes = encoder.training_codes(images)
    assert len(codes) == 3
    # step 2's loss reaches the network only through step 2's offset: the same gradient as the
    # offset computed from detached inputs (ReStyle detaches y_hat and the code between steps)
    encoder.zero_grad()
    codes[2]["wplus"].square().sum().backward()
    through_code = [p.grad.clone() for p in encoder.parameters() if p.grad is not None]
    encoder.zero_grad()
    with torch.no_grad():
        recon = wplus.render(codes[1])
    delta = encoder.predict_delta(torch.cat([images, recon], dim=1))
    (codes[1]["wplus"].detach() + delta).square().sum().backward()
    direct = [p.grad.clone() for p in encoder.parameters() if p.grad is not None]
    assert len(through_code) == len(direct) > 0
    for a, b in zip(through_code, direct):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)


def test_e4e_variant_before_its_first_stage_predicts_one_code_for_every_layer(wplus, images):
    encoder = build(wplus, "restyle_e4e", progressive_start=10, w_discriminator=False).eval()
    assert encoder.stage == 0
    with torch.no_grad():
        codes = encoder.iterate(images, 2)
    for code in codes:
        offsets = code["wplus"] - wplus.generator.w_avg  # every step adds one w0 to all layers
        assert torch.allclose(offsets, offsets[:, :1].expand_as(offsets), atol=1e-5)
    encoder.trained_steps.fill_(10)  # stage 1: layer 1 gets its own offset
    with torch.no_grad():
        code = encoder.iterate(images, 1)[0]["wplus"]
    assert float((code[:, 1] - code[:, 0]).abs().max()) > 1e-4
    assert torch.allclose(code[:, 2:], code[:, :1].expand_as(code[:, 2:]), atol=1e-6)


@pytest.mark.parametrize("name", ["restyle_psp", "restyle_e4e"])
def test_predict_wplus_is_the_code_after_the_inference_steps(wplus, images, name):
    encoder = build(wplus, name, inference_steps=2).eval()
    with torch.no_grad():
        assert torch.equal(encoder.predict_wplus(images), encoder.iterate(images, 2)[-1]["wplus"])


@pytest.mark.parametrize("field", ["train_steps", "inference_steps"])
def test_steps_below_one_are_refused_naming_the_field(wplus, field):
    with pytest.raises(GanInvError, match=field):
        build(wplus, **{field: 0})


def test_only_the_wplus_space_is_accepted(tiny_generator):
    space = ganinv.build("spaces", "w", generator=tiny_generator)
    with pytest.raises(GanInvError, match="restyle_psp.*'wplus'"):
        ganinv.build("encoders", {"name": "restyle_psp", **SMALL}, space=space)


def test_an_exported_encoder_inverts_with_the_inference_steps_a_method_asks(
    tiny_generator, images, tmp_path
):
    from tiny_world import save_tiny_networks

    from ganinv.harness.method import build_method, save_encoder
    from ganinv.harness.schema import MethodConfig

    generator_file = save_tiny_networks(tmp_path / "g.safetensors", tiny_generator)
    spec = {"name": "restyle_psp", **SMALL, "inference_steps": 3}
    method = MethodConfig(generator=str(generator_file), space="wplus", encoder=spec)
    wplus = build_method(method).space
    torch.manual_seed(0)
    encoder = ganinv.build("encoders", spec, space=wplus).eval()
    path = save_encoder(tmp_path / "restyle.safetensors", encoder, method)
    with torch.no_grad():
        want = [c["wplus"] for c in encoder.iterate(images, 3)]
        as_saved = build_method(MethodConfig(encoder_checkpoint=str(path))).encoder(images)
        one_step = build_method(
            MethodConfig(encoder_checkpoint=str(path), encoder={**spec, "inference_steps": 1})
        ).encoder(images)
    assert torch.allclose(as_saved["wplus"], want[2], atol=1e-5)
    assert torch.allclose(one_step["wplus"], want[0], atol=1e-5)
