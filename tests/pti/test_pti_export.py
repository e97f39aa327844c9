"""`ganinv export`: one image's tuned generator as a standalone file (ganinv's format and
rosinality's layout) that loads back through ganinv's loaders and renders the same image."""

from __future__ import annotations

import pytest
import torch

import ganinv
from ganinv.checkpoints.load import load_generator
from ganinv.cli.main import main
from ganinv.core.space import Code
from ganinv.core.weight_offsets import offset_key, without_offsets
from ganinv.testing import save_tiny_networks, tiny_images


@pytest.fixture(scope="module")
def tuned_world(tiny_generator, tmp_path_factory):
    root = tmp_path_factory.mktemp("pti_export")
    generator_file = save_tiny_networks(root / "g.safetensors", tiny_generator, discriminator=False)
    generator = load_generator(generator_file)
    space = ganinv.build("spaces", {"name": "wplus", "w_std_samples": 200}, generator=generator)
    images = tiny_images(generator, count=2, seed=3).flip(-1)  # mirrored: not a render of G
    refiner = ganinv.build(
        "refiners",
        {
            "name": "pti",
            "pivot_steps": 0,
            "tune_steps": 10,
            "tune_lr": 0.01,
            "lpips_lambda": 0.0,
            "lpips_threshold": None,
        },
    )
    code = refiner.refine(space, space.init_code(2), images)
    code_file = code.save(root / "codes.safetensors")
    return root, generator_file, space, code, code_file


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_export_renders_the_image_its_code_renders(tuned_world, suffix, capsys):
    root, generator_file, space, code, code_file = tuned_world
    out = root / f"tuned1{suffix}"
    assert main(["export", str(code_file), str(out), "--generator", str(generator_file),
                 "--index", "1"]) == 0  # fmt: skip
    assert "max |difference| on 4 codes" in capsys.readouterr().out
    exported = load_generator(out)
    plain = ganinv.build("spaces", {"name": "wplus", "w_std_samples": 200}, generator=exported)
    latent_only = Code("wplus", without_offsets(code.select(1).tensors))
    with torch.no_grad():
        want = space.render(code.select(1))
        got = plain.render(latent_only)
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
        # The offsets matter: the shared generator renders another image.
        assert (space.render(latent_only) - want).abs().max() > 1e-3


def test_export_refuses_what_it_must_not_write(tuned_world, capsys):
    root, generator_file, _, code, code_file = tuned_world
    foreign = root / "foreign.pt"
    foreign.write_bytes(b"not ours")
    args = ["--generator", str(generator_file)]
    assert main(["export", str(code_file), str(foreign), *args, "--force"]) == 2
    assert foreign.read_bytes() == b"not ours"
    assert "--overwrite replaces only ganinv network files" in capsys.readouterr().err
    assert main(["export", str(code_file), str(root / "x.pt"), *args, "--index", "2"]) == 2
    assert "image index 2 is out of range; the code holds 2 images" in capsys.readouterr().err
    assert not (root / "x.pt").exists()
    plain = Code("wplus", without_offsets(code.tensors)).save(root / "plain.safetensors")
    assert main(["export", str(plain), str(root / "y.pt"), *args]) == 2
    assert "carries no weight offsets" in capsys.readouterr().err
    bad = dict(code.tensors)
    bad[offset_key("b8.conv1")] = torch.zeros(2, 8, 8, 1, 1)
    bad_file = Code("wplus", bad).save(root / "bad.safetensors")
    assert main(["export", str(bad_file), str(root / "z.pt"), *args]) == 2
    assert "needs [B, " in capsys.readouterr().err
