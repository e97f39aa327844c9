"""Latent-map: synthetic pairs, the latent loss, masks, the encoder, and training on synthetic
pairs only through `ganinv train` (plain and masked), evaluated on held-out renderings."""

from __future__ import annotations

import latentmap_testkit as kit
import pytest
import torch
from ganinv_latentmap.features import FEATURE_EXTRACTORS
from ganinv_latentmap.masks import apply_mask, random_masks

from ganinv import load_generator
from ganinv.core.errors import GanInvError
from ganinv.core.registry import build
from ganinv.harness.data import collate_with_extras
from ganinv.harness.method import build_method
from ganinv.harness.schema import MethodConfig
from ganinv.losses.base import LossInputs


def test_synthetic_pairs_are_renderings_of_their_codes(latentmap_generator):
    data = build("datasets", {"name": "synthetic_pairs", "generator": str(latentmap_generator)})
    other = build(
        "datasets", {"name": "synthetic_pairs", "generator": str(latentmap_generator), "seed": 1}
    )
    item = data[3]
    g = load_generator(str(latentmap_generator)).eval()
    with torch.no_grad():
        assert torch.equal(item["image"], g.synthesize(item["wplus"][None])[0].clamp(-1, 1))
    assert torch.equal(item["wplus"][0], item["wplus"][-1])  # one w from the mapping
    assert torch.equal(data[3]["wplus"], item["wplus"])  # deterministic
    assert not torch.equal(other[3]["wplus"], item["wplus"])  # another seed, other pairs
    images, extras = collate_with_extras([data[0], data[1]])
    assert images.shape == (2, 3, 16, 16) and extras["wplus"].shape == (2, 6, 16)
    with pytest.raises(IndexError):
        data.latent(len(data))


def test_latent_mse_reads_the_batch_targets(latentmap_generator):
    g = load_generator(str(latentmap_generator)).eval()
    space = build("spaces", "w", generator=g)
    loss = build("losses", "latent_mse")
    code = space.make_code(torch.zeros(2, 16))
    target = torch.ones(2, 6, 16)
    image = torch.zeros(2, 3, 16, 16)
    inputs = LossInputs(image, image, code=code, space=space, extra={"wplus": target})
    assert float(loss(inputs)) == pytest.approx(1.0)
    with pytest.raises(GanInvError, match="synthetic_pairs"):
        loss(LossInputs(image, image, code=code, space=space))
    bad = LossInputs(image, image, code=code, space=space, extra={"wplus": target[:, :3]})
    with pytest.raises(GanInvError, match="differ"):
        loss(bad)


def test_masks_are_reproducible_holes_of_both_kinds():
    for kind in ("rect", "freeform"):
        masks = random_masks(16, 32, kind, torch.Generator().manual_seed(0))
        again = random_masks(16, 32, kind, torch.Generator().manual_seed(0))
        assert torch.equal(masks, again) and masks.shape == (16, 1, 32, 32)
        assert set(masks.unique().tolist()) == {0.0, 1.0}
        holes = 1 - masks.mean(dim=(1, 2, 3))
        assert (holes > 0).all() and (holes < 0.8).all(), holes
    images = torch.rand(2, 3, 8, 8)
    mask = torch.ones(2, 1, 8, 8)
    mask[:, :, :4] = 0
    out = apply_mask(images, mask, fill=-1.0)
    assert (out[:, :, :4] == -1).all() and torch.equal(out[:, :, 4:], images[:, :, 4:])
    with pytest.raises(GanInvError, match="mask kind"):
        random_masks(1, 8, "circles")


