"""The shipped demo networks: each matches its registry card, the demo benchmark's grid runs end to
end on them, and the shipped encoders keep the comparisons docs/results.md reports."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from demo_testkit import ROOT, has_fashion_mnist

import ganinv
from ganinv.core.assets import asset_path
from ganinv.core.config import read_yaml
from ganinv.harness.configs import load_method
from ganinv.harness.data import build_dataset, image_of
from ganinv.harness.method import build_method
from ganinv.reproduce.cards import load_card
from ganinv.reproduce.checks import Locations, check_file_card

ASSETS = ROOT / "registry" / "assets"
SHIPPED = sorted(ASSETS.glob("*.safetensors"))
BENCH = ROOT / "configs" / "demo" / "bench.yaml"
ENCODERS = [
    "w_encoder",
    "psp",
    "e4e",
    "padinv",
    "padinv_residual",
    "padinv_residual_nownorm",
    "idinvert",
    "sdic",
    "latentmap",
    "latentmap_masked",
    "restyle_psp",
    "restyle_e4e",
    "hyperstyle",
    "hfgi",
    "feature_style",
    "sfe",
]


def test_every_demo_network_is_shipped() -> None:
    names = {p.stem for p in SHIPPED}
    assert {"demo_fmnist32_stylegan2", *(f"demo_{e}" for e in ENCODERS)} <= names
    # All shipped weights together stay small: tens of MB (20 networks in float16, 97 MB with the
    # generator-tuning and feature-space methods of session 4; the 60 MB of 11 networks before).
    assert sum(p.stat().st_size for p in SHIPPED) < 100e6


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_file_matches_its_card(path: Path) -> None:
    card = load_card(ROOT / "registry" / f"{path.stem}.yaml")
    networks = ["discriminator"] if card.kind == "generator" else []
    found, details = check_file_card(card, Locations(assets=ASSETS), networks)
    assert found == path
    assert any("sha256 matches" in d for d in details), details


def test_bench_grid_names_every_shipped_encoder() -> None:
    config = read_yaml(BENCH)
    used = {
        Path(m["encoder_checkpoint"]).stem for m in config["methods"] if "encoder_checkpoint" in m
    }
    assert {f"demo_{e}" for e in ENCODERS if e != "latentmap_masked"} <= used
    for method in config["methods"]:
        if "encoder_checkpoint" in method:  # by card name: the card's verified file
            path = asset_path(method["encoder_checkpoint"], kind="encoder")
            assert path.parent == ASSETS, method["label"]


@pytest.mark.slow
@has_fashion_mnist
def test_demo_bench_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first command on 4 images, with 2 optimisation steps per refiner."""
    monkeypatch.chdir(ROOT)  # the demo configs name repository-relative paths
    config = read_yaml(BENCH)
    config.update(out=str(tmp_path / "bench"), metrics=["mse", "lpips_alex"], grid_images=2)
    config["data"]["limit"] = 4
    for method in config["methods"]:
        if "refiner" in method:
            method["refiner"]["steps"] = 2
    table = ganinv.benchmark(config, device="cpu")
    assert [label for label, _ in table.rows] == [m["label"] for m in config["methods"]]
    for label, values in table.rows:
        assert math.isfinite(values["mse"]) and values["mse"] < 0.5, (label, values)
    assert (tmp_path / "bench" / "report.html").is_file()
    assert (tmp_path / "bench" / "grid.png").is_file()


def held_out_images(count: int) -> torch.Tensor:
    dataset = build_dataset({"name": "fashion_mnist", "split": "test", "limit": count})
    return torch.stack([image_of(dataset[i]) for i in range(len(dataset))])


def scores(name: str, images: torch.Tensor, lpips: torch.nn.Module) -> tuple[float, float]:
    method = build_method(
        load_method(str(ASSETS / f"demo_{name}.safetensors")), torch.device("cpu")
    )
    _, recon = method.invert(images)
    with torch.no_grad():
        return float((recon - images).square().mean()), float(lpips(images, recon).mean())


@pytest.mark.slow
@has_fashion_mnist
def test_shipped_encoders_keep_the_reported_comparisons(monkeypatch: pytest.MonkeyPatch) -> None:
    """On 64 test images: PadInv beats pSp at the same backbone, losses and budget (the residual-map
    encoder without the W-norm term) and SDIC beats its e4e base, on MSE and LPIPS; latent-map,
    trained on synthetic pairs only, beats the mean code."""
    from ganinv.nets.lpips_offline import lpips_network

    monkeypatch.chdir(ROOT)
    images = held_out_images(64)
    lpips = lpips_network("alex")
    names = ("psp", "padinv_residual_nownorm", "e4e", "sdic", "latentmap")
    got = {name: scores(name, images, lpips) for name in names}
    for better, worse in (("padinv_residual_nownorm", "psp"), ("sdic", "e4e")):
        assert got[better][0] < got[worse][0], (better, worse, got)
        assert got[better][1] < got[worse][1], (better, worse, got)
    psp = build_method(load_method(str(ASSETS / "demo_psp.safetensors")), torch.device("cpu"))
    with torch.no_grad():
        mean_image = psp.space.render(psp.space.init_code(len(images)))
    mean_mse = float((mean_image - images).square().mean())
    assert got["latentmap"][0] < mean_mse, (got["latentmap"], mean_mse)
    assert all(math.isfinite(v) for pair in got.values() for v in pair)
