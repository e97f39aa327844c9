"""Class 10, paths inside files: an exported encoder and a saved method config work from any
working folder. Paths in an encoder's header resolve relative to the file; paths in a resolved
config (method.yaml, config.yaml next to results) are absolute."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from security_testkit import export_encoder, make_generator

from ganinv.cli.main import main as ganinv_main
from ganinv.core.errors import GanInvError
from ganinv.harness.configs import load_method
from ganinv.harness.method import build_method
from ganinv.harness.schema import MethodConfig

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "registry" / "assets"


def test_shipped_demo_encoders_work_outside_the_repository(tmp_path, monkeypatch):
    """demo_sdic names both the generator and its base e4e file in its header."""
    monkeypatch.chdir(tmp_path)
    images = torch.zeros(1, 3, 32, 32)
    for name in ("demo_psp", "demo_sdic"):
        method = build_method(MethodConfig(encoder_checkpoint=str(ASSETS / f"{name}.safetensors")))
        assert Path(method.config.generator) == ASSETS / "demo_fmnist32_stylegan2.safetensors"
        _, recon = method.invert(images)
        assert recon.shape == (1, 3, 32, 32) and torch.isfinite(recon).all(), name


def test_an_exported_encoder_moves_with_its_generator(tmp_path, monkeypatch, image):
    """Exported with a path typed relative to the working folder; the folder holding both files is
    then moved, and the encoder is used from a third folder."""
    first = tmp_path / "project"
    _, generator = make_generator(first / "gan")
    monkeypatch.chdir(first)
    encoder_file = export_encoder(Path("runs/enc.safetensors"), "gan/g.safetensors", generator)
    before = build_method(MethodConfig(encoder_checkpoint=str(encoder_file))).invert(image)[0]
    shutil.move(str(first), str(tmp_path / "moved"))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    moved = tmp_path / "moved" / "runs" / "enc.safetensors"
    method = build_method(MethodConfig(encoder_checkpoint=str(moved)))
    assert Path(method.config.generator) == tmp_path / "moved" / "gan" / "g.safetensors"
    torch.testing.assert_close(method.invert(image)[0]["w"], before["w"], rtol=0, atol=0)


def test_a_saved_method_yaml_works_from_another_folder(tmp_path, monkeypatch, image):
    """`ganinv invert` run with relative paths saves method.yaml; it is reused from elsewhere."""
    work = tmp_path / "work"
    _, generator = make_generator(work)
    monkeypatch.chdir(work)
    export_encoder(Path("run/enc.safetensors"), "g.safetensors", generator)
    from PIL import Image

    Image.new("RGB", (16, 16), (200, 100, 0)).save(work / "x.png")
    args = ["invert", "--method", "run/enc.safetensors", "--input", "x.png", "--out", "out"]
    assert ganinv_main([*args, "--device", "cpu"]) == 0
    first = build_method(load_method(Path("run/enc.safetensors"))).invert(image)[0]
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path / "other")
    again = build_method(load_method(work / "out" / "method.yaml")).invert(image)[0]
    torch.testing.assert_close(again["w"], first["w"], rtol=0, atol=0)


def test_an_encoder_moved_without_its_generator_says_what_to_do(tmp_path, monkeypatch, image):
    """Only the encoder is copied elsewhere: the error names the file, the header field and the
    fix; naming the generator in the method makes it work."""
    monkeypatch.chdir(tmp_path)
    generator_file, generator = make_generator(tmp_path / "gan")
    export_encoder(Path("run/enc.safetensors"), "gan/g.safetensors", generator)
    (tmp_path / "other" / "alone").mkdir(parents=True)
    alone = Path(shutil.copy(tmp_path / "run" / "enc.safetensors", tmp_path / "other" / "alone"))
    with pytest.raises(GanInvError) as info:
        build_method(MethodConfig(encoder_checkpoint=str(alone)))
    message = str(info.value)
    assert str(alone) in message and "method.generator" in message and "\n" not in message
    method = build_method(
        MethodConfig(encoder_checkpoint=str(alone), generator=str(generator_file))
    )
    assert method.invert(image)[0]["w"].shape == (1, 16)
