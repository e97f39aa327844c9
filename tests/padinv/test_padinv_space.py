"""PadInv's padding space against the official PadInv generator's outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code

REFS = Path(__file__).resolve().parents[1] / "data" / "refs"


@pytest.fixture(scope="module")
def generator():
    return ganinv.load_generator(REFS / "nvlabs_s64_scrubbed.pkl").eval()


@pytest.fixture(scope="module")
def expected():
    return torch.load(REFS / "padinv_nvlabs_s64.expected.pt", weights_only=True)


def test_zero_border_and_learned_constant_render_exactly_wplus(generator, expected):
    space = ganinv.build("spaces", "padinv", generator=generator)
    code = space.init_code(2)
    code.tensors["wplus"] = expected["ws"]
    with torch.no_grad():
        padded = space.render(code)
        plain = generator.synthesize(expected["ws"])
    assert torch.equal(padded, plain)
    assert (plain - expected["img_plain"]).abs().max() < 5e-6  # measured 1.9e-6


def test_official_padding_maps_reproduce_official_images(generator, expected):
    space = ganinv.build("spaces", {"name": "padinv", "pad_layers": 4}, generator=generator)
    maps = expected["padding_maps"]
    assert expected["padded_layer_resolutions"] == {1: 4, 3: 8, 5: 16, 7: 32}
    code = space.from_maps(expected["ws"], maps[0], [maps[1], maps[3], maps[5], maps[7]])
    with torch.no_grad():
        img = space.render(code)
    assert (img - expected["img_padded"]).abs().max() < 5e-6  # measured 1.4e-6

    const_only = space.init_code(2)
    const_only.tensors["wplus"] = expected["ws"]
    const_only.tensors["const"] = code["const"]
    with torch.no_grad():
        img = space.render(const_only)
    assert (img - expected["img_const_only"]).abs().max() < 5e-6  # measured 1.4e-6


def test_gradients_reach_every_part_of_the_code(generator, expected):
    space = ganinv.build("spaces", "padinv", generator=generator)
    code = space.init_code(1)
    params = space.trainable(code)
    space.render(code).square().mean().backward()
    for key, p in zip(code.tensors, params):
        assert p.grad is not None and p.grad.abs().sum() > 0, key
    ring = torch.ones(6, 6, dtype=torch.bool)
    ring[1:-1, 1:-1] = False
    pad4 = code["pad4"].grad[0, 0]
    assert pad4[~ring].abs().sum() == 0  # only the ring is used
    assert pad4[ring].abs().sum() > 0


def test_blend_custom_edit_and_save_roundtrip(generator, tmp_path):
    space = ganinv.build("spaces", "padinv", generator=generator)
    a, b = space.init_code(1), space.init_code(1)
    for key in a.tensors:
        b.tensors[key] = b[key] + torch.randn_like(b[key])
    mixed = space.blend(structure=a, appearance=b)
    assert torch.equal(mixed["wplus"], b["wplus"]) and torch.equal(mixed["pad8"], a["pad8"])
    delta = space.difference(b, a)
    only_pad = space.add(a, delta, alpha=1.0, parts=["padding"])
    assert torch.equal(only_pad["wplus"], a["wplus"]) and torch.allclose(
        only_pad["pad32"], b["pad32"]
    )
    with pytest.raises(GanInvError, match="no code part"):
        space.add(a, delta, parts=["styles"])
    path = b.save(tmp_path / "code.safetensors")
    loaded = Code.load(path)
    assert loaded.space == "padinv" and all(torch.equal(loaded[k], b[k]) for k in b.tensors)


def test_pad_layers_is_checked_against_the_generator(generator):
    with pytest.raises(GanInvError, match="pad_layers must be between 1 and 5"):
        ganinv.build("spaces", {"name": "padinv", "pad_layers": 0}, generator=generator)
    widest = ganinv.build("spaces", {"name": "padinv", "pad_layers": 5}, generator=generator)
    assert widest.map_size == 66 and list(widest.layers) == [4, 8, 16, 32, 64]


def test_residual_maps_encoder_starts_exactly_at_its_wplus_codes(tiny_generator, images):
    space = ganinv.build("spaces", "padinv", generator=tiny_generator, pad_layers=3)
    backbone = {"input_resolution": 16, "num_layers": None, "units": [1, 1, 1, 1]}
    encoder = ganinv.build(
        "encoders", "padinv", space=space, widths=[8, 8, 16, 16], residual_maps=True, **backbone
    ).eval()
    with torch.no_grad():
        code = encoder(images)
        padded = space.render(code)
        plain = tiny_generator.synthesize(code["wplus"])
    assert torch.equal(code["const"], space.learned_const().expand_as(code["const"]))
    assert all(not code[key].any() for key in space.padding_keys() if key != "const")
    assert torch.equal(padded, plain)
    with pytest.raises(GanInvError, match="residual_maps needs pad_mod_heads"):
        ganinv.build(
            "encoders", "padinv", space=space, pad_mod_heads=False, residual_maps=True, **backbone
        )
