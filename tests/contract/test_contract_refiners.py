"""Every registered refiner lowers the reconstruction error on the tiny world, in every space
(refiners use only the InversionSpace interface)."""

from __future__ import annotations

import pytest
from contract_specs import encoder_spec, refiner_spec, space_spec

import ganinv
from ganinv.core.components import build_component
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
