"""IDInvert: the domain-guided encoder and the domain-regularised optimisation."""

from __future__ import annotations

import pytest
import torch
from ganinv_idinvert.encoder import DomainGuidedEncoder, ResidualBlock
from ganinv_idinvert.refiner import domain_regularizer
from torch import nn

import ganinv
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code

SMALL = {"input_resolution": 16, "base_channels": 8, "channel_max": 32}


def test_paper_architecture_at_256(wplus, tiny_generator):
    encoder = ganinv.build("encoders", "idinvert", space=wplus)  # defaults: 256 px, 64..512
    assert isinstance(encoder, DomainGuidedEncoder) and encoder.input_resolution == 256
    blocks = [m for m in encoder.blocks if isinstance(m, ResidualBlock)]
    widths = [b.conv1[0].out_channels for b in blocks]
    assert widths == [128, 256, 512, 512, 512, 512]  # 6 stages, 128 -> 4 px
    assert encoder.stem[0].kernel_size == (5, 5) and encoder.stem[0].out_channels == 64
    assert blocks[0].conv0[0].out_channels == 64  # hidden = min(fin, fout)
    assert isinstance(blocks[0].shortcut, nn.Sequential)  # learned 1x1 + BN when fin != fout
    assert isinstance(blocks[-1].shortcut, nn.Identity)
    assert encoder.dense.in_features == 512 * 4 * 4
    assert encoder.dense.out_features == tiny_generator.num_ws * tiny_generator.w_dim
    assert isinstance(encoder.dense_bn, nn.BatchNorm1d)
    std = encoder.dense.weight.std().item()
    assert 0.018 < std < 0.022  # N(0, 0.02) initialisation


def test_encoder_trains(wplus, images, tiny_generator):
    torch.manual_seed(0)
    encoder = ganinv.build("encoders", {"name": "idinvert", **SMALL}, space=wplus)
    code = encoder(images)
    assert code["wplus"].shape == (4, tiny_generator.num_ws, tiny_generator.w_dim)
    opt = torch.optim.Adam(encoder.parameters(), lr=1e-3, betas=(0.9, 0.99))
    losses = []
    for _ in range(15):
        loss = (wplus.render(encoder(images)) - images).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
    with pytest.raises(GanInvError, match=r"\[B, 3, 16, 16\]"):
        encoder(torch.randn(2, 3, 32, 32))


def refine(encoder, wplus, code, target, lambda_dom, steps=40):
    refiner = ganinv.build(
        "refiners",
        {
            "name": "idinvert_optimize",
            "steps": steps,
            "lambda_dom": lambda_dom,
            "losses": {"mse": 1.0},
        },
        encoder=encoder,
    )
    out = refiner.refine(wplus, code, target)
    return out, refiner


def test_domain_regularizer_pulls_code_toward_reencoding(wplus, images):
    torch.manual_seed(1)
    encoder = ganinv.build("encoders", {"name": "idinvert", **SMALL}, space=wplus).eval()
    start = encoder(images).detach()
    start = Code("wplus", {"wplus": start["wplus"] + 0.5 * torch.randn_like(start["wplus"])})

    def gap(code):
        with torch.no_grad():
            return domain_regularizer(code, encoder(wplus.render(code))).item()

    # Target = G(start): the image terms start at zero, so only the domain term moves the code.
    with torch.no_grad():
        target = wplus.render(start)
    regularised, refiner = refine(encoder, wplus, start, target, lambda_dom=2.0)
    plain, _ = refine(encoder, wplus, start, target, lambda_dom=0.0)
    history = refiner.domain_history
    assert len(history) == 40
    assert history[-1] < 0.5 * history[0], history[::8]
    assert gap(regularised) < 0.5 * gap(plain)
    assert gap(plain) == pytest.approx(gap(start), rel=1e-3)  # no pull without the term
    # The encoder is used in eval mode and never updated; its mode is restored.
    assert not encoder.training and all(p.requires_grad for p in encoder.parameters())


def test_encoder_weights_untouched_and_train_mode_restored(wplus, images):
    encoder = ganinv.build("encoders", {"name": "idinvert", **SMALL}, space=wplus).train()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    refine(encoder, wplus, wplus.init_code(4), images, lambda_dom=2.0, steps=3)
    assert encoder.training
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())


def test_refiner_loads_an_exported_encoder(wplus, images, tmp_path):
    from ganinv.harness.method import save_encoder
    from ganinv.harness.schema import MethodConfig

    encoder = ganinv.build("encoders", {"name": "idinvert", **SMALL}, space=wplus).eval()
    method = MethodConfig(generator="tiny", space="wplus", encoder={"name": "idinvert", **SMALL})
    path = save_encoder(tmp_path / "encoder_final.safetensors", encoder, method)
    refiner = ganinv.build(
        "refiners",
        {
            "name": "idinvert_optimize",
            "encoder_checkpoint": str(path),
            "steps": 2,
            "losses": {"mse": 1.0},
        },
    )
    refiner.refine(wplus, wplus.init_code(4), images)
    loaded = refiner.encoder
    assert all(
        torch.equal(a, b)
        for a, b in zip(encoder.state_dict().values(), loaded.state_dict().values())
    )
    no_encoder = ganinv.build("refiners", {"name": "idinvert_optimize", "losses": {"mse": 1.0}})
    with pytest.raises(GanInvError, match="encoder_checkpoint"):
        no_encoder.refine(wplus, wplus.init_code(1), images[:1])


def test_defaults_are_the_papers():
    refiner = ganinv.build("refiners", "idinvert_optimize")
    assert refiner.steps == 100 and refiner.lr == 0.01 and refiner.lambda_dom == 2.0
    assert refiner.loss_spec == {"mse": 1.0, "vgg_perceptual": 5e-5}
    assert refiner.latent_noise == 0.0 and refiner.lr_rampup == 0.0 and refiner.lr_rampdown == 0.0


def test_registered_from_the_plugin():
    for kind, name in [("encoders", "idinvert"), ("refiners", "idinvert_optimize")]:
        records = {r.name: r for r in ganinv.registry(kind).info(try_load=True)}
        assert records[name].distribution == "ganinv-idinvert" and records[name].loads
