"""Every registered encoder keeps the encoder contract (ganinv.testing.check_encoder); the
generic encoder does so for every registered space, third-party ones included."""

from __future__ import annotations

from pathlib import Path

import pytest
from contract_specs import ENCODER_SPACE, encoder_spec, space_spec

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.registry import registry
from ganinv.testing import ContractError, check_encoder

ENCODERS = registry("encoders").names()
SPACES = registry("spaces").names()


@pytest.fixture(scope="module")
def e4e_file(tmp_path_factory, tiny_generator) -> Path:
    """An untrained tiny e4e exported as `ganinv train` does (SDIC's frozen base)."""
    from ganinv.harness.method import save_encoder
    from ganinv.harness.schema import MethodConfig

    space = ganinv.build("spaces", space_spec("wplus"), generator=tiny_generator)
    spec = encoder_spec("e4e")
    encoder = ganinv.build("encoders", spec, space=space)
    path = tmp_path_factory.mktemp("e4e") / "e4e.safetensors"
    return save_encoder(path, encoder, MethodConfig(generator="tiny", space="wplus", encoder=spec))


def build_encoder(name, generator, e4e_file):
    """The encoder on its space (a third-party encoder: the first space it accepts)."""
    extra = {"e4e_checkpoint": str(e4e_file)} if name in ("sdic", "hfgi") else {}
    if name == "hyperstyle":
        extra = {"base_encoder": str(e4e_file)}
    spec = encoder_spec(name, extra)
    candidates = [ENCODER_SPACE[name]] if name in ENCODER_SPACE else SPACES
    for space_name in candidates:
        space = ganinv.build("spaces", space_spec(space_name), generator=generator)
        try:
            return ganinv.build("encoders", spec, space=space), space_spec(space_name), spec
        except GanInvError:
            continue
    raise AssertionError(f"encoder {name!r} builds on none of the spaces {candidates}")


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_contract(name, tiny_generator, e4e_file):
    try:
        encoder, space, spec = build_encoder(name, tiny_generator, e4e_file)
    except GanInvError as exc:
        if "weights" in str(exc):  # a pretrained feature network this machine does not hold
            pytest.skip(str(exc))
        raise
    check_encoder(encoder, space, spec, starts_at_init_code=name == "generic")


@pytest.mark.parametrize("space_name", SPACES)
def test_generic_encoder_on_every_space(space_name, tiny_generator):
    space = ganinv.build("spaces", space_spec(space_name), generator=tiny_generator)
    spec = encoder_spec("generic")
    encoder = ganinv.build("encoders", spec, space=space)
    check_encoder(encoder, space_spec(space_name), spec, starts_at_init_code=True)


def test_step0_check_catches_an_encoder_that_does_not_start_at_init_code(tiny_generator):
    space = ganinv.build("spaces", space_spec("wplus"), generator=tiny_generator)
    psp = ganinv.build("encoders", encoder_spec("psp"), space=space)  # random heads
    with pytest.raises(ContractError, match="differs from init_code"):
        check_encoder(psp, starts_at_init_code=True)


def test_generic_encoder_follows_a_space_hint(tiny_generator):
    """A space's optional code_part_roles(): 'fixed' parts are not predicted (they stay at
    init_code however the weights change); a role that contradicts the shape is refused."""
    import torch

    tint_space = type(ganinv.build("spaces", "acme_tint", generator=tiny_generator))

    class Hinted(tint_space):
        def code_part_roles(self):
            return {"shade": "fixed", "tint": "vector"}

    space = Hinted(tiny_generator)
    encoder = ganinv.build("encoders", encoder_spec("generic"), space=space)
    with torch.no_grad():
        for p in encoder.parameters():
            p.add_(0.1)  # every head now predicts something
    code = encoder(torch.zeros(2, 3, 16, 16))
    assert torch.equal(code["shade"], space.init_code(2)["shade"])
    assert not torch.equal(code["tint"], space.init_code(2)["tint"])

    class Contradicting(tint_space):
        def code_part_roles(self):
            return {"shade": "vector"}

    with pytest.raises(GanInvError, match="'shade' is declared 'vector' but has shape"):
        ganinv.build("encoders", encoder_spec("generic"), space=Contradicting(tiny_generator))
