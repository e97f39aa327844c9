"""`ganinv train` scores every ReStyle step (ReStyle's coach: a backward after each step, then one
optimiser step), and the backbone starts from an IR-SE state dict as ReStyle's does."""

from __future__ import annotations

import copy

import torch
from tiny_world import make_world

import ganinv
from ganinv.core.space import Code
from ganinv.harness.configs import load
from ganinv.harness.schema import TrainConfig
from ganinv.harness.train import Trainer
from ganinv.nets.ir_se import input_layer

SMALL = {
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}


def test_one_trainer_step_has_the_gradient_of_a_backward_after_every_step(tmp_path):
    generator_file, images_dir = make_world(tmp_path, count=4)
    config = {
        "method": {
            "generator": str(generator_file),
            "space": "wplus",
            "encoder": {"name": "restyle_psp", **SMALL, "train_steps": 3},
        },
        "data": {"name": "folder", "path": str(images_dir), "resolution": 16},
        "losses": {"mse": 1.0},
        "steps": 1,
        "batch_size": 4,
        "out": str(tmp_path / "run"),
        "progress": False,
    }
    trainer = Trainer(load(TrainConfig, config), torch.device("cpu"))
    torch.manual_seed(3)
    images = torch.rand(4, 3, 16, 16) * 2 - 1
    before = copy.deepcopy(trainer.encoder)
    logged = trainer.train_step(images)
    got = {n: p.grad.clone() for n, p in trainer.encoder.named_parameters() if p.grad is not None}

    # ReStyle's coach: loss.backward() after every step, the inputs of a step detached.
    space = trainer.space
    before.zero_grad()
    wplus = space.init_code(4)["wplus"]
    recon = before.average_image(images).expand(4, -1, -1, -1)
    per_step = []
    for _ in range(3):
        wplus = wplus.detach() + before.predict_delta(torch.cat([images, recon], dim=1))
        fake = space.render(Code("wplus", {"wplus": wplus}))
        loss = (fake - images).square().mean()
        loss.backward()
        per_step.append(float(loss.detach()))
        recon = fake.detach()
    want = {n: p.grad for n, p in before.named_parameters() if p.grad is not None}
    assert sorted(got) == sorted(want)
    for name in want:
        assert torch.allclose(got[name], want[name], rtol=1e-4, atol=1e-7), name
    # each step's loss is logged, the last one under the plain name
    assert abs(logged["loss/step0/mse"] - per_step[0]) < 1e-5
    assert abs(logged["loss/step1/mse"] - per_step[1]) < 1e-5
    assert abs(logged["loss/mse"] - per_step[2]) < 1e-5
    assert abs(logged["loss/total"] - sum(per_step)) < 1e-5


def test_backbone_weights_fill_the_image_channels_of_the_stem_and_the_body(wplus, tmp_path):
    spec = {"name": "restyle_psp", **SMALL}
    torch.manual_seed(0)
    fresh = ganinv.build("encoders", spec, space=wplus)
    # an IR-SE state dict of the same small shape with a 3-channel stem, as the ArcFace file
    torch.manual_seed(1)
    source = torch.nn.Module()
    source.input_layer = input_layer(8, 3)
    source.body = copy.deepcopy(fresh.backbone.body)
    for p in source.parameters():
        torch.nn.init.normal_(p)
    path = tmp_path / "ir_se.pth"
    torch.save(source.state_dict(), path)
    torch.manual_seed(0)
    loaded = ganinv.build("encoders", {**spec, "backbone_weights": str(path)}, space=wplus)
    stem = loaded.backbone.input_layer
    assert torch.equal(stem[0].weight[:, :3], source.input_layer[0].weight)
    assert torch.equal(stem[0].weight[:, 3:], fresh.backbone.input_layer[0].weight[:, 3:])
    assert torch.equal(stem[2].weight, source.input_layer[2].weight)
    body = dict(loaded.backbone.body.state_dict())
    for key, value in source.body.state_dict().items():
        assert torch.equal(body[key], value), key
