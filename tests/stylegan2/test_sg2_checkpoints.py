"""Checkpoint formats: detection, our safetensors round trip, `ganinv convert --check`,
rosinality training checkpoints (Namespace args, no latent_avg), user errors."""

from __future__ import annotations

import argparse
import json
import re

import pytest
import torch

import ganinv
from ganinv.checkpoints.load import detect_format, load_networks
from ganinv.checkpoints.native import load_networks as load_native
from ganinv.checkpoints.native import read_metadata, save_networks
from ganinv.cli.main import main
from ganinv.core.errors import GanInvError


def test_sg2_detect_format(refs, tmp_path, tiny_generator):
    assert detect_format(refs / "rosinality_s64.pt") == "rosinality"
    assert detect_format(refs / "nvlabs_s64_scrubbed.pkl") == "nvlabs"
    path = save_networks(tmp_path / "g.safetensors", {"generator": tiny_generator})
    assert detect_format(path) == "native"
    legacy = tmp_path / "legacy.pt"
    torch.save({"d": {}}, legacy, _use_new_zipfile_serialization=False)
    assert detect_format(legacy) == "rosinality"
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello world, not a checkpoint")
    with pytest.raises(GanInvError, match="unrecognised checkpoint format"):
        detect_format(junk)
    with pytest.raises(GanInvError, match="no such checkpoint file"):
        ganinv.load_generator(tmp_path / "missing.pt")


def test_sg2_native_round_trip(tmp_path, tiny_generator, tiny_discriminator):
    path = tmp_path / "nets.safetensors"
    save_networks(
        path, {"generator": tiny_generator, "discriminator": tiny_discriminator}, {"note": "x"}
    )
    metadata = read_metadata(path)
    assert metadata["format"] == "ganinv.networks" and metadata["format_version"] == "1"
    described = json.loads(metadata["networks"])
    assert described["generator"]["class"] == "generator/stylegan2"
    assert described["discriminator"]["config"]["mbstd_group_size"] == 2
    networks, meta = load_native(path)
    assert meta == {"note": "x"}
    ws = torch.randn(2, 6, 16)
    with torch.no_grad():
        assert torch.equal(networks["generator"].synthesize(ws), tiny_generator.synthesize(ws))
        img = torch.randn(2, 3, 16, 16)
        assert torch.equal(networks["discriminator"](img), tiny_discriminator(img))
    assert not any(k.endswith("resample_filter") for k in networks["generator"].state_dict())


def test_sg2_native_rejects_foreign_safetensors(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"x": torch.zeros(2)}, str(path))
    with pytest.raises(GanInvError, match="not a ganinv network file"):
        load_native(path)


def test_sg2_loaded_networks_are_frozen(refs):
    G = ganinv.load_generator(refs / "rosinality_s64.pt")
    D = ganinv.load_discriminator(refs / "nvlabs_s64_scrubbed.pkl")
    assert not G.training and not D.training
    assert not any(p.requires_grad for p in [*G.parameters(), *D.parameters()])


@pytest.mark.parametrize("source", ["rosinality_s64.pt", "nvlabs_s64_scrubbed.pkl"])
def test_sg2_convert_cli_check(refs, tmp_path, capsys, source):
    out = tmp_path / "converted.safetensors"
    assert main(["convert", str(refs / source), str(out), "--check"]) == 0
    printed = capsys.readouterr().out
    diffs = [float(v) for v in re.findall(r"max abs diff ([0-9.e+-]+)", printed)]
    assert len(diffs) == 3, printed  # image, truncated image, discriminator logits
    assert max(diffs) <= 1e-5
    # The converted file renders what the source does.
    before, _ = load_networks(refs / source)
    after = ganinv.load_generator(out)
    z = torch.randn(2, after.z_dim)
    with torch.no_grad():
        assert (before["generator"](z) - after(z)).abs().max().item() <= 1e-6
    # Refuses to overwrite without --force (a user error: exit status 2).
    assert main(["convert", str(refs / source), str(out)]) == 2


def test_sg2_rosinality_training_checkpoint(refs, tmp_path):
    data = torch.load(refs / "rosinality_s64.pt", weights_only=True)
    training = {
        "g": data["g_ema"],
        "g_ema": data["g_ema"],
        "d": data["d"],
        "g_optim": {"state": {}, "param_groups": [{"lr": 0.002, "params": [0, 1]}]},
        "args": argparse.Namespace(size=64, channel_multiplier=2, r1=10.0, path="data/lmdb"),
        "ada_aug_p": 0.0,
    }
    path = tmp_path / "050000.pt"
    torch.save(training, path)
    with pytest.warns(UserWarning, match="no 'latent_avg'"):
        networks, meta = load_networks(path)
    G = networks["generator"]
    assert "estimated" in meta["w_avg"]
    # 10k samples: the estimate lies close to the 4096-sample mean latent of the reference.
    assert (G.w_avg - data["latent_avg"]).abs().max().item() < 0.05
    # A checkpoint that needs a non-allow-listed class is refused, not executed.
    evil = tmp_path / "evil.pt"
    torch.save({"g_ema": data["g_ema"], "args": torch.nn.ReLU()}, evil)
    with pytest.raises(GanInvError, match="cannot be loaded safely"):
        load_networks(evil)


def test_sg2_generator_only_checkpoint_has_no_discriminator(refs, tmp_path):
    data = torch.load(refs / "rosinality_s64.pt", weights_only=True)
    path = tmp_path / "g_only.pt"
    torch.save({"g_ema": data["g_ema"], "latent_avg": data["latent_avg"]}, path)
    assert ganinv.load_generator(path).resolution == 64
    with pytest.raises(GanInvError, match="holds no discriminator"):
        ganinv.load_discriminator(path)
