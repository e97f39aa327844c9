"""PTI as a refiner on the tiny world: per-image tuning, early stop, multi-image, locality.

LPIPS is replaced by MSE-only settings (or a scripted stand-in for the early-stop test) so the
tests need no LPIPS network and run in seconds.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code
from ganinv.core.weight_offsets import WeightOffsetHooks, offsets_of, without_offsets
from ganinv.testing import tiny_images

FAST = {
    "pivot_steps": 0,
    "tune_steps": 15,
    "tune_lr": 0.01,
    "lpips_lambda": 0.0,
    "lpips_threshold": None,
}


def _space(generator, name: str):
    # Few W samples: the spread is computed once per space and would dominate the test time.
    return ganinv.build("spaces", {"name": name, "w_std_samples": 200}, generator=generator)


def _pti(**kwargs):
    return ganinv.build("refiners", {"name": "pti", **{**FAST, **kwargs}})


def _targets(generator, count: int = 2) -> torch.Tensor:
    """Images outside the generator's range: its renders with a fixed stripe pattern added."""
    images = tiny_images(generator, count=count, seed=5)
    stripes = torch.zeros_like(images)
    stripes[:, :, ::4] = 0.4
    return (images + stripes).clamp(-1, 1)


def _mse(space, code, images) -> torch.Tensor:
    with torch.no_grad():
        return (space.render(code) - images).square().flatten(1).mean(1)


def test_tuning_fits_each_image_beyond_its_pivot_and_leaves_the_generator(tiny_generator):
    space = _space(tiny_generator, "wplus")
    images = _targets(tiny_generator)
    before = {k: v.clone() for k, v in tiny_generator.state_dict().items()}
    pivot = ganinv.build(
        "refiners",
        {"name": "optimize", "steps": 40, "lr": 0.05, "latent_noise": 0.0, "losses": {"mse": 1}},
    ).refine(space, space.init_code(2), images)
    tuned = _pti(tune_steps=40).refine(space, pivot, images)
    assert torch.equal(tuned["wplus"], pivot["wplus"])  # pivot_steps 0: the pivot is kept
    offsets = offsets_of(tuned.tensors)
    assert sorted(offsets) == sorted(tiny_generator.weight_parameters())
    ratio = _mse(space, tuned, images) / _mse(space, pivot, images)
    assert (ratio < 0.8).all(), ratio
    for k, v in tiny_generator.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_a_batch_tunes_each_image_as_if_alone(tiny_generator):
    space = _space(tiny_generator, "w")
    images = _targets(tiny_generator)
    start = space.init_code(2)
    both = _pti().refine(space, start, images)
    alone = _pti().refine(space, start.select(1), images[1:])
    for name, value in offsets_of(alone.tensors).items():
        torch.testing.assert_close(offsets_of(both.tensors)[name][1:], value, rtol=1e-3, atol=1e-5)
    assert offsets_of(both.tensors)["b8.conv1"].abs().max() > 1e-3


def test_pivot_stage_optimises_the_latent_and_drops_its_noise_maps(tiny_generator):
    space = _space(tiny_generator, "w")
    images = tiny_images(tiny_generator, count=2, seed=7)
    refiner = _pti(
        pivot_steps=20,
        pivot_lr=0.05,
        pivot_losses={"mse": 1.0},
        pivot_latent_noise=0.0,
        tune_steps=1,
    )
    start = space.init_code(2)
    code = refiner.refine(space, start, images)
    assert sorted(without_offsets(code.tensors)) == ["w"]  # optimised noise maps discarded
    pivot_only = Code("w", {"w": code["w"]})
    assert (_mse(space, pivot_only, images) < 0.9 * _mse(space, start, images)).all()


