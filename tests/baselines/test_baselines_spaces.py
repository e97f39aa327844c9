"""Z / W / W+ spaces: shapes, rendering, editing, blending, code files, errors."""

from __future__ import annotations

import pytest
import torch

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code


def build(name: str, generator, **kwargs):
    return ganinv.build("spaces", {"name": name, **kwargs}, generator=generator)


def test_init_codes_and_render(tiny_generator):
    g = tiny_generator
    for name, key, shape in [
        ("z", "z", (3, g.z_dim)),
        ("w", "w", (3, g.w_dim)),
        ("wplus", "wplus", (3, g.num_ws, g.w_dim)),
    ]:
        space = build(name, g, w_std_samples=500, **({"init_samples": 500} if name == "z" else {}))
        code = space.init_code(3)
        assert code.space == name and tuple(code[key].shape) == shape
        img = space.render(code)
        assert img.shape == (3, 3, 16, 16) and torch.isfinite(img).all()
        assert space.to_wplus(code).shape == (3, g.num_ws, g.w_dim)
    # W and W+ start at w_avg in every layer, so they render the same image.
    w, wp = build("w", g), build("wplus", g)
    assert torch.allclose(w.render(w.init_code(1)), wp.render(wp.init_code(1)), atol=1e-6)
    assert torch.allclose(wp.to_wplus(wp.init_code(2)), g.w_avg.expand(2, g.num_ws, g.w_dim))


def test_z_renders_through_mapping(tiny_generator):
    g = tiny_generator
    space = build("z", g)
    z = torch.randn(2, g.z_dim)
    code = space.make_code(z)
    assert torch.allclose(space.render(code), g.synthesize(g.mapping(z)), atol=1e-6)
    # The medoid start maps closer to w_avg than a typical sample does.
    start = build("z", g, init_samples=2000).init_code(1)
    dist = (g.mapping(start["z"])[:, 0] - g.w_avg).norm()
    typical = (g.mapping(torch.randn(200, g.z_dim))[:, 0] - g.w_avg).norm(dim=1).median()
    assert dist < 0.5 * typical
    zeros = build("z", g, init="zeros").init_code(2)
    assert zeros["z"].abs().sum() == 0


def test_directions(tiny_generator):
    g = tiny_generator
    wp, w = build("wplus", g), build("w", g)
    direction = torch.randn(g.w_dim)
    code = wp.init_code(2)
    edited = wp.apply_direction(code, direction, 2.0)
    assert torch.allclose(edited["wplus"] - code["wplus"], 2.0 * direction.expand_as(code["wplus"]))
    per_layer = torch.zeros(g.num_ws, g.w_dim)
    per_layer[0] = 1.0
    edited = wp.apply_direction(code, per_layer, -1.0)
    assert torch.allclose(edited["wplus"][:, 0], code["wplus"][:, 0] - 1.0)
    assert torch.equal(edited["wplus"][:, 1:], code["wplus"][:, 1:])
    wcode = w.init_code(1)
    assert torch.allclose(
        w.apply_direction(wcode, direction, 0.5)["w"], wcode["w"] + 0.5 * direction
    )
    with pytest.raises(GanInvError, match="per-layer"):
        w.apply_direction(wcode, per_layer, 1.0)
    with pytest.raises(GanInvError, match="shape"):
        wp.apply_direction(code, torch.randn(g.w_dim + 1), 1.0)
    with pytest.raises(GanInvError, match="'z' cannot"):
        build("z", g, init="zeros").apply_direction(
            Code("z", {"z": torch.randn(1, 16)}), direction, 1
        )


def test_wplus_blend_takes_coarse_from_structure(tiny_generator):
    g = tiny_generator
    space = build("wplus", g, blend_crossover=2)
    a = space.make_code(torch.randn(2, g.num_ws, g.w_dim))
    b = space.make_code(torch.randn(2, g.num_ws, g.w_dim))
    mixed = space.blend(a, b)
    assert torch.equal(mixed["wplus"][:, :2], a["wplus"][:, :2])
    assert torch.equal(mixed["wplus"][:, 2:], b["wplus"][:, 2:])
    assert build("wplus", g).blend_crossover == g.num_ws // 2
    with pytest.raises(GanInvError, match="blend_crossover"):
        build("wplus", g, blend_crossover=g.num_ws + 1)
    with pytest.raises(GanInvError, match="blend in 'wplus'"):
        build("w", g).blend(build("w", g).init_code(1), build("w", g).init_code(1))


def test_difference_add_roundtrip(tiny_generator):
    g = tiny_generator
    space = build("wplus", g)
    src = space.make_code(torch.randn(1, g.num_ws, g.w_dim))
    dst = space.make_code(torch.randn(1, g.num_ws, g.w_dim))
    delta = space.difference(dst, src)
    assert torch.allclose(space.add(src, delta)["wplus"], dst["wplus"], atol=1e-6)
    half = space.add(src, delta, alpha=0.5)["wplus"]
    assert torch.allclose(half, (src["wplus"] + dst["wplus"]) / 2, atol=1e-6)


def test_code_file_roundtrip_and_mismatch(tiny_generator, tmp_path):
    g = tiny_generator
    space = build("wplus", g)
    code = space.make_code(torch.randn(2, g.num_ws, g.w_dim))
    path = code.save(tmp_path / "codes.safetensors")
    loaded = Code.load(path)
    assert torch.equal(loaded["wplus"], code["wplus"])
    assert torch.allclose(space.render(loaded), space.render(code), atol=1e-6)
    with pytest.raises(GanInvError, match="space 'wplus' given to space 'w'"):
        build("w", g).render(loaded)
    with pytest.raises(GanInvError, match="another generator"):
        space.render(Code("wplus", {"wplus": torch.randn(1, g.num_ws + 2, g.w_dim)}))
    with pytest.raises(GanInvError, match="expects codes"):
        space.make_code(torch.randn(1, g.w_dim))


def test_noise_parts_render_and_restore(tiny_generator):
    from ganinv_baselines.noise import initial_noise

    g = tiny_generator
    space = build("wplus", g)
    code = space.init_code(2)
    plain = space.render(code)
    buffers = [b.clone() for b in g.noise_buffers()]
    noisy = Code("wplus", {**code.tensors, **initial_noise(g, 2, seed=3)})
    img = space.render(noisy)
    assert not torch.allclose(img, plain, atol=1e-4)
    assert not torch.allclose(img[0], img[1], atol=1e-4)  # per-image noise
    # The generator's own buffers are untouched, and plain codes render as before.
    assert all(torch.equal(a, b) for a, b in zip(buffers, g.noise_buffers()))
    assert torch.equal(space.render(code), plain)
    # A code whose noise maps are the generator's buffers renders like the plain code.
    same = {f"noise.{i}": b.expand(2, 1, *b.shape[-2:]) for i, b in enumerate(buffers)}
    assert torch.allclose(space.render(Code("wplus", {**code.tensors, **same})), plain, atol=1e-6)
