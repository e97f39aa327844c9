"""Every registered refiner lowers the reconstruction error on the tiny world, in every space
(refiners use only the InversionSpace interface)."""

from __future__ import annotations

import pytest
import torch
from contract_specs import encoder_spec, refiner_spec, space_spec

import ganinv
from ganinv.core.components import build_component
from ganinv.core.progress import Cancelled, observe_steps
from ganinv.core.registry import registry
from ganinv.testing import check_refiner, tiny_images

REFINERS = registry("refiners").names()
SPACES = registry("spaces").names()


def build_refiner(name, space):
    # A refiner that takes an encoder (IDInvert's domain term) gets an untrained tiny one.
    encoder = ganinv.build("encoders", encoder_spec("idinvert"), space=space)
    return build_component(
        "refiners", refiner_spec(name), generator=space.generator, space=space, encoder=encoder
    )


@pytest.mark.parametrize("name", REFINERS)
def test_refiner_contract(name, tiny_generator):
    space = ganinv.build("spaces", space_spec("wplus"), generator=tiny_generator)
    images = tiny_images(tiny_generator, count=2, seed=5)
    check_refiner(build_refiner(name, space), space, images)


@pytest.mark.parametrize("name", REFINERS)
def test_refiner_reports_its_steps_and_stops_on_cancel(name, tiny_generator):
    """Refiners loop with `ganinv.core.progress.steps`: a driver (the studio) sees progress and
    can stop the work between two steps, leaving the starting code untouched."""
    space = ganinv.build("spaces", space_spec("wplus"), generator=tiny_generator)
    images = tiny_images(tiny_generator, count=2, seed=5)
    refiner = build_refiner(name, space)
    start = space.init_code(2)
    before = {k: v.clone() for k, v in start.tensors.items()}
    seen = []
    with observe_steps(lambda desc, step, total: seen.append((desc, step, total))):
        refiner.refine(space, start, images)
    assert seen, f"refiner {name!r} never called ganinv.core.progress.steps"
    assert all(0 <= step < total for _, step, total in seen)

    def stop(desc: str, step: int, total: int) -> None:
        if step == 1:
            raise Cancelled("cancelled by the test")

    with pytest.raises(Cancelled), observe_steps(stop):
        refiner.refine(space, start, images)
    assert all(torch.equal(start.tensors[k], v) for k, v in before.items())


@pytest.mark.parametrize("space_name", SPACES)
def test_optimize_works_in_every_space(space_name, tiny_generator):
    space = ganinv.build("spaces", space_spec(space_name), generator=tiny_generator)
    images = tiny_images(tiny_generator, count=2, seed=5)
    refiner = ganinv.build("refiners", {**refiner_spec("optimize"), "latent_noise": 0.05})
    ratio = check_refiner(refiner, space, images)
    assert ratio < 0.9


def test_noise_optimisation_in_a_space_without_noise_parts_is_refused(tiny_generator):
    from ganinv.core.errors import GanInvError

    space = ganinv.build("spaces", "acme_tint", generator=tiny_generator)
    refiner = ganinv.build("refiners", {**refiner_spec("optimize"), "optimize_noise": True})
    with pytest.raises(GanInvError, match="cannot render per-image noise maps"):
        refiner.refine(space, space.init_code(1), tiny_images(tiny_generator, count=1))
