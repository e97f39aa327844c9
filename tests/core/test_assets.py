"""Assets by name: registry cards name files, usable wherever a file is expected, from any
working folder; cards are data (sha256 checked, file names kept inside their folders)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))
from security_testkit import export_encoder, make_generator, run_cli  # noqa: E402

import ganinv  # noqa: E402
from ganinv.core.assets import REGISTRY_ENV, asset_path, list_assets  # noqa: E402
from ganinv.core.errors import GanInvError  # noqa: E402


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _card(folder: Path, name: str, kind: str, filename: str, sha: str | None) -> None:
    (folder / f"{name}.yaml").write_text(
        f"name: {name}\nkind: {kind}\ntitle: tiny {kind}\nused_for: tests\nsource: here\n"
        f"licence: MIT\nobtain: made by the test\nfile:\n  filename: {filename}\n"
        f"  format: native\n  sha256: {sha if sha else 'null'}\n  sha256_note: test\n"
        "provenance: {verified: [test]}\n"
    )


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A registry folder with a tiny generator and an encoder exported on it, and a working
    folder that holds neither."""
    folder = tmp_path / "cards"
    generator_file, generator = make_generator(folder / "assets")
    encoder_file = export_encoder(folder / "assets" / "enc.safetensors", generator_file, generator)
    _card(folder, "tiny_gan", "generator", "g.safetensors", _sha(generator_file))
    _card(folder, "tiny_enc", "encoder", "enc.safetensors", _sha(encoder_file))
    monkeypatch.setenv(REGISTRY_ENV, str(folder))
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    return folder


def test_generator_and_encoder_by_name_from_any_folder(registry):
    generator = ganinv.load_generator("tiny_gan")
    assert generator.resolution == 16
    images = torch.zeros(2, 3, 16, 16)
    codes, recon = ganinv.invert("tiny_enc", images, device="cpu")
    assert recon.shape == (2, 3, 16, 16)
    names = {a.name: a for a in list_assets()}
    assert names["tiny_enc"].path == registry / "assets" / "enc.safetensors"


def test_cli_invert_with_a_card_name_and_a_config_naming_the_generator(registry, tmp_path):
    from PIL import Image

    Image.new("RGB", (16, 16), (200, 10, 10)).save("x.png")
    code, out, err = run_cli("invert", "--method", "tiny_enc", "--input", "x.png", "--out", "o")
    assert code == 0, err
    assert (Path("o") / "recon" / "x.png").is_file()
    (tmp_path / "m.yaml").write_text(
        "generator: tiny_gan\nspace: w\nrefiner: {name: optimize, steps: 2}\n"
    )
    code, out, err = run_cli(
        "invert", "--method", tmp_path / "m.yaml", "--input", "x.png", "--out", "o2"
    )
    assert code == 0, err


def test_a_replaced_file_is_caught_by_its_cards_sha256(registry):
    file = registry / "assets" / "g.safetensors"
    file.write_bytes(file.read_bytes() + b" ")
    with pytest.raises(GanInvError, match="replaced or is corrupted"):
        asset_path("tiny_gan")


def test_unknown_names_suggest_and_missing_files_say_where_to_put_them(registry):
    with pytest.raises(GanInvError, match="did you mean 'tiny_gan'"):
        asset_path("tiny_gun")
    _card(registry, "absent", "generator", "absent.safetensors", None)
    with pytest.raises(GanInvError, match=r"not here: put it at .*absent\.safetensors"):
        ganinv.load_generator("absent")
    with pytest.raises(GanInvError, match="is a generator, not a encoder"):
        asset_path("tiny_gan", kind="encoder")


def test_a_card_cannot_name_a_file_outside_its_folders(registry, tmp_path):
    secret = tmp_path / "secret.safetensors"
    secret.write_bytes(b"x")
    _card(registry, "escape", "generator", "../../secret.safetensors", None)
    assert "escape" not in {a.name for a in list_assets()}
    with pytest.raises(GanInvError, match="no asset called 'escape'"):
        asset_path("escape")


def test_shipped_demo_assets_resolve_by_name(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    path = asset_path("demo_fmnist32_stylegan2", kind="generator")
    assert path.name == "demo_fmnist32_stylegan2.safetensors"
    assert asset_path("demo_psp", kind="encoder").is_file()
    code, out, _ = run_cli("weights", "list")
    assert code == 0 and "demo_psp" in out and "licence: MIT" in out


def test_settings_given_over_an_exported_file_keep_the_files_other_settings(registry):
    """`encoder: {name: <the file's encoder>, key: value}` changes that key only; a spec naming
    another encoder replaces the file's."""
    from ganinv.harness.configs import load_method
    from ganinv.harness.method import resolve_method_config

    saved = resolve_method_config(load_method("tiny_enc")).encoder
    merged = resolve_method_config(
        load_method(
            {
                "encoder_checkpoint": "tiny_enc",
                "encoder": {"name": "w_encoder", "units": [2, 1, 1, 1]},
            }
        )
    ).encoder
    assert merged == {**saved, "units": [2, 1, 1, 1]}
    other = {"name": "psp", "input_resolution": 16}
    replaced = resolve_method_config(
        load_method({"encoder_checkpoint": "tiny_enc", "encoder": other})
    ).encoder
    assert replaced == other
