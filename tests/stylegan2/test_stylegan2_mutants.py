"""Checks added for mutants of the StyleGAN2 ops, layers and generator that the suite let survive
(scripts/mutation.py, docs/mutation.md): odd sizes, explicit pads and crops, dtypes and devices of
the filters, the activation gain, input checks and their messages."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganinv.stylegan2 import ops


def _asymmetric_filter(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    f = torch.arange(1.0, 17.0, dtype=torch.float64).reshape(4, 4) ** 0.5
    return (f / f.sum()).to(dtype)


def _naive_upfirdn2d(x, f, up, down, pad, gain=1.0):
    """NVlabs' upfirdn2d written out with index loops in float64 numpy (independent of ops)."""
    x = x.detach().double().numpy()
    f = f.detach().double().numpy() * gain
    b, c, h, w = x.shape
    x0, x1, y0, y1 = pad
    u = np.zeros((b, c, h * up, w * up))
    u[:, :, ::up, ::up] = x
    hp, wp = h * up + y0 + y1, w * up + x0 + x1
    p = np.zeros((b, c, hp, wp))
    for i in range(hp):
        for j in range(wp):
            si, sj = i - y0, j - x0  # negative pads crop
            if 0 <= si < h * up and 0 <= sj < w * up:
                p[:, :, i, j] = u[:, :, si, sj]
    kh, kw = f.shape
    out = np.zeros((b, c, hp - kh + 1, wp - kw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = p[:, :, i : i + kh, j : j + kw]
            out[:, :, i, j] = (window * f[::-1, ::-1]).sum(axis=(2, 3))  # true convolution
    return torch.from_numpy(out[:, :, ::down, ::down].copy())


@pytest.mark.parametrize(
    "up, down, pad",
    [
        (1, 1, (0, 0, 0, 0)),
        (1, 1, (-1, 2, 1, -2)),
        (2, 1, (0, 0, 0, 0)),
        (2, 1, (-2, 1, 3, -1)),
        (1, 2, (0, 1, -1, 0)),
        (2, 2, (1, -1, -2, 2)),
        (1, 1, (1, -2, 0, 1)),  # a right crop that no stride hides
        (2, 1, (0, -1, -1, 0)),
    ],
)
def test_upfirdn2d_ref_pads_crops_and_rates_match_a_loop(up, down, pad):
    # Zero and negative pads, non-square input, asymmetric filter: every index of the pad/crop.
    torch.manual_seed(0)
    x = torch.randn(1, 2, 5, 7, dtype=torch.float64)
    f = _asymmetric_filter(torch.float64)
    got = ops.upfirdn2d_ref(x, f, up=up, down=down, pad=pad, gain=1.5)
    expected = _naive_upfirdn2d(x, f, up, down, pad, gain=1.5)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() < 1e-12


@pytest.mark.parametrize("shape", [(7, 9), (9, 6)])
def test_fast_ops_match_references_at_odd_and_non_square_sizes(shape):
    torch.manual_seed(0)
    f = _asymmetric_filter()
    x = torch.randn(1, 3, *shape)
    w = torch.randn(2, 3, 3, 3)
    pairs = [
        (ops.conv_down2d(x, w, f), ops.conv_down2d_ref(x, w, f)),
        (ops.conv_down2d_fused(x, w, f), ops.conv_down2d_ref(x, w, f)),
        (ops.conv_up2d(x, w, f), ops.conv_up2d_ref(x, w, f)),
        (ops.conv_up2d_polyphase(x, w, f), ops.conv_up2d_ref(x, w, f)),
        (ops.downsample2d(x, f), ops.downsample2d_ref(x, f)),
        (ops.upsample2d(x, f), ops.upsample2d_ref(x, f)),
    ]
    for fast, ref in pairs:
        assert fast.shape == ref.shape
        assert (fast - ref).abs().max().item() <= 1e-5
    # The references themselves, against the loop: blur pads (2, 2) / (1, 1), stride 2.
    blurred = _naive_upfirdn2d(x, f, 1, 1, (2, 2, 2, 2))
    ref = torch.nn.functional.conv2d(blurred, w.double(), stride=2)
    assert (ops.conv_down2d_ref(x, w, f).double() - ref).abs().max().item() <= 1e-5
    down = _naive_upfirdn2d(x, f, 1, 2, (1, 1, 1, 1))
    assert (ops.downsample2d_ref(x, f).double() - down).abs().max().item() <= 1e-6


def test_fused_down_conv_handles_a_non_square_kernel():
    torch.manual_seed(0)
    f = ops.setup_filter()
    x, w = torch.randn(1, 3, 9, 7), torch.randn(2, 3, 3, 1)
    fused, ref = ops.conv_down2d_fused(x, w, f), ops.conv_down2d_ref(x, w, f)
    assert ops.downsample_conv_weight(w, f).shape == (2, 3, 6, 4)
    assert fused.shape == ref.shape == (1, 2, 4, 4)
    assert (fused - ref).abs().max().item() <= 1e-5


def test_float64_data_with_a_float32_filter():
    # Filters are float32 buffers (NVlabs); float64 data (gradcheck, reference runs) must work and
    # give the float64 result of the float32 filter values.
    torch.manual_seed(0)
    f32 = _asymmetric_filter()
    f64 = f32.double()
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    for op in (
        ops.conv_up2d,
        ops.conv_up2d_polyphase,
        ops.conv_up2d_ref,
        ops.conv_down2d,
        ops.conv_down2d_fused,
        ops.conv_down2d_ref,
    ):
        out = op(x, w, f32)
        assert out.dtype == torch.float64
        assert (out - op(x, w, f64)).abs().max().item() < 1e-12, op.__name__
    for op in (ops.upsample2d, ops.upsample2d_ref, ops.downsample2d, ops.downsample2d_ref):
        out = op(x, f32)
        assert out.dtype == torch.float64
        assert (out - op(x, f64)).abs().max().item() < 1e-12, op.__name__
    for transform in (ops.upsample_conv_weight, ops.downsample_conv_weight):
        assert transform(w, f32).dtype == torch.float64


def test_weight_transforms_stay_on_the_device_of_the_weight():
    # The 'meta' device stands in for a GPU: nothing may fall back to the CPU.
    w = torch.randn(2, 3, 3, 3, device="meta")
    f = ops.setup_filter().to("meta")
    assert ops.upsample_conv_weight(w, f).device.type == "meta"
    assert ops.downsample_conv_weight(w, f).device.type == "meta"


def test_upsample_conv_weight_rejects_other_shapes_with_its_message():
    f = ops.setup_filter()
    message = "^upsample_conv_weight supports 3x3 kernels and 4x4 filters$"
    with pytest.raises(ValueError, match=message):
        ops.upsample_conv_weight(torch.randn(2, 2, 3, 1), f)
    with pytest.raises(ValueError, match=message):
        ops.upsample_conv_weight(torch.randn(2, 2, 1, 3), f)
    with pytest.raises(ValueError, match=message):
        ops.upsample_conv_weight(torch.randn(2, 2, 3, 3), ops.setup_filter((1, 2, 2, 2, 2, 1)))


def test_bias_lrelu_gain_is_applied_for_every_value():
    x = torch.tensor([[-1.0, 2.0], [0.5, -3.0]])
    lrelu = torch.nn.functional.leaky_relu(x, 0.2)
    assert torch.equal(ops.bias_lrelu(x, None, gain=1), lrelu)
    assert torch.allclose(ops.bias_lrelu(x, None, gain=2), 2 * lrelu)
    assert torch.allclose(
        ops.bias_lrelu(x, None, gain=3, alpha=0.1), 3 * torch.where(x > 0, x, 0.1 * x)
    )


def test_setup_filter_is_float32_whatever_the_taps():
    for taps in ((1, 3, 3, 1), torch.tensor([1.0, 3.0, 3.0, 1.0], dtype=torch.float64)):
        f = ops.setup_filter(taps)
        assert f.dtype == torch.float32
        assert torch.allclose(
            f, torch.tensor([1.0, 3, 3, 1])[:, None] * torch.tensor([1.0, 3, 3, 1]) / 64
        )


# ------------------------------------------------------------------------------------------------
# layers.py


def test_mapping_of_a_zero_latent_is_finite():
    # The second-moment normalisation keeps its epsilon: z = 0 must not give 0 * inf = nan.
    from ganinv.stylegan2.layers import MappingNetwork

    torch.manual_seed(0)
    mapping = MappingNetwork(z_dim=4, w_dim=4, num_layers=2, lr_mul=0.01)
    w = mapping(torch.zeros(2, 4))
    assert torch.isfinite(w).all()


def test_synthesis_layer_forward_is_the_modulated_conv_with_const_noise():
    from ganinv.stylegan2.layers import SynthesisLayer

    torch.manual_seed(0)
    layer = SynthesisLayer(3, 5, w_dim=4, resolution=6)
    with torch.no_grad():
        layer.noise_strength.fill_(0.7)
        layer.bias.normal_()
    x, w = torch.randn(2, 3, 6, 6), torch.randn(2, 4)
    # Reference: NVlabs' modulated conv written out per sample, gain sqrt(2) after lrelu.
    s = layer.affine(w)
    wmod = layer.weight[None] * s[:, None, :, None, None]  # [B, O, I, 3, 3]
    wmod = wmod * (wmod.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    y = torch.stack(
        [torch.nn.functional.conv2d(x[i : i + 1], wmod[i], padding=1)[0] for i in range(2)]
    )
    noisy = y + layer.noise_const * layer.noise_strength
    expected = torch.nn.functional.leaky_relu(noisy + layer.bias[:, None, None], 0.2) * 2**0.5
    with torch.no_grad():
        got = layer(x, w)
        assert (got - expected).abs().max().item() <= 1e-5
        assert torch.equal(got, layer(x, w, noise_mode="const"))
        assert not torch.allclose(got, layer(x, w, noise_mode="none"))


def _border_message(x, border):
    from ganinv.core.errors import GanInvError
    from ganinv.stylegan2.layers import place_in_border

    with pytest.raises(GanInvError) as info:
        place_in_border(x, border)
    return str(info.value)


def test_place_in_border_checks_each_side_and_names_the_sizes():
    x = torch.zeros(1, 2, 4, 5)  # H = 4, W = 5: a map needs at least 6 rows and 7 columns
    too_narrow = _border_message(x, torch.zeros(1, 2, 9, 6))
    too_short = _border_message(x, torch.zeros(1, 2, 5, 9))
    assert "padding map must be [B, C, S, S] with S >= 6; got (1, 2, 9, 6)" in too_narrow
    assert "S >= 6; got (1, 2, 5, 9)" in too_short
    assert "padding map must be" in _border_message(x, torch.zeros(2, 9, 9))  # no batch axis
    channels = _border_message(x, torch.zeros(1, 3, 9, 9))
    assert channels == "padding map has 3 channels, the layer input has 2"


def test_place_in_border_centre_crops_a_non_square_map():
    from ganinv.stylegan2.layers import place_in_border

    x = torch.full((1, 1, 2, 3), -1.0)
    border = torch.arange(9 * 8, dtype=torch.float32).reshape(1, 1, 9, 8)
    canvas = place_in_border(x, border)
    # Needed 4 x 5: top = (9 - 4) // 2 = 2, left = (8 - 5) // 2 = 1.
    expected = border[:, :, 2:6, 1:6].clone()
    expected[:, :, 1:-1, 1:-1] = -1.0
    assert torch.equal(canvas, expected)


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_conv2d_layer_without_down_keeps_the_size(kernel):
    from ganinv.stylegan2.layers import Conv2dLayer

    torch.manual_seed(0)
    layer = Conv2dLayer(2, 3, kernel, activation="linear")
    with torch.no_grad():
        layer.bias.normal_()  # initialised to zero: make the bias visible
    x = torch.randn(1, 2, 7, 7)
    expected = torch.nn.functional.conv2d(
        x, layer.weight / (2 * kernel * kernel) ** 0.5, layer.bias, padding=kernel // 2
    )
    assert (layer(x) - expected).abs().max().item() <= 1e-6


@pytest.mark.parametrize("cin, cout", [(4, 2), (2, 4)])
@pytest.mark.parametrize("activation", ["linear", "lrelu"])
def test_conv2d_layer_1x1_down_either_order_is_downsample_then_conv(cin, cout, activation):
    # The 1x1 conv commutes with the FIR; both branches (narrower side first) must give it.
    from ganinv.stylegan2.layers import Conv2dLayer

    torch.manual_seed(0)
    layer = Conv2dLayer(cin, cout, 1, down=True, activation=activation)
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(2, cin, 8, 8)
    y = ops.downsample2d_ref(x, ops.setup_filter())
    y = torch.nn.functional.conv2d(y, layer.weight / cin**0.5)
    if activation == "lrelu":
        expected = ops.bias_lrelu(y, layer.bias)
    else:
        expected = y + layer.bias[:, None, None]
    assert (layer(x) - expected).abs().max().item() <= 1e-5
    # conv_clamp clips the final output and nothing else.
    clamped = Conv2dLayer(cin, cout, 1, down=True, activation=activation, conv_clamp=0.3)
    clamped.load_state_dict(layer.state_dict())
    assert torch.equal(clamped(x), layer(x).clamp(-0.3, 0.3))


def test_torgb_conv_clamp_clips_only_outside_the_limit():
    from ganinv.stylegan2.layers import ToRGBLayer

    torch.manual_seed(0)
    free = ToRGBLayer(4, 3, w_dim=4)
    clamped = ToRGBLayer(4, 3, w_dim=4, conv_clamp=0.5)
    clamped.load_state_dict(free.state_dict())
    x, w = torch.randn(2, 4, 5, 5), torch.randn(2, 4)
    out = free(x, w)
    assert (out.abs() > 0.5).any() and (out.abs() < 0.5).any() and (out < -0.5).any()
    assert torch.equal(clamped(x, w), out.clamp(-0.5, 0.5))


def test_equal_linear_gains_for_any_lr_mul():
    from ganinv.stylegan2.layers import EqualLinear

    torch.manual_seed(0)
    for lr_mul in (1.0, 2.0, 0.01):
        layer = EqualLinear(3, 2, bias_init=0.5, lr_mul=lr_mul)
        x = torch.randn(4, 3)
        expected = x @ (layer.weight * lr_mul / 3**0.5).t() + layer.bias * lr_mul
        assert torch.allclose(layer(x), expected, atol=1e-6), lr_mul


def test_equal_linear_initialisation_and_activation_check():
    # NVlabs: weight ~ N(0, 1) / lr_mul (so the applied weight is N(0, 1 / in)), bias 0.
    from ganinv.stylegan2.layers import EqualLinear

    torch.manual_seed(0)
    layer = EqualLinear(256, 256, lr_mul=0.01)
    assert 90 < layer.weight.std().item() < 110
    assert torch.equal(layer.bias, torch.zeros(256))
    with pytest.raises(ValueError) as info:
        EqualLinear(2, 2, activation="relu")
    assert str(info.value) == "activation must be 'linear' or 'lrelu', got 'relu'"


def test_mapping_network_maps_z_dim_to_w_dim():
    from ganinv.stylegan2.layers import MappingNetwork

    mapping = MappingNetwork(z_dim=3, w_dim=5, num_layers=3, lr_mul=0.01)
    assert mapping(torch.randn(2, 3)).shape == (2, 5)


def test_fresh_layers_report_channels_and_start_styles_at_one():
    # NVlabs initialises the style affines' bias to 1 (styles start near 1 in a fresh network).
    from ganinv.stylegan2.layers import SynthesisLayer, ToRGBLayer

    conv = SynthesisLayer(3, 5, w_dim=4, resolution=8)
    rgb = ToRGBLayer(5, 3, w_dim=4)
    assert (conv.in_channels, conv.out_channels, rgb.in_channels) == (3, 5, 5)
    assert torch.equal(conv.affine.bias, torch.ones(3))
    assert torch.equal(rgb.affine.bias, torch.ones(5))


def test_minibatch_std_of_identical_samples_and_its_message():
    from ganinv.stylegan2.layers import MinibatchStdLayer

    layer = MinibatchStdLayer(group_size=2)
    x = torch.randn(1, 3, 4, 4).repeat(4, 1, 1, 1)  # zero variance in every group
    out = layer(x)
    assert out.shape == (4, 4, 4, 4)
    assert torch.allclose(out[:, 3], torch.full((4, 4, 4), 1e-4))  # sqrt(0 + 1e-8)
    with pytest.raises(
        ValueError, match="batch size 3 must be divisible by the mbstd group size 2"
    ):
        layer(torch.randn(3, 3, 4, 4))
    with pytest.raises(ValueError, match="mbstd group size 4$"):  # NVlabs' default group: 4
        MinibatchStdLayer()(torch.randn(6, 3, 4, 4))


def _noisy_layer(dtype=torch.float32):
    from ganinv.stylegan2.layers import SynthesisLayer

    torch.manual_seed(0)
    layer = SynthesisLayer(3, 4, w_dim=4, resolution=6).to(dtype)
    with torch.no_grad():
        layer.noise_strength.fill_(0.5)
        layer.bias.normal_()
    return layer


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_random_noise_is_fresh_unit_gaussian_per_sample(dtype):
    layer = _noisy_layer(dtype)
    x, w = torch.randn(2, 3, 6, 6, dtype=dtype), torch.randn(2, 4, dtype=dtype)
    with torch.no_grad():
        xm, d = layer.modulate(x, w)
        y = layer.convolve(xm)
        torch.manual_seed(7)
        got = layer.finish(y, d, "random")
        torch.manual_seed(7)
        noise = torch.randn([2, 1, 6, 6], dtype=dtype)  # drawn in the data's dtype
        plain = y * d[:, :, None, None]
        expected = ops.bias_lrelu(plain + noise * 0.5, layer.bias)
        assert got.dtype == dtype
        assert (got - expected).abs().max().item() <= 1e-5
        assert not torch.allclose(got, layer.finish(y, d, "none"))


def test_zero_weights_demodulate_to_finite_values():
    layer = _noisy_layer()
    with torch.no_grad():
        layer.weight.zero_()  # demodulation divides by sqrt(0 + 1e-8), not by sqrt(-1e-8)
        out = layer(torch.randn(2, 3, 6, 6), torch.randn(2, 4), noise_mode="none")
    assert torch.allclose(out, ops.bias_lrelu(torch.zeros(2, 4, 6, 6), layer.bias))


def test_layers_stay_on_the_device_of_their_input():
    # 'meta' stands in for a GPU: random noise must be drawn where the features are.
    layer = _noisy_layer().to("meta")
    x, w = torch.randn(2, 3, 6, 6, device="meta"), torch.randn(2, 4, device="meta")
    assert layer(x, w, noise_mode="random").device.type == "meta"


# ------------------------------------------------------------------------------------------------
# generator.py


def test_generator_defaults_are_nvlabs_config_f():
    from ganinv.stylegan2.generator import StyleGAN2Generator

    G = StyleGAN2Generator(channels={2**i: 1 for i in range(2, 11)})  # 1 channel: cheap to build
    assert (G.resolution, G.z_dim, G.w_dim, G.num_ws, G.img_channels) == (1024, 512, 512, 18, 3)
    assert G.config["mapping_layers"] == 8 and G.mapping_network.num_layers == 8
    assert G.config["mapping_lr_mul"] == 0.01
    assert G.mapping_network.fc0.weight_gain == pytest.approx(0.01 / 512**0.5)
    assert G.config["channel_base"] == 32768 and G.config["channel_max"] == 512


def test_truncation_with_psi_two_extrapolates(tiny_generator):
    G = tiny_generator
    with torch.no_grad():
        G.w_avg.normal_()
    z = torch.randn(2, 16)
    ws = G.mapping(z)
    assert torch.allclose(G.mapping(z, truncation_psi=2), G.w_avg + 2 * (ws - G.w_avg), atol=1e-5)


def test_forward_passes_noise_mode_on(tiny_generator):
    G = tiny_generator
    z = torch.randn(2, 16)
    with torch.no_grad():
        none = G(z, noise_mode="none")
        assert torch.equal(none, G.synthesize(G.mapping(z), noise_mode="none"))
        assert not torch.allclose(none, G(z))


def test_generator_user_errors_say_what_was_wrong(tiny_generator):
    from ganinv.core.errors import GanInvError
    from ganinv.stylegan2.generator import mix_styles

    with pytest.raises(GanInvError, match="style mixing needs equal shapes"):
        mix_styles(torch.zeros(1, 6, 16), torch.zeros(1, 5, 16), 2)
    with pytest.raises(GanInvError, match="noise_mode must be 'const', 'random' or 'none'"):
        tiny_generator.synthesize(torch.zeros(1, 6, 16), noise_mode="fixed")


def test_layer_infos_give_every_layer_its_output_resolution(tiny_generator):
    assert [(i.name, i.resolution) for i in tiny_generator.layers] == [
        ("b4.const", 4),
        ("b4.conv1", 4),
        ("b4.torgb", 4),
        ("b8.conv0", 8),
        ("b8.conv1", 8),
        ("b8.torgb", 8),
        ("b16.conv0", 16),
        ("b16.conv1", 16),
        ("b16.torgb", 16),
    ]


def test_channel_table_errors_say_what_to_give():
    from ganinv.core.errors import GanInvError
    from ganinv.stylegan2.generator import channel_table

    with pytest.raises(GanInvError) as info:
        channel_table(48, None, 32768, 512)
    assert str(info.value) == "resolution must be a power of two >= 4, got 48"
    with pytest.raises(GanInvError) as info:
        channel_table(8, {8: 8}, 32768, 512)
    assert str(info.value) == (
        "channel table {8: 8} lacks resolutions [4]; give a count for each of [4, 8]"
    )
