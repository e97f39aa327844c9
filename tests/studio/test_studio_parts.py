"""The studio's parts without a browser, on the tiny world: what it offers, that it computes what
the CLI computes, how it treats uploads and its folders, and how it reads a saved bench run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from security.test_special_files import bomb_png
from tiny_world import render_image_folder, save_tiny_networks, tiny_generator

from ganinv.core.errors import GanInvError
from ganinv.core.images import to_uint8
from ganinv.core.progress import Cancelled
from ganinv.core.registry import registry
from ganinv.editing import operations
from ganinv.editing.ganspace import ganspace_direction, ganspace_pca
from ganinv.editing.sefa import sefa, sefa_direction
from ganinv.harness.bench import run_bench
from ganinv.harness.configs import load
from ganinv.harness.grids import error_map
from ganinv.harness.inputs import read_image
from ganinv.harness.schema import BenchConfig
from ganinv.harness.tables import BenchTable
from ganinv.studio import actions
from ganinv.studio.bench_run import bench_run_html, read_bench_run
from ganinv.studio.catalog import Catalog
from ganinv.studio.config import load_studio_config
from ganinv.studio.workspace import Workspace

OPT = {"name": "optimize", "steps": 3, "lr": 0.05, "latent_noise": 0.0, "losses": {"mse": 1.0}}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio-world")
    generator = save_tiny_networks(root / "g.safetensors", tiny_generator(noise_strength=0.1))
    images = render_image_folder(root / "images", tiny_generator(), count=3, seed=1)
    return {"root": root, "generator": generator, "images": images}


def studio_config(world, **changes):
    data = {
        "generator": str(world["generator"]),
        "methods": [{"label": "W+ opt", "space": "wplus", "refiner": OPT}],
        "optimize": OPT,
        "test_images": {"name": "folder", "path": str(world["images"]), "resolution": 16},
        "metrics": ["mse", "psnr", "ssim"],
        **changes,
    }
    return load_studio_config(data)


@pytest.fixture(scope="module")
def catalog(world):
    return Catalog(studio_config(world), "cpu")


def test_offers_the_config_first_then_optimisation_in_every_registered_space(catalog):
    labels = catalog.labels
    assert labels[0] == "W+ opt" and catalog.offers["W+ opt"].origin == "studio config"
    for info in registry("spaces").info(try_load=False):
        offer = catalog.offers[f"{info.name} + optimisation"]
        assert offer.config.space == info.name and info.distribution in offer.origin


def test_demo_config_offers_every_demo_encoder_card_for_its_generator():
    catalog = Catalog(load_studio_config("demo/studio"), "cpu")
    taken = {
        Path(str(o.config.encoder_checkpoint)).stem
        for o in catalog.offers.values()
        if o.config.encoder_checkpoint
    }
    from ganinv.core.assets import list_assets

    demo_encoders = {a.name for a in list_assets() if a.kind == "encoder" and a.path is not None}
    assert demo_encoders <= taken  # each shipped encoder is on offer, once
    assert catalog.labels[:2] == ["pSp", "e4e"]


def test_a_method_made_for_another_generator_is_refused(world, tmp_path):
    other = save_tiny_networks(tmp_path / "other.safetensors", tiny_generator(seed=3))
    method = {"label": "elsewhere", "generator": str(other), "space": "w", "refiner": OPT}
    catalog = Catalog(studio_config(world, methods=[method], add_registered=False), "cpu")
    with pytest.raises(GanInvError, match="made for the generator"):
        catalog.method("elsewhere")


def test_two_methods_with_one_label_are_refused(world):
    twice = [{"label": "same", "space": "w", "refiner": OPT}] * 2
    with pytest.raises(GanInvError, match="two methods are labelled 'same'"):
        Catalog(studio_config(world, methods=twice), "cpu")


def test_inversion_is_the_cli_code_path_with_its_metrics_and_error_map(world, catalog):
    image = read_image(world["images"] / "000.png", 16)[None]
    scores = actions.PerImageScores(["mse", "psnr", "ssim"], torch.device("cpu"))
    result = actions.invert(catalog, "W+ opt", image, scores)
    code, recon = catalog.method("W+ opt").invert(image)  # what `ganinv invert` runs
    assert torch.equal(result.code["wplus"], code["wplus"])
    assert (result.image == to_uint8(recon)[0]).all()
    assert (result.error == error_map(image, recon)[0]).all()
    mse = float((image.double() - recon.double()).square().mean())
    assert result.metrics["mse"] == pytest.approx(mse, rel=1e-9)
    assert set(result.metrics) == {"mse", "psnr", "ssim"} and result.seconds > 0


def test_a_distribution_metric_is_refused_as_a_per_image_score():
    with pytest.raises(GanInvError, match="not a per-image metric"):
        actions.PerImageScores(["swd"], torch.device("cpu"))


def test_cancel_stops_an_optimisation_between_two_steps(world, tmp_path, catalog):
    workspace = Workspace(1 << 20, parent=str(tmp_path))
    session = workspace.new_session()
    image = read_image(world["images"] / "001.png", 16)[None]
    seen = []

    def observer(desc: str, step: int, total: int) -> None:
        seen.append(step)
        if step == 1:
            session.cancel_requested.set()  # what the Cancel button does
        session.check_cancel()

    scores = actions.PerImageScores(["mse"], torch.device("cpu"))
    with pytest.raises(Cancelled):
        actions.invert(catalog, "W+ opt", image, scores, observer)
    assert seen == [0, 1]
    workspace.close()


def test_edits_blend_and_custom_edit_match_the_cli_operations(world, catalog):
    method = catalog.method("W+ opt")
    images = torch.stack([read_image(world["images"] / f"00{i}.png", 16) for i in range(3)])
    codes = [method.invert(images[i : i + 1])[0] for i in range(3)]
    directions = actions.Directions(catalog)
    g = catalog.generator
    pca = ganspace_pca(g, catalog.config.ganspace_samples, seed=0, components=80)
    want = ganspace_direction(pca, 1, None, g.num_ws)[0]
    assert torch.equal(directions.direction(actions.GANSPACE, 1), want)
    assert torch.equal(
        directions.direction(actions.SEFA, 2), sefa_direction(sefa(g), 2, g.num_ws)[0]
    )

    edited = actions.edit(catalog, "W+ opt", codes[0], want, 3.0)
    _, image = operations.apply_direction(method, codes[0], want, 3.0)
    assert (edited == to_uint8(image)[0]).all()
    _, image = operations.blend(method, codes[0], codes[1])
    assert (actions.blend(catalog, "W+ opt", codes[0], codes[1]) == to_uint8(image)[0]).all()
    _, image = operations.custom_edit(method, codes[0], codes[1], codes[2], alpha=0.5)
    custom = actions.custom_edit(catalog, "W+ opt", codes[0], codes[1], codes[2], 0.5)
    assert (custom == to_uint8(image)[0]).all()
    with pytest.raises(GanInvError, match="no edit direction called"):
        directions.direction("nothing")


# -- uploads and folders -------------------------------------------------------------------------
def test_uploads_are_bounded_decoded_by_the_policy_and_read_only_from_the_upload_folder(
    world, tmp_path
):
    workspace = Workspace(max_upload_bytes=64 << 10, parent=str(tmp_path))
    inside = workspace.uploads / "abc"
    inside.mkdir()
    good = inside / "x.png"
    good.write_bytes((world["images"] / "000.png").read_bytes())
    assert workspace.read_upload(good, 16).shape == (1, 3, 16, 16)

    big = inside / "big.png"
    big.write_bytes(b"\x89PNG" + bytes(70 << 10))
    with pytest.raises(GanInvError, match="studio takes images up to"):
        workspace.read_upload(big, 16)
    bomb = inside / "bomb.png"
    bomb.write_bytes(bomb_png())  # ~25 kB claiming 225 M pixels
    with pytest.raises(GanInvError, match="too large to decode safely"):
        workspace.read_upload(bomb, 16)
    text = inside / "notes.png"
    text.write_bytes(b"hello, not an image")
    with pytest.raises(GanInvError, match="not an image"):
        workspace.read_upload(text, 16)
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(good.read_bytes())
    with pytest.raises(GanInvError, match="only from the studio's upload folder"):
        workspace.read_upload(outside, 16)
    link = inside / "link.png"
    link.symlink_to(outside)
    with pytest.raises(GanInvError, match="only from the studio's upload folder"):
        workspace.read_upload(link, 16)
    workspace.close()


def test_sessions_and_the_root_are_removed_and_nothing_else(tmp_path):
    keep = tmp_path / "users-file.txt"
    keep.write_text("mine")
    workspace = Workspace(1024, parent=str(tmp_path))
    assert oct(workspace.root.stat().st_mode & 0o777) == "0o700"
    a, b = workspace.new_session(), workspace.new_session()
    (a.folder / "result.png").write_bytes(b"x")
    assert workspace.open_sessions == 2
    workspace.end_session(a)
    assert not a.folder.exists() and b.folder.exists() and workspace.open_sessions == 1
    workspace.close()
    assert not workspace.root.exists() and keep.read_text() == "mine"
    assert os.listdir(tmp_path) == ["users-file.txt"]


# -- a saved bench run ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bench_run(world):
    out = world["root"] / "bench"
    config = {
        "generator": str(world["generator"]),
        "data": {"name": "folder", "path": str(world["images"]), "resolution": 16},
        "methods": [
            {"label": "W+ opt", "space": "wplus", "refiner": OPT},
            {"label": "W opt", "space": "w", "refiner": OPT},
        ],
        "metrics": ["mse", "psnr"],
        "grid_images": 2,
        "out": str(out),
        "progress": False,
    }
    run_bench(load(BenchConfig, config), torch.device("cpu"), echo=lambda *_: None)
    return out


def test_a_saved_bench_run_reads_back_with_its_table_and_images(bench_run):
    run = read_bench_run(bench_run)
    saved = json.loads((bench_run / "table.json").read_text())
    assert [label for label, _ in run.table.rows] == ["W+ opt", "W opt"]
    assert json.loads(run.table.to_json()) == saved  # the same table, best flags included
    assert run.inputs.shape == (2, 3, 16, 16) and set(run.recons) == {"W+ opt", "W opt"}
    html = bench_run_html(run)
    assert 'class="results"' in html and html.count("<svg") == 2  # mse and psnr plots
    assert 'alt="W opt, error map, image 2"' in html


def test_a_bench_run_with_missing_or_broken_images_shows_only_its_table(bench_run, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(bench_run, copy)
    (copy / "methods" / "W_opt" / "recon_001.png").write_bytes(b"broken")
    run = read_bench_run(copy)
    assert set(run.recons) == {"W+ opt"}
    shutil.rmtree(copy / "inputs")
    assert read_bench_run(copy).inputs is None


@pytest.mark.parametrize(
    "text, words",
    [
        ("not json", "not JSON"),
        ("[]", "no 'columns' list"),
        ('{"columns": [], "rows": {}}', "no 'rows' list"),
        ('{"columns": [{"title": 1}], "rows": []}', "a column without a 'key'"),
        ('{"columns": [], "rows": [{"method": 3}]}', "a row without a 'method'"),
        ('{"columns": [], "rows": [{"method": "m", "values": {"a": "1"}}]}', "numbers or null"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
    ],
)
def test_a_hostile_table_is_one_error_line(tmp_path, text, words):
    (tmp_path / "table.json").write_text(text)
    with pytest.raises(GanInvError, match=words):
        read_bench_run(tmp_path)


def test_a_folder_without_a_table_says_what_to_give(tmp_path):
    with pytest.raises(GanInvError, match="holds no table.json"):
        read_bench_run(tmp_path)


def test_table_json_round_trips_the_bench_table_exactly(bench_run):
    text = (bench_run / "table.json").read_text()
    assert BenchTable.from_json(text).to_json() == text
