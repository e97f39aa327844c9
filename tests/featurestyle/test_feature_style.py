"""The Feature-Style encoder: shapes, blend ramp, f_recon, training through `ganinv train`."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from tiny_world import render_image_folder, save_tiny_networks, train_on_cpu

import ganinv
from ganinv.core.errors import GanInvError

SMALL = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}


def build(space, **args):
    return ganinv.build("encoders", {"name": "feature_style", **SMALL, **args}, space=space)


def test_codes_have_the_space_layout_and_stride_follows_the_stage(fspace, images):
    # stage 0 of a 16 px input is 8 px, the layer's size: stride 1
    encoder = build(fspace, feature_stage=0).eval()
    with torch.no_grad():
        code = encoder(images)
    g = fspace.generator
    assert code.space == "fspace" and code.meta == {"feature_layer": "b8.conv1"}
    assert code["wplus"].shape == (4, g.num_ws, g.w_dim)
    assert code["feature"].shape == (4, *fspace.feature_shape())
    assert encoder.feature.net[4].stride == (1, 1)
    # a 32 px input: stage 0 is 16 px, twice the layer: stride 2, as FSE's fs_stride
    wide = build(fspace, feature_stage=0, input_resolution=32).eval()
    assert wide.feature.net[4].stride == (2, 2)
    with torch.no_grad():
        assert wide(F.interpolate(images, size=32))["feature"].shape[-1] == 8


def test_settings_that_cannot_work_are_refused(fspace, wplus):
    with pytest.raises(GanInvError, match="stage 2 is 2 px .* pick a feature_stage"):
        build(fspace, feature_stage=2)
    with pytest.raises(GanInvError, match="needs the 'fspace' space"):
        build(wplus, feature_stage=0)
    with pytest.raises(GanInvError, match="expects images \\[B, 3, 16, 16\\]"):
        build(fspace, feature_stage=0)(torch.zeros(1, 3, 8, 8))


def test_the_blend_ramp_starts_at_the_wplus_image_and_hands_over_to_f(fspace, wplus, images):
    encoder = build(fspace, feature_stage=0, blend_steps=4).train()
    code = encoder(images)  # step 0: s = 0, the feature is the generator's own
    own = fspace.generator_feature(code["wplus"])
    assert torch.allclose(code["feature"], own, atol=1e-6)
    with torch.no_grad():
        assert torch.allclose(
            fspace.render(code), wplus.render(wplus.make_code(code["wplus"])), atol=1e-5
        )
    predicted = encoder.feature(encoder.backbone(images)[0])
    f_recon = encoder.extra_losses(code)["f_recon"]
    assert torch.allclose(f_recon, F.mse_loss(predicted, own.detach()), rtol=1e-5)
    encoder.steps_seen = 2  # s = 1/2: halfway
    code = encoder(images)
    own = fspace.generator_feature(code["wplus"])
    predicted = encoder.feature(encoder.backbone(images)[0])
    assert torch.allclose(code["feature"], 0.5 * own + 0.5 * predicted, atol=1e-5)
    assert encoder.steps_seen == 3 and encoder.auxiliary_state() == {"steps_seen": 3}
    # Eval: s = 1 whatever the count; the step count does not move.
    encoder.eval()
    with torch.no_grad():
        code = encoder(images)
        assert torch.equal(code["feature"], encoder.feature(encoder.backbone(images)[0]))
    assert encoder.steps_seen == 3
    with pytest.raises(GanInvError, match="steps_seen must be a count"):
        encoder.load_auxiliary_state({"steps_seen": -1})


@pytest.mark.slow
def test_trains_through_ganinv_train(tmp_path):
    """30 steps on images of a tiny generator: the loss falls and the blend reaches F."""
    from tiny_world import tiny_generator

    generator = tiny_generator(0, w_avg_samples=256, noise_strength=0.1)
    path = save_tiny_networks(tmp_path / "g.safetensors", generator)
    folder = render_image_folder(tmp_path / "images", generator, 16, seed=1)
    out = tmp_path / "run"
    train_on_cpu(
        {
            "method": {
                "generator": str(path),
                "space": {"name": "fspace", "feature_resolution": 8, "w_std_samples": 200},
                "encoder": {
                    "name": "feature_style",
                    **SMALL,
                    "feature_stage": 0,
                    "blend_steps": 10,
                },
            },
            "data": {"name": "folder", "path": str(folder), "resolution": 16},
            "losses": {"mse": 1.0},
            "extra_loss_weights": {"f_recon": 0.01},
            "optimizer": {"name": "adam", "lr": 0.002},
            "steps": 30,
            "batch_size": 8,
            "seed": 0,
            "log_every": 1,
            "checkpoint_every": 30,
            "out": str(out),
            "progress": False,
        }
    )
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    mse = [r["loss/mse"] for r in log]
    assert len(mse) == 30 and all("loss/extra/f_recon" in r for r in log)
    assert sum(mse[-5:]) < 0.5 * sum(mse[:5]), (mse[:5], mse[-5:])
