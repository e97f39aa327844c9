"""Every registered space keeps the space contract (ganinv.testing.check_space)."""

from __future__ import annotations

import pytest
from contract_specs import space_spec

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.registry import registry
from ganinv.testing import ContractError, check_space
from ganinv.testing.space_check import check_rejects_foreign

SPACES = registry("spaces").names()


def test_the_suite_sees_builtin_and_third_party_spaces():
    assert {"z", "w", "wplus", "padinv", "sdic", "acme_tint"} <= set(SPACES)


@pytest.mark.parametrize("name", SPACES)
def test_space_contract(name, tiny_generator):
    space = ganinv.build("spaces", space_spec(name), generator=tiny_generator)
    check_space(space, name=name)


def test_check_space_catches_a_space_that_renders_foreign_codes(tiny_generator):
    class Careless(type(ganinv.build("spaces", "wplus", generator=tiny_generator))):
        def render(self, code, noise_mode="const"):
            return self.generator.synthesize(code["wplus"])  # no self.check(code)

    space = Careless(tiny_generator, w_std_samples=10)
    with pytest.raises(ContractError, match="render\\(\\) accepted a code of space"):
        check_rejects_foreign(space, space.init_code(1))


def test_check_space_catches_a_wrong_name(tiny_generator):
    space = ganinv.build("spaces", space_spec("w"), generator=tiny_generator)
    with pytest.raises(ContractError, match="registered as 'w2'"):
        check_space(space, name="w2")


@pytest.mark.parametrize("operation", ["apply_direction", "blend"])
def test_unsupported_operations_say_so(operation, tiny_generator):
    space = ganinv.build("spaces", "acme_tint", generator=tiny_generator)
    code = space.init_code(1)
    args = (code, tiny_generator.w_avg, 1.0) if operation == "apply_direction" else (code, code)
    with pytest.raises(GanInvError, match=f"does not support .*\\({operation}\\)"):
        getattr(space, operation)(*args)


def test_the_harness_derives_an_empty_space_name_and_rejects_a_different_one(tiny_generator):
    from ganinv.core.components import check_space_name

    space = ganinv.build("spaces", "acme_tint", generator=tiny_generator)
    space.name = ""
    check_space_name(space, "acme_tint")
    assert space.name == "acme_tint"
    with pytest.raises(GanInvError, match="has name 'acme_tint' but is registered as 'tint2'"):
        check_space_name(space, "tint2")


def test_default_optimisation_hooks(tiny_generator):
    """What a space without its own hooks tells a refiner: the W spread for w/wplus parts (the
    StyleGAN2 projector's), nothing for other parts, and no noise parts."""
    from ganinv.core.latent_stats import w_std

    space = ganinv.build("spaces", "acme_tint", generator=tiny_generator)
    assert space.latent_noise_std("wplus") == pytest.approx(w_std(tiny_generator))
    assert space.latent_noise_std("tint") is None
    assert not space.is_noise_part("shade")
    with pytest.raises(GanInvError, match="cannot render per-image noise maps"):
        space.init_noise_parts(1, seed=0)
