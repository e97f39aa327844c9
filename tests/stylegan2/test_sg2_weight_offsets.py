"""Weight offsets on the modulated convs and toRGB layers: one tuned generator per image.

Reference: a deep copy of the generator whose weights are set to ``W + offset`` (what the offset
means), rendered one image at a time through the plain path.
"""

from __future__ import annotations

import copy

import pytest
import torch

from ganinv.core.errors import GanInvError
from ganinv.core.generator import SynthesisHooks
from ganinv.core.space import Code, InversionSpace
from ganinv.core.weight_offsets import (
    WeightOffsetHooks,
    offset_key,
    offsets_of,
    with_offsets,
    zero_offsets,
)


def _random_offsets(G, batch: int, scale: float = 0.3, seed: int = 1) -> dict[str, torch.Tensor]:
    rng = torch.Generator().manual_seed(seed)
    return {
        name: torch.randn((batch, *p.shape), generator=rng) * scale
        for name, p in G.weight_parameters().items()
    }


def _tuned_copy(G, offsets: dict[str, torch.Tensor], index: int):
    tuned = copy.deepcopy(G)
    with torch.no_grad():
        for name, p in tuned.weight_parameters().items():
            if name in offsets:
                p += offsets[name][index]
    return tuned


def _ws(G, batch: int) -> torch.Tensor:
    torch.manual_seed(3)
    return G.mapping(torch.randn(batch, G.z_dim))


class _PlainSpace(InversionSpace):
    """A minimal W+ space defined here, as a third-party space would be (it knows nothing of
    offsets)."""

    name = "plain_test"

    def init_code(self, batch_size: int) -> Code:
        g = self.generator
        return Code(self.name, {"wplus": g.w_avg.expand(batch_size, g.num_ws, g.w_dim).clone()})

    def render(self, code: Code, noise_mode: str = "const") -> torch.Tensor:
        assert list(code.tensors) == ["wplus"], "offset parts must not reach the space"
        return self.generator.synthesize(code["wplus"], noise_mode=noise_mode)


def test_weight_parameters_are_every_conv_and_torgb(tiny_generator):
    params = tiny_generator.weight_parameters()
    kinds = {i.name: i.kind for i in tiny_generator.layers}
    assert sorted(params) == sorted(n for n, k in kinds.items() if k != "const")
    assert params["b8.conv0"].shape == (8, 8, 3, 3)
    assert params["b16.torgb"].shape == (3, 4, 1, 1)


def test_no_offsets_is_bit_identical_to_the_plain_path(tiny_generator):
    G = tiny_generator
    ws = _ws(G, 3)
    plain = G.synthesize(ws)
    assert torch.equal(G.synthesize(ws, hooks=SynthesisHooks()), plain)
    assert torch.equal(G.synthesize(ws, hooks=WeightOffsetHooks({})), plain)
    space = _PlainSpace(G)
    assert torch.equal(space.render(Code("plain_test", {"wplus": ws})), plain)


def test_per_image_offsets_equal_one_tuned_generator_per_image(tiny_generator):
    G = tiny_generator
    before = {k: v.clone() for k, v in G.state_dict().items()}
    ws = _ws(G, 3)
    offsets = _random_offsets(G, 3)
    out = G.synthesize(ws, hooks=WeightOffsetHooks(offsets))
    for b in range(3):
        ref = _tuned_copy(G, offsets, b).synthesize(ws[b : b + 1])
        torch.testing.assert_close(out[b : b + 1], ref, rtol=1e-4, atol=1e-5)
    # The shared generator is never changed.
    for k, v in G.state_dict().items():
        assert torch.equal(v, before[k]), k
    # The offsets change the images (the test above is not vacuous).
    assert (out - G.synthesize(ws)).abs().max() > 1e-2


def test_offsets_of_some_layers_and_one_offset_for_the_batch(tiny_generator):
    G = tiny_generator
    ws = _ws(G, 2)
    some = {k: v[:1] for k, v in _random_offsets(G, 1).items() if k in ("b8.conv0", "b16.conv1")}
    out = G.synthesize(ws, hooks=WeightOffsetHooks(some))
    ref = _tuned_copy(G, some, 0).synthesize(ws)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)


def test_offsets_compose_with_a_space_s_own_hooks(tiny_generator):
    G = tiny_generator
    ws = _ws(G, 2)
    offsets = _random_offsets(G, 2)

    class Double(SynthesisHooks):
        def feature(self, layer, x):
            return x * 2 if layer.name == "b8.conv1" else x

    out = G.synthesize(ws, hooks=WeightOffsetHooks(offsets, inner=Double()))
    for b in range(2):
        ref = _tuned_copy(G, offsets, b).synthesize(ws[b : b + 1], hooks=Double())
        torch.testing.assert_close(out[b : b + 1], ref, rtol=1e-4, atol=1e-5)


