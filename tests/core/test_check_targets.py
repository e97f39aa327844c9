"""`ganinv.core.refiner.check_targets`: what the optimisation and PTI refiners refuse."""

from __future__ import annotations

import pytest
import torch

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.refiner import check_targets


def test_targets_must_fit_the_generator_and_the_codes(tiny_generator) -> None:
    space = ganinv.build("spaces", "wplus", generator=tiny_generator)
    code = space.init_code(2)
    check_targets(space, code, torch.zeros(2, 3, 16, 16))  # fits: no error
    message = r"targets must be \[B, 3, 16, 16\] .* got \[2, 3, 8, 8\]"
    with pytest.raises(GanInvError, match=message):
        check_targets(space, code, torch.zeros(2, 3, 8, 8))
    with pytest.raises(GanInvError, match="^3 target images but 2 starting codes$"):
        check_targets(space, code, torch.zeros(3, 3, 16, 16))


@pytest.mark.parametrize("refiner", ["optimize", {"name": "pti", "pivot_steps": 0}])
def test_the_refiners_refuse_before_any_step(tiny_generator, refiner) -> None:
    space = ganinv.build("spaces", "wplus", generator=tiny_generator)
    built = ganinv.build("refiners", refiner)
    with pytest.raises(GanInvError, match="^3 target images but 2 starting codes$"):
        built.refine(space, space.init_code(2), torch.zeros(3, 3, 16, 16))