class _ScriptedLPIPS(nn.Module):
    """Stands in for LPIPS: image 0 reads 0 from call `stop_at` on, the other images read 1."""

    def __init__(self, stop_at: int) -> None:
        super().__init__()
        self.calls = 0
        self.stop_at = stop_at

    def forward(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        values = torch.ones(real.shape[0]) + 0 * fake.mean(dim=[1, 2, 3])
        if self.calls > self.stop_at and real.shape[0] == 2:
            values = torch.cat([values[:1] * 0, values[1:]])
        return values.reshape(-1, 1, 1, 1)


def test_early_stop_keeps_the_offsets_that_met_the_threshold(tiny_generator):
    space = _space(tiny_generator, "w")
    images = _targets(tiny_generator)
    start = space.init_code(2)
    refiner = _pti(tune_steps=12)
    refiner.lpips_threshold = 0.5
    refiner._lpips = _ScriptedLPIPS(stop_at=4)
    code = refiner.refine(space, start, images)
    assert refiner.stop_steps == [4, 12]
    # Image 0 stopped before step 4's update: its offsets are those after 4 steps.
    four = _pti(tune_steps=4).refine(space, start, images)
    for name, value in offsets_of(four.tensors).items():
        got = offsets_of(code.tensors)[name]
        torch.testing.assert_close(got[0], value[0], rtol=1e-4, atol=1e-6)
        assert not torch.allclose(got[1], value[1])  # image 1 kept tuning


def test_multi_image_tunes_one_generator_for_the_set(tiny_generator):
    space = _space(tiny_generator, "w")
    images = _targets(tiny_generator)
    start = space.init_code(2)
    code = _pti(multi_image=True, tune_steps=10).refine(space, start, images)
    for value in offsets_of(code.tensors).values():
        assert torch.equal(value[0], value[1])
    assert (_mse(space, code, images) < _mse(space, start, images)).all()


def test_locality_keeps_the_tuned_generator_closer_away_from_the_pivot(tiny_generator):
    space = _space(tiny_generator, "w")
    images = _targets(tiny_generator, count=1)
    start = space.init_code(1)
    z = torch.randn(8, tiny_generator.z_dim, generator=torch.Generator().manual_seed(11))
    with torch.no_grad():
        ws = tiny_generator.mapping(z, truncation_psi=0.5)
        original = tiny_generator.synthesize(ws, noise_mode="none")

    def drift(code: Code) -> float:
        offsets = {k: v.expand(8, *v.shape[1:]) for k, v in offsets_of(code.tensors).items()}
        with torch.no_grad():
            tuned = tiny_generator.synthesize(
                ws, hooks=WeightOffsetHooks(offsets), noise_mode="none"
            )
        return float((tuned - original).square().mean())

    plain = _pti(tune_steps=20).refine(space, start, images)
    local = _pti(
        tune_steps=20, locality=True, locality_l2_lambda=20.0, locality_lpips_lambda=0.0
    ).refine(space, start, images)
    assert drift(local) < 0.7 * drift(plain)


def test_edit_directions_apply_on_top_of_the_tuned_generator(tiny_generator):
    space = _space(tiny_generator, "wplus")
    images = _targets(tiny_generator)
    code = _pti().refine(space, space.init_code(2), images)
    direction = torch.randn(tiny_generator.w_dim, generator=torch.Generator().manual_seed(2))
    edited = space.apply_direction(code, direction, 1.5)
    assert sorted(offsets_of(edited.tensors)) == sorted(offsets_of(code.tensors))
    with torch.no_grad():
        want = tiny_generator.synthesize(
            code["wplus"] + 1.5 * direction, hooks=WeightOffsetHooks(offsets_of(code.tensors))
        )
        torch.testing.assert_close(space.render(edited), want, rtol=0, atol=0)


def test_bad_settings_are_one_line_errors(tiny_generator):
    with pytest.raises(GanInvError, match="tune_steps must be an integer >= 0"):
        _pti(tune_steps=-1)
    space = _space(tiny_generator, "w")
    with pytest.raises(GanInvError, match="layers \\['b64.conv1'\\] are not tunable"):
        _pti(layers=["b64.conv1"]).refine(space, space.init_code(1), tiny_images(tiny_generator, 1))