def test_a_code_carries_offsets_through_any_space_and_saves_them(tiny_generator, tmp_path):
    G = tiny_generator
    ws = _ws(G, 2)
    offsets = _random_offsets(G, 2)
    space = _PlainSpace(G)
    code = Code("plain_test", with_offsets({"wplus": ws}, offsets))
    out = space.render(code)
    torch.testing.assert_close(
        out, G.synthesize(ws, hooks=WeightOffsetHooks(offsets)), rtol=0, atol=0
    )
    loaded = Code.load(code.save(tmp_path / "c.safetensors"))
    assert sorted(offsets_of(loaded.tensors)) == sorted(offsets)
    assert torch.equal(space.render(loaded), out)
    # Selecting one image keeps its own tuned generator.
    torch.testing.assert_close(space.render(code.select(1)), out[1:2], rtol=1e-4, atol=1e-5)
    # A render after the block sees no offsets.
    assert torch.equal(space.render(Code("plain_test", {"wplus": ws})), G.synthesize(ws))


def test_offsets_are_differentiable(tiny_generator):
    G = tiny_generator
    offsets = {k: v.requires_grad_(True) for k, v in zero_offsets(G, 2).items()}
    space = _PlainSpace(G)
    image = space.render(Code("plain_test", with_offsets({"wplus": _ws(G, 2)}, offsets)))
    image[0].square().sum().backward()
    grad = offsets["b8.conv1"].grad
    assert grad is not None and grad[0].abs().sum() > 0
    assert grad[1].abs().sum() == 0  # image 0's loss does not reach image 1's generator


def test_bad_offsets_are_one_line_errors(tiny_generator):
    G = tiny_generator
    space = _PlainSpace(G)
    ws = _ws(G, 2)
    bad_name = Code("plain_test", {"wplus": ws, offset_key("b64.conv1"): torch.zeros(2, 1)})
    with pytest.raises(GanInvError, match="no tunable layer 'b64.conv1'"):
        space.render(bad_name)
    bad_shape = Code("plain_test", {"wplus": ws, offset_key("b8.conv1"): torch.zeros(2, 8, 8, 1)})
    with pytest.raises(GanInvError, match="needs \\[B, 8, 8, 3, 3\\]"):
        space.render(bad_shape)
    bad_batch = Code(
        "plain_test", {"wplus": ws, offset_key("b8.conv1"): torch.zeros(1, 8, 8, 3, 3)}
    )
    with pytest.raises(GanInvError, match="holds 1 offsets for a batch of 2"):
        space.render(bad_batch)


def test_offsets_with_a_padding_map(tiny_generator):
    G = tiny_generator
    ws = _ws(G, 2)
    offsets = _random_offsets(G, 2)

    class Ring(SynthesisHooks):
        def padding(self, layer, x):
            return torch.full((x.shape[0], x.shape[1], x.shape[2] + 2, x.shape[3] + 2), 0.5)

    out = G.synthesize(ws, hooks=WeightOffsetHooks(offsets, inner=Ring()))
    for b in range(2):
        ref = _tuned_copy(G, offsets, b).synthesize(ws[b : b + 1], hooks=Ring())
        torch.testing.assert_close(out[b : b + 1], ref, rtol=1e-4, atol=1e-5)
    assert (out - G.synthesize(ws, hooks=WeightOffsetHooks(offsets))).abs().max() > 1e-3


def test_a_subclass_render_calling_super_keeps_the_offsets(tiny_generator):
    G = tiny_generator

    class Brighter(_PlainSpace):
        def render(self, code: Code, noise_mode: str = "const") -> torch.Tensor:
            return super().render(Code(code.space, dict(code.tensors)), noise_mode) + 0.5

    ws = _ws(G, 2)
    offsets = _random_offsets(G, 2)
    code = Code("plain_test", with_offsets({"wplus": ws}, offsets))
    want = G.synthesize(ws, hooks=WeightOffsetHooks(offsets)) + 0.5
    assert torch.equal(Brighter(G).render(code), want)
    # A second space rendering inside does not inherit them.
    inner = _PlainSpace(G)

    class Nested(_PlainSpace):
        def render(self, code: Code, noise_mode: str = "const") -> torch.Tensor:
            return inner.render(Code(code.space, dict(code.tensors)), noise_mode)

    assert torch.equal(Nested(G).render(code), G.synthesize(ws))
