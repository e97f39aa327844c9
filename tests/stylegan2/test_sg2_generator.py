"""Generator / discriminator API: layers, mapping and truncation, noise, hooks, gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError
from ganinv.core.generator import SynthesisHooks
from ganinv.core.registry import build
from ganinv.losses.adversarial import r1_penalty
from ganinv.stylegan2 import ops
from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
from ganinv.stylegan2.generator import StyleGAN2Generator, mix_styles


def test_sg2_layers_and_sizes(tiny_generator):
    G = tiny_generator
    assert G.num_ws == 6 and G.resolution == 16
    kinds = [(i.name, i.kind, i.w_index, i.in_channels, i.out_channels) for i in G.layers]
    assert kinds == [
        ("b4.const", "const", -1, 8, 8),
        ("b4.conv1", "conv", 0, 8, 8),
        ("b4.torgb", "torgb", 1, 8, 3),
        ("b8.conv0", "conv_up", 1, 8, 8),
        ("b8.conv1", "conv", 2, 8, 8),
        ("b8.torgb", "torgb", 3, 8, 3),
        ("b16.conv0", "conv_up", 3, 8, 4),
        ("b16.conv1", "conv", 4, 4, 4),
        ("b16.torgb", "torgb", 5, 4, 3),
    ]
    assert [i.index for i in G.layers] == list(range(len(G.layers)))
    assert G.layer("b8.conv1").resolution == 8
    img = G(torch.randn(2, 16))
    assert img.shape == (2, 3, 16, 16)


def test_sg2_registered_and_default_channels():
    G = build("generators", {"name": "stylegan2", "resolution": 8, "z_dim": 8, "w_dim": 8})
    assert isinstance(G, StyleGAN2Generator)
    assert G.channels == {4: 512, 8: 512}
    small = StyleGAN2Generator(resolution=32, channel_base=256, channel_max=32, z_dim=4, w_dim=4)
    assert small.channels == {4: 32, 8: 32, 16: 16, 32: 8}
    with pytest.raises(GanInvError):
        StyleGAN2Generator(resolution=48)
    with pytest.raises(GanInvError):
        StyleGAN2Generator(resolution=8, channels={4: 8})


def test_sg2_config_rebuilds_identical_network(tiny_generator, tiny_discriminator):
    import json

    pairs = ((tiny_generator, StyleGAN2Generator), (tiny_discriminator, StyleGAN2Discriminator))
    for net, cls in pairs:
        config = json.loads(json.dumps(net.config))  # channels keys become strings
        rebuilt = cls(**config)
        rebuilt.load_state_dict(net.state_dict())
        assert rebuilt.config == net.config
        assert all(isinstance(k, int) for k in net.config["channels"])


def test_sg2_truncation_semantics(tiny_generator):
    G = tiny_generator
    G.w_avg.normal_()
    z = torch.randn(3, 16)
    ws = G.mapping(z)
    assert ws.shape == (3, 6, 16)
    assert torch.equal(ws[:, 0], ws[:, 5])
    half = G.mapping(z, truncation_psi=0.5)
    assert torch.allclose(half, G.w_avg + 0.5 * (ws - G.w_avg), atol=1e-6)
    cut = G.mapping(z, truncation_psi=0.5, truncation_cutoff=2)
    assert torch.allclose(cut[:, :2], half[:, :2]) and torch.equal(cut[:, 2:], ws[:, 2:])


def test_sg2_mix_styles(tiny_generator):
    ws1, ws2 = torch.randn(2, 6, 16), torch.randn(2, 6, 16)
    mixed = mix_styles(ws1, ws2, 2)
    assert torch.equal(mixed[:, :2], ws1[:, :2]) and torch.equal(mixed[:, 2:], ws2[:, 2:])
    with pytest.raises(GanInvError):
        mix_styles(ws1, ws2[:, :5], 2)


def test_sg2_noise_modes_and_buffers(tiny_generator):
    G = tiny_generator
    ws = torch.randn(2, 6, 16)
    buffers = G.noise_buffers()
    assert [tuple(b.shape) for b in buffers] == [(4, 4), (8, 8), (8, 8), (16, 16), (16, 16)]
    const = G.synthesize(ws)
    assert torch.equal(const, G.synthesize(ws, noise_mode="const"))
    assert not torch.allclose(G.synthesize(ws, noise_mode="random"), const)
    assert not torch.allclose(G.synthesize(ws, noise_mode="none"), const)
    # The buffers are the ones forward uses, and a projector can optimise them in place.
    for b in buffers:
        b.requires_grad_(True)
    G.synthesize(ws).square().mean().backward()
    assert all(b.grad is not None and b.grad.abs().sum() > 0 for b in buffers)
    with torch.no_grad():
        buffers[-1].add_(1.0)
    assert not torch.allclose(G.synthesize(ws), const)
    with pytest.raises(GanInvError):
        G.synthesize(ws, noise_mode="fixed")


def test_sg2_bad_ws_shape_is_user_error(tiny_generator):
    with pytest.raises(GanInvError, match="ws must be"):
        tiny_generator.synthesize(torch.randn(2, 5, 16))
    with pytest.raises(GanInvError, match="z must be"):
        tiny_generator.mapping(torch.randn(2, 15))


class Recorder(SynthesisHooks):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple]] = []

    def const_input(self, const):
        self.calls.append(("const", "b4.const", tuple(const.shape)))
        return const

    def padding(self, layer, x):
        self.calls.append(("padding", layer.name, tuple(x.shape)))
        return None

    def feature(self, layer, x):
        self.calls.append(("feature", layer.name, tuple(x.shape)))
        return x


def test_sg2_hook_call_points(tiny_generator):
    hooks = Recorder()
    out = tiny_generator.synthesize(torch.randn(2, 6, 16), hooks=hooks)
    assert out.shape == (2, 3, 16, 16)
    padded = [name for kind, name, _ in hooks.calls if kind == "padding"]
    assert padded == ["b4.conv1", "b8.conv1", "b16.conv1"]
    features = [name for kind, name, _ in hooks.calls if kind == "feature"]
    assert features == [info.name for info in tiny_generator.layers]
    shapes = {name: shape for kind, name, shape in hooks.calls if kind == "feature"}
    assert shapes["b8.torgb"] == (2, 3, 8, 8) and shapes["b16.conv0"] == (2, 4, 16, 16)


def _plain_layer(layer, x, w, border=None):
    """Straightforward reference of one padded conv layer (PadInv order, rosinality demod)."""
    s = layer.affine(w)
    xm = x * s[:, :, None, None]
    if border is None:
        y = F.conv2d(xm, layer.weight, padding=1)
    else:
        canvas = border.clone()
        canvas[:, :, 1:-1, 1:-1] = xm
        y = F.conv2d(canvas, layer.weight)
    wmod = layer.weight[None] * s[:, None, :, None, None]
    d = (wmod.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()
    y = y * d[:, :, None, None] + layer.noise_const * layer.noise_strength
    return ops.bias_lrelu(y, layer.bias)


def test_sg2_padding_ring_is_not_modulated(tiny_generator):
    layer = tiny_generator.synthesis["b8"].conv1
    x, w = torch.randn(2, 8, 8, 8), torch.randn(2, 16)
    border = torch.randn(2, 8, 12, 12)  # larger than 10x10: centre-cropped
    xm, d = layer.modulate(x, w)
    ours = layer.finish(layer.convolve(xm, border), d, "const")
    expected = _plain_layer(layer, x, w, border[:, :, 1:11, 1:11])
    assert (ours - expected).abs().max().item() <= 1e-5
    plain = layer.finish(layer.convolve(xm), d, "const")
    assert (plain - _plain_layer(layer, x, w)).abs().max().item() <= 1e-5


def test_sg2_gradients_reach_ws_padding_maps_and_weights(tiny_generator):
    G = tiny_generator.requires_grad_(False)
    ws = torch.randn(2, 6, 16, requires_grad=True)
    maps = {r: torch.zeros(2, 8, 18, 18, requires_grad=True) for r in (4, 8)}

    class Maps(SynthesisHooks):
        def padding(self, layer, x):
            return maps.get(layer.resolution)

    G.synthesize(ws, hooks=Maps()).square().mean().backward()
    assert ws.grad is not None and ws.grad.abs().sum() > 0
    for res, m in maps.items():
        # Only the one-pixel ring of the centre (res+2)^2 crop receives gradient.
        ring = torch.zeros(18, 18, dtype=torch.bool)
        lo, hi = 8 - res // 2, 10 + res // 2
        ring[lo:hi, lo:hi] = True
        ring[lo + 1 : hi - 1, lo + 1 : hi - 1] = False
        assert (m.grad[:, :, ring] != 0).float().mean() > 0.9, res
        assert torch.all(m.grad[:, :, ~ring] == 0), res
    assert all(p.grad is None for p in G.parameters())
    G.requires_grad_(True)
    G.synthesize(ws).mean().backward()
    assert all(p.grad is not None for p in G.synthesis.parameters())


def test_sg2_r1_double_backward_through_discriminator(tiny_discriminator):
    D = tiny_discriminator
    real = torch.rand(4, 3, 16, 16) * 2 - 1
    penalty, logits = r1_penalty(D, real)
    assert logits.shape == (4, 1)
    penalty.backward()
    weights = [p for name, p in D.named_parameters() if name.endswith("weight")]
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in weights)
    assert D.blocks["b16"].conv1.weight.grad.abs().sum() > 0


def test_sg2_path_length_double_backward_through_generator(tiny_generator):
    G = tiny_generator.requires_grad_(True)
    ws = G.mapping(torch.randn(2, 16)).detach().requires_grad_(True)
    img = G.synthesize(ws)
    noise = torch.randn_like(img) / 16
    (grad,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
    grad.square().sum(2).mean(1).sqrt().mean().backward()
    assert G.synthesis["b8"].conv0.weight.grad.abs().sum() > 0


def test_sg2_discriminator_shapes_and_errors(tiny_discriminator):
    D = tiny_discriminator
    assert D(torch.randn(6, 3, 16, 16)).shape == (6, 1)
    with pytest.raises(GanInvError, match="discriminator input"):
        D(torch.randn(2, 3, 32, 32))
    D4 = StyleGAN2Discriminator(resolution=4, channels={4: 8})
    assert D4(torch.randn(2, 3, 4, 4)).shape == (2, 1)


def test_sg2_conv_clamp_limits_activations():
    torch.manual_seed(0)
    channels = {4: 8, 8: 8}
    G = StyleGAN2Generator(z_dim=8, w_dim=8, resolution=8, channels=channels, conv_clamp=0.05)
    free = StyleGAN2Generator(z_dim=8, w_dim=8, resolution=8, channels=channels)
    free.load_state_dict(G.state_dict())
    seen: dict[str, float] = {}

    class Peak(SynthesisHooks):
        def feature(self, layer, x):
            seen[layer.name] = x.abs().max().item()
            return x

    ws = torch.randn(2, G.num_ws, 8)
    G.synthesize(ws, hooks=Peak())
    assert all(seen[n] <= 0.05 + 1e-7 for n in ("b4.conv1", "b8.conv0", "b8.conv1", "b4.torgb"))
    assert not torch.allclose(G.synthesize(ws), free.synthesize(ws))
    D = StyleGAN2Discriminator(resolution=8, channels=channels, conv_clamp=0.05)
    assert D.config["conv_clamp"] == 0.05 and D(torch.randn(2, 3, 8, 8)).shape == (2, 1)


def test_sg2_bad_padding_map_is_user_error(tiny_generator):
    class TooSmall(SynthesisHooks):
        def padding(self, layer, x):
            return torch.zeros(x.shape[0], x.shape[1], 5, 5)

    with pytest.raises(GanInvError, match="padding map must be"):
        tiny_generator.synthesize(torch.randn(1, 6, 16), hooks=TooSmall())
