"""The optimize refiner: schedule, recovery of known targets in W+ / W / Z, noise optimisation."""

from __future__ import annotations

import math

import pytest
import torch
from ganinv_baselines.noise import noise_regularizer, renormalize_
from ganinv_baselines.optimize import latent_noise_scale, projector_lr_ramp

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code


def refine(space, target, **settings):
    refiner = ganinv.build("refiners", {"name": "optimize", "losses": {"mse": 1.0}, **settings})
    code = refiner.refine(space, space.init_code(target.shape[0]), target)
    with torch.no_grad():
        mse = (space.render(code) - target).square().mean().item()
    return code, mse, refiner


def test_projector_schedule_values():
    # Ramp-up over the first 5 %, cosine ramp-down over the last 25 % (stylegan2-ada projector).
    assert projector_lr_ramp(0.0, 0.05, 0.25) == 0.0
    assert projector_lr_ramp(0.025, 0.05, 0.25) == pytest.approx(0.5)
    assert projector_lr_ramp(0.5, 0.05, 0.25) == 1.0
    assert projector_lr_ramp(0.875, 0.05, 0.25) == pytest.approx(0.5)
    assert projector_lr_ramp(1.0, 0.05, 0.25) == pytest.approx(0.0)
    assert projector_lr_ramp(0.3, 0.0, 0.0) == 1.0
    assert latent_noise_scale(0.0, 0.05, 0.75) == 0.05
    assert latent_noise_scale(0.375, 0.05, 0.75) == pytest.approx(0.05 / 4)
    assert latent_noise_scale(0.8, 0.05, 0.75) == 0.0


def test_wplus_recovers_sampled_target(tiny_generator):
    g = tiny_generator
    torch.manual_seed(1)
    with torch.no_grad():
        target = g.synthesize(g.mapping(torch.randn(1, g.z_dim)))
    space = ganinv.build("spaces", "wplus", generator=g)
    start = (space.render(space.init_code(1)) - target).square().mean().item()
    _, mse, refiner = refine(space, target, steps=500, latent_noise=0.0, lr_rampdown=0.0)
    assert mse < 1e-3, mse
    assert start > 100 * mse
    assert len(refiner.history) == 500


def test_w_is_worse_than_wplus_on_a_wplus_target(tiny_generator):
    g = tiny_generator
    torch.manual_seed(2)
    with torch.no_grad():  # a different mapped z for every layer: in W+, not in W
        ws = g.mapping_w(torch.randn(g.num_ws, g.z_dim)).unsqueeze(0)
        target = g.synthesize(ws)
    settings = {"steps": 200}
    _, mse_wplus, _ = refine(ganinv.build("spaces", "wplus", generator=g), target, **settings)
    _, mse_w, _ = refine(ganinv.build("spaces", "w", generator=g), target, **settings)
    assert mse_w > 3 * mse_wplus, (mse_w, mse_wplus)


def test_z_inverts_through_the_mapping(tiny_generator):
    g = tiny_generator
    torch.manual_seed(3)
    with torch.no_grad():
        target = g(torch.randn(1, g.z_dim))
    space = ganinv.build("spaces", {"name": "z", "init_samples": 1000}, generator=g)
    start = (space.render(space.init_code(1)) - target).square().mean().item()
    code, mse, _ = refine(space, target, steps=200)
    assert set(code.tensors) == {"z"} and not code["z"].requires_grad
    assert mse < start / 10, (start, mse)


def test_refine_starts_from_given_code_and_returns_detached(tiny_generator):
    g = tiny_generator
    space = ganinv.build("spaces", "wplus", generator=g)
    torch.manual_seed(4)
    with torch.no_grad():
        good = g.mapping(torch.randn(2, g.z_dim))
        target = g.synthesize(good)
    refiner = ganinv.build(
        "refiners",
        {"name": "optimize", "steps": 5, "lr": 0.01, "latent_noise": 0.0, "losses": {"mse": 1.0}},
    )
    start = Code("wplus", {"wplus": good + 0.01})
    out = refiner.refine(space, start, target)
    assert not out["wplus"].requires_grad
    assert (out["wplus"] - good).abs().max() < 0.1  # stayed near the good start
    assert torch.equal(start["wplus"], good + 0.01)  # the input code is not modified


def test_noise_optimisation(tiny_generator):
    g = tiny_generator
    torch.manual_seed(5)
    with torch.no_grad():
        target = g.synthesize(g.mapping(torch.randn(2, g.z_dim)), noise_mode="random")
    space = ganinv.build("spaces", "wplus", generator=g)
    code, _, refiner = refine(space, target, steps=30, optimize_noise=True)
    keys = sorted(k for k in code.tensors if k.startswith("noise."))
    assert len(keys) == len(g.noise_buffers())
    for key in keys:  # renormalised per image after every step
        noise = code[key]
        assert noise.shape[0] == 2 and noise.shape[1] == 1
        assert torch.allclose(noise.mean(dim=(1, 2, 3)), torch.zeros(2), atol=1e-5)
        assert torch.allclose(noise.square().mean(dim=(1, 2, 3)), torch.ones(2), atol=1e-4)
    assert refiner.history[-1] < refiner.history[0]
    # Refining that code again without optimize_noise keeps its noise maps fixed.
    again = ganinv.build("refiners", {"name": "optimize", "steps": 3, "losses": {"mse": 1.0}})
    out = again.refine(space, code, target)
    assert all(torch.equal(out[k], code[k]) for k in keys)
    assert not torch.equal(out["wplus"], code["wplus"])


def test_noise_regularizer_penalises_correlated_noise():
    torch.manual_seed(6)
    white = torch.randn(2, 1, 32, 32)
    smooth = torch.nn.functional.avg_pool2d(torch.randn(2, 1, 34, 34), 3, stride=1)
    renormalize_([smooth])
    assert noise_regularizer([smooth]) > 50 * noise_regularizer([white])
    # Formula check on a constant map: every autocorrelation is 1 at each of the 3 scales, x2 axes.
    assert noise_regularizer([torch.ones(1, 1, 32, 32)]).item() == pytest.approx(6.0)
    assert math.isfinite(noise_regularizer([white]).item())


def test_errors(tiny_generator):
    g = tiny_generator
    space = ganinv.build("spaces", "wplus", generator=g)
    refiner = ganinv.build("refiners", {"name": "optimize", "steps": 1, "losses": {"mse": 1.0}})
    with pytest.raises(GanInvError, match="resize"):
        refiner.refine(space, space.init_code(1), torch.zeros(1, 3, 8, 8))
    with pytest.raises(GanInvError, match="starting codes"):
        refiner.refine(space, space.init_code(2), torch.zeros(1, 3, 16, 16))
    with pytest.raises(GanInvError, match="unknown loss"):
        bad = ganinv.build("refiners", {"name": "optimize", "steps": 1, "losses": {"msee": 1.0}})
        bad.refine(space, space.init_code(1), torch.zeros(1, 3, 16, 16))
    with pytest.raises(GanInvError, match="steps"):
        ganinv.build("refiners", {"name": "optimize", "steps": 0})
