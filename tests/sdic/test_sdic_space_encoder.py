"""SDIC: the space (W+ plus a feature residual), the encoder's architecture and its exactness
with the compensation zeroed, and the transfer of the compensation under editing."""

from __future__ import annotations

import numpy as np
import pytest
import sdic_testkit as kit
import torch
from ganinv_sdic.dicn import DICN
from ganinv_sdic.dipn import DIPN
from PIL import Image

from ganinv import load_generator
from ganinv.core.errors import GanInvError
from ganinv.core.generator import LayerInfo, SynthesisHooks
from ganinv.core.registry import build
from ganinv.core.space import Code


def load_images(folder) -> torch.Tensor:
    arrays = [np.array(Image.open(p)) for p in sorted(folder.glob("*.png"))]
    return torch.stack([torch.from_numpy(a).permute(2, 0, 1).float() / 127.5 - 1 for a in arrays])


@pytest.fixture(scope="module")
def parts(sdic_world):
    g = load_generator(str(sdic_world["generator"])).eval().requires_grad_(False)
    space = build("spaces", kit.SPACE, generator=g)
    return g, space


def sdic_encoder(world, space, **settings):
    spec = {"name": "sdic", "e4e_checkpoint": str(world["e4e"]), **kit.SMALL_SDIC, **settings}
    return build("encoders", spec, space=space)


def test_zeroed_compensation_renders_its_e4e_base_bit_for_bit(sdic_world, parts):
    g, space = parts
    encoder = sdic_encoder(sdic_world, space, zero_init=True).eval()
    images = load_images(sdic_world["test"])
    wplus_space = build("spaces", "wplus", generator=g)
    with torch.no_grad():
        code = encoder(images)
        base = encoder.base_encoder(images)
        sdic_render = space.render(code)
        e4e_render = wplus_space.render(base)
    assert code.space == "sdic" and set(code.tensors) == {"wplus", "residual"}
    assert torch.equal(code["wplus"], base["wplus"])
    assert torch.count_nonzero(code["residual"]) == 0
    assert torch.equal(sdic_render, e4e_render)
    losses = encoder.extra_losses(code)
    assert float(losses["feature_reg"]) == 0.0 and float(losses["latent_reg"]) == 0.0


def test_default_init_compensates_and_regularisers_measure_it(sdic_world, parts):
    _, space = parts
    torch.manual_seed(0)
    encoder = sdic_encoder(sdic_world, space, discrepancy_loss=True).eval()
    images = load_images(sdic_world["test"])
    with torch.no_grad():
        code = encoder(images)
        base = encoder.initial_inversion(images)
    residual, wplus = code["residual"], code["wplus"]
    assert residual.shape == (4, *space.residual_shape()) == (4, 16, 8, 8)
    assert torch.count_nonzero(residual) > 0 and not torch.equal(wplus, base["wplus"])
    losses = encoder.extra_losses(code)
    assert torch.allclose(losses["feature_reg"], residual.square().mean())
    assert torch.allclose(losses["latent_reg"], (wplus - base["wplus"]).square().mean())
    with torch.no_grad():
        discrepancy = encoder.dipn(images, base["recon"])
    expected_l1 = (discrepancy - (images - base["recon"])).abs().mean()
    assert torch.allclose(losses["discrepancy_l1"], expected_l1)
    with torch.no_grad():
        encoder(images)  # a newer forward: the old code's regularisers are no longer known
    with pytest.raises(GanInvError, match="latest forward"):
        encoder.extra_losses(code)


class ReplaceFeature(SynthesisHooks):
    """The released inference path: the layer's output is replaced by a given tensor."""

    def __init__(self, name: str, value: torch.Tensor) -> None:
        self.name, self.value = name, value

    def feature(self, layer: LayerInfo, x: torch.Tensor) -> torch.Tensor:
        return self.value if layer.name == self.name else x