def test_untrained_encoder_returns_the_mean_code_in_w_and_wplus(latentmap_generator):
    g = load_generator(str(latentmap_generator)).eval()
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    for name, shape in (("w", (2, 16)), ("wplus", (2, 6, 16))):
        space = build("spaces", name, generator=g)
        encoder = build("encoders", kit.ENCODER, space=space)
        code = encoder(images)
        assert code.space == name and code[name].shape == shape
        assert torch.allclose(space.to_wplus(code), g.w_avg.expand(2, 6, 16))
        assert not any(k.startswith("extractor") for k in encoder.state_dict())
    with pytest.raises(GanInvError, match="'w' or 'wplus'"):
        build("encoders", kit.ENCODER, space=build("spaces", "z", generator=g))
    with pytest.raises(GanInvError, match="unknown feature_extractor"):
        FEATURE_EXTRACTORS.get("clip_vit")
    with pytest.raises(GanInvError, match="no layer"):
        FEATURE_EXTRACTORS.build({"name": "vgg16", "layer": "conv9"})


def test_feature_extractors_load_weights_from_a_path(tmp_path):
    """The paper-setting VGG16 (conv5_3 at 224 px) and a state-dict file given by path."""
    from safetensors.torch import save_file

    vgg = FEATURE_EXTRACTORS.build("vgg16")
    assert vgg.out_channels == 512
    with torch.no_grad():
        assert vgg(torch.zeros(1, 3, 32, 32)).shape == (1, 512, 14, 14)
    alex = FEATURE_EXTRACTORS.build({"name": "alexnet", "layer": "conv2", "resize_to": 64})
    state = {f"features.{k}": v for k, v in alex.features.state_dict().items()}
    state = {k: torch.randn_like(v) for k, v in state.items()}
    save_file(state, str(tmp_path / "alex.safetensors"))
    spec = {"name": "alexnet", "layer": "conv2", "weights": str(tmp_path / "alex.safetensors")}
    mine = FEATURE_EXTRACTORS.build(spec)
    assert torch.equal(mine.features[3].weight, state["features.3.weight"])
    with pytest.raises(GanInvError, match="do not exist"):
        FEATURE_EXTRACTORS.build({"name": "alexnet", "weights": str(tmp_path / "none.pt")})


@pytest.mark.slow
def test_trained_on_synthetic_pairs_it_inverts_held_out_and_masked_images(
    latentmap_generator, tmp_path
):
    from ganinv_latentmap.synthetic import SyntheticPairs

    plain = kit.train(kit.train_config(latentmap_generator, tmp_path / "plain", 150))
    masked = kit.train(
        kit.train_config(latentmap_generator, tmp_path / "masked", 150, mask_probability=0.75)
    )
    held_out = SyntheticPairs(str(latentmap_generator), count=48, seed=1)
    items = [held_out[i] for i in range(len(held_out))]
    images = torch.stack([x["image"] for x in items])
    targets = torch.stack([x["wplus"] for x in items])
    holes = random_masks(len(items), 16, "mixed", torch.Generator().manual_seed(5))
    masked_images = apply_mask(images, holes, fill=0.0)

    method = build_method(MethodConfig(encoder_checkpoint=str(plain)))
    space = method.space
    with torch.no_grad():
        mean_recon = space.render(space.init_code(len(items))).clamp(-1, 1)
    mean_mse = float((mean_recon - images).square().mean())
    mean_latent = float((space.generator.w_avg - targets).square().mean())
    code, recon = method.invert(images)
    plain_mse = float((recon - images).square().mean())
    plain_latent = float((space.to_wplus(code) - targets).square().mean())
    # Measured: mean code 0.46 (latent 0.90); latent-map about 0.15-0.2 (latent about 0.4).
    assert plain_mse < 0.6 * mean_mse, (plain_mse, mean_mse)
    assert plain_latent < 0.7 * mean_latent, (plain_latent, mean_latent)

    masked_method = build_method(MethodConfig(encoder_checkpoint=str(masked)))
    _, inpainted = masked_method.invert(masked_images)
    masked_mse = float((inpainted - images).square().mean())  # against the full images
    assert masked_mse < 0.6 * mean_mse, (masked_mse, mean_mse)