def test_editing_moves_wplus_and_transfers_the_compensation(parts):
    g, space = parts
    torch.manual_seed(3)
    wplus = g.mapping(torch.randn(2, g.z_dim))
    residual = 0.5 * torch.randn(2, *space.residual_shape())
    code = space.make_code(wplus, residual)
    direction = torch.randn(g.w_dim)
    edited = space.apply_direction(code, direction, 1.5)
    assert torch.equal(edited["residual"], residual)
    assert torch.allclose(edited["wplus"], wplus + 1.5 * direction)

    with torch.no_grad():
        # SDIC's scripts/inference.py: F'_e = F' - G7 + G7_e, then G(w'_e, G7 := F'_e).
        _, f_base = space.render_with_feature(wplus)
        f_prime = f_base + residual
        _, f_edit = space.render_with_feature(edited["wplus"])
        released = g.synthesize(
            edited["wplus"], hooks=ReplaceFeature(space.layer.name, f_prime - f_base + f_edit)
        )
        ours = space.render(edited)
        plain_edit = g.synthesize(edited["wplus"])
    assert torch.allclose(ours, released, atol=1e-5)
    assert (ours - plain_edit).abs().mean() > 1e-3  # the compensation survives the edit


def test_zero_residual_is_plain_wplus_and_codes_round_trip(parts, tmp_path):
    g, space = parts
    torch.manual_seed(4)
    wplus = g.mapping(torch.randn(3, g.z_dim))
    code = space.make_code(wplus)
    assert torch.equal(space.render(code), g.synthesize(wplus))
    code.tensors["residual"] = torch.randn_like(code["residual"])
    loaded = Code.load(code.save(tmp_path / "c.safetensors"))
    assert loaded.space == "sdic" and loaded.meta == {"feature_layer": "b8.conv0"}
    assert torch.allclose(space.render(loaded), space.render(code), atol=1e-5)
    blend = space.blend(code.select(0), code.select(1))
    assert torch.equal(blend["residual"], code["residual"][:1])
    with pytest.raises(GanInvError, match="feature_resolution"):
        build("spaces", {"name": "sdic", "feature_resolution": 64}, generator=g)
    with pytest.raises(GanInvError, match="residual"):
        space.make_code(wplus, torch.zeros(3, 16, 4, 4))


def test_encoder_errors_name_the_problem(sdic_world, parts, tmp_path):
    g, space = parts
    with pytest.raises(GanInvError, match="does not exist"):
        build("encoders", {"name": "sdic", "e4e_checkpoint": str(tmp_path / "nope")}, space=space)
    wplus_space = build("spaces", "wplus", generator=g)
    with pytest.raises(GanInvError, match="'sdic' space"):
        build(
            "encoders",
            {"name": "sdic", "e4e_checkpoint": str(sdic_world["e4e"])},
            space=wplus_space,
        )


def test_networks_have_the_released_shapes():
    """Paper widths: DIPN at 64 px (3D volume 48 deep) and DICN for 18 x 512 codes, 512 x 64^2."""
    dipn = DIPN()
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert dipn.eval()(image, image.flip(-1)).shape == (1, 3, 64, 64)
    state = {k: tuple(v.shape) for k, v in dipn.state_dict().items()}
    assert state["feature1.fe5.conv.weight"] == (160, 96, 3, 3)
    assert state["feature_up.deconv8_4.conv1.conv.weight"] == (160, 96, 4, 4)
    assert state["desc.weight"] == (24, 48, 1, 1)
    assert state["corr_stem.conv.weight"] == (8, 1, 3, 3, 3)
    assert state["hourglass_fusion.CGF_32.semantic.1.weight"] == (48, 80, 1, 1)
    assert state["hourglass_fusion.CGF_16.semantic.0.conv.weight"] == (96, 192, 1, 1)
    assert state["hourglass_fusion.CGF_8.semantic.0.conv.weight"] == (32, 64, 1, 1)
    assert state["rgb1.0.conv.weight"] == (16, 48, 3, 3)
    dicn = DICN(512, 18, 512)
    state = {k: tuple(v.shape) for k, v in dicn.state_dict().items()}
    assert state["aff1d.sen.0.weight"] == (72, 144, 1)
    assert state["aff1d.att.3.weight"] == (18, 18, 1)
    assert state["condition_shift3.2.weight"] == (18, 18, 3, 3)
    assert state["semantic.2.conv.weight"] == (512, 64, 3, 3)
    with pytest.raises(GanInvError, match="multiple of w_dim"):
        DICN(16, 6, 16, latent_map_size=6)
