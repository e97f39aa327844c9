"""The editability part of `ganinv bench` on the tiny world: a labelled image folder, a tiny
classifier file, a random W direction; the second table in every format, its numbers recomputed
by hand, strength 0 as a fixed point, unsupported spaces, resume and the reconstruction outputs
of a bench without the section."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

from ganinv.checkpoints.direction_file import DIRECTION_FORMAT, load_direction_file
from ganinv.core.errors import GanInvError
from ganinv.core.safetensors_io import write_file
from ganinv.harness.bench import run_bench
from ganinv.harness.configs import load, load_method
from ganinv.harness.data import build_dataset, image_of
from ganinv.harness.method import build_method
from ganinv.harness.schema import BenchConfig
from ganinv.metrics.ssim import SSIMMetric
from ganinv.nets.fmnist_classifier import FmnistClassifier, load_classifier, save_classifier

W_DIM = 16  # the tiny generator's


def load_direction(path: Path) -> torch.Tensor:
    return load_direction_file(path)[0]


@pytest.fixture(scope="module")
def edit_world(world, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("edit_world")
    folder = root / "labelled"
    shutil.copytree(world["test"], folder)
    names = sorted(p.name for p in folder.glob("*.png"))
    labels = [[n, 0 if i < 4 else 1] for i, n in enumerate(names)]  # 4 of class 0, 4 of class 1
    (folder / "dataset.json").write_text(json.dumps({"labels": labels}))
    torch.manual_seed(3)
    network = FmnistClassifier(width=2, num_classes=2, resolution=16)
    classifier = save_classifier(
        root / "classifier.safetensors",
        network,
        {"width": 2, "num_classes": 2, "resolution": 16},
        ["zero", "one"],
        {"test_accuracy": 0.5},
    )
    direction = torch.randn(W_DIM)
    write_file(
        root / "direction.safetensors",
        {"direction": direction / direction.norm()},
        {"format": DIRECTION_FORMAT, "info": json.dumps({"method": "test"})},
    )
    return {
        "folder": folder,
        "classifier": classifier,
        "direction": root / "direction.safetensors",
    }


def edit_section(edit_world, **changes) -> dict:
    return {
        "direction": str(edit_world["direction"]),
        "classifier": str(edit_world["classifier"]),
        "data": {"name": "folder", "path": str(edit_world["folder"])},
        "source_class": 0,
        "target_class": 1,
        "strengths": [0.0, 3.0],
        "images": 4,
        "preservation": ["ssim", "mse"],
        "distribution": "swd",
        **changes,
    }


def config(world, trained_encoder, out, editability=None) -> BenchConfig:
    raw = {
        "generator": str(world["generator"]),
        "data": {"name": "folder", "path": str(world["test"]), "resolution": 16, "limit": 4},
        "methods": [
            {
                "label": "tiny encoder",
                "encoder_checkpoint": str(trained_encoder),
                "imports": ["harness_testkit"],
            },
            {
                "label": "Z optimisation",
                "space": "z",
                "refiner": {"name": "optimize", "steps": 1, "losses": {"mse": 1.0}},
            },
        ],
        "metrics": ["mse"],
        "batch_size": 3,
        "grid_images": 2,
        "out": str(out),
        "progress": False,
    }
    if editability is not None:
        raw["editability"] = editability
    return load(BenchConfig, raw)


@pytest.fixture(scope="module")
def edited_bench(world, trained_encoder, edit_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("edit_bench") / "bench"
    cfg = config(world, trained_encoder, out, edit_section(edit_world))
    return out, run_bench(cfg, torch.device("cpu"), echo=lambda *_: None)


def test_second_table_in_every_format(edited_bench, edit_world):
    out, outcome = edited_bench
    for kind, suffix in (
        ("edit_markdown", "md"),
        ("edit_csv", "csv"),
        ("edit_json", "json"),
        ("edit_latex", "tex"),
    ):
        assert outcome.paths[kind] == out / f"editability.{suffix}"
        assert outcome.paths[kind].is_file()
    table = json.loads((out / "editability.json").read_text())
    assert [c["key"] for c in table["columns"]] == [
        "unedited_target_rate",
        "unedited_swd",
        "success@0",
        "ssim@0",
        "mse@0",
        "swd_to_target@0",
        "success@3",
        "ssim@3",
        "mse@3",
        "swd_to_target@3",
    ]
    ranked = {c["key"]: c["ranked"] for c in table["columns"]}
    assert not ranked["unedited_target_rate"] and not ranked["unedited_swd"]
    assert ranked["success@3"] and ranked["swd_to_target@3"]
    # The protocol names the direction by content, the classifier and the strengths.
    notes = " ".join(table["footnotes"])
    direction_sha = hashlib.sha256(edit_world["direction"].read_bytes()).hexdigest()
    assert f"sha256: {direction_sha}" in notes and "strengths=[0.0, 3.0]" in notes
    assert "class 0 (zero): first 4 images" in notes
    csv_head = (out / "editability.csv").read_text().splitlines()[0]
    assert csv_head.startswith("method,unedited_target_rate,unedited_swd,success@0")
    html = (out / "report.html").read_text()
    assert "<h2>Editability</h2>" in html and "success α=3" in html
    assert "success α=3" in (out / "editability.md").read_text()
    assert r"success α=3$\uparrow$" in (out / "editability.tex").read_text()


def test_strength_zero_is_the_unedited_reconstruction(edited_bench):
    _, outcome = edited_bench
    values = dict(outcome.edit_table.rows)["tiny encoder"]
    assert values["success@0"] == values["unedited_target_rate"]
    assert values["swd_to_target@0"] == pytest.approx(values["unedited_swd"], rel=1e-6)
    assert values["ssim@0"] == pytest.approx(1.0, abs=1e-6)
    assert values["mse@0"] == pytest.approx(0.0, abs=1e-12)
    # A real edit changes the images: preservation is no longer perfect.
    assert values["mse@3"] > 1e-4 and values["ssim@3"] < 0.999


def test_numbers_match_a_recomputation(edited_bench, edit_world, trained_encoder):
    """Invert, edit, render and classify by hand: the same success rate and SSIM."""
    _, outcome = edited_bench
    method = build_method(
        load_method({"encoder_checkpoint": str(trained_encoder), "imports": ["harness_testkit"]}),
        torch.device("cpu"),
    )
    dataset = build_dataset({"name": "folder", "path": str(edit_world["folder"])})
    source = torch.stack([image_of(dataset[i]) for i in range(4)])  # the class-0 images
    direction = load_direction(edit_world["direction"])
    classifier = load_classifier(edit_world["classifier"])
    code, recon = method.invert(source)
    with torch.no_grad():
        edited = method.space.render(method.space.apply_direction(code, direction, 3.0))
    edited = edited.clamp(-1, 1)
    success = float((classifier.predict(edited) == 1).double().mean())
    ssim = SSIMMetric()
    ssim.reset()
    ssim.update(recon, edited)
    values = dict(outcome.edit_table.rows)["tiny encoder"]
    assert values["success@3"] == pytest.approx(success, abs=1e-12)
    assert values["unedited_target_rate"] == pytest.approx(
        float((classifier.predict(recon) == 1).double().mean()), abs=1e-12
    )
    assert values["ssim@3"] == pytest.approx(ssim.compute().value, abs=1e-6)


def test_a_space_without_directions_gets_an_empty_row_and_a_reason(edited_bench):
    out, outcome = edited_bench
    values = dict(outcome.edit_table.rows)["Z optimisation"]
    assert all(v is None for v in values.values())
    assert any("Z optimisation: not editable here" in n for n in outcome.edit_table.notes)
    saved = json.loads((out / "methods" / "Z_optimisation" / "result.json").read_text())
    assert saved["editability"]["supported"] is False
    assert "space 'z'" in saved["editability"]["reason"]


def test_resume_reuses_until_the_direction_changes(
    world, trained_encoder, edit_world, edited_bench, tmp_path
):
    out, _ = edited_bench
    copy = tmp_path / "bench"
    shutil.copytree(out, copy)
    cfg = config(world, trained_encoder, copy, edit_section(edit_world))
    again = run_bench(cfg, torch.device("cpu"), resume=True, echo=lambda *_: None)
    assert again.ran == [] and len(again.skipped) == 2
    # Another direction under the same file name: its content is part of the fingerprint.
    moved = tmp_path / "direction.safetensors"
    write_file(
        moved,
        {"direction": -load_direction(edit_world["direction"])},
        {"format": DIRECTION_FORMAT, "info": "{}"},
    )
    cfg = config(world, trained_encoder, copy, edit_section(edit_world, direction=str(moved)))
    rerun = run_bench(cfg, torch.device("cpu"), resume=True, echo=lambda *_: None)
    assert rerun.ran == ["tiny encoder", "Z optimisation"]


def test_without_the_section_outputs_are_as_before(world, trained_encoder, edited_bench, tmp_path):
    out, with_edit = edited_bench
    plain = run_bench(
        config(world, trained_encoder, tmp_path / "b"), torch.device("cpu"), echo=lambda *_: None
    )
    assert plain.edit_table is None
    assert not list((tmp_path / "b").glob("editability.*"))
    assert "Editability" not in (tmp_path / "b" / "report.html").read_text()
    saved = json.loads((tmp_path / "b" / "methods" / "tiny_encoder" / "result.json").read_text())
    assert "editability" not in saved and "editability" not in saved["fingerprint"]
    # The reconstruction numbers do not depend on the editability pass that follows them.
    assert (
        dict(plain.table.rows)["tiny encoder"]["mse"]
        == dict(with_edit.table.rows)["tiny encoder"]["mse"]
    )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"target_class": 5}, "editability.target_class is 5"),
        ({"target_class": 0}, "must differ"),
        ({"strengths": []}, "at least one finite number"),
        ({"data": {"name": "folder", "path": "TEST"}}, "has no class labels"),
    ],
)
def test_config_errors_are_one_line(world, trained_encoder, edit_world, tmp_path, changes, message):
    if changes.get("data", {}).get("path") == "TEST":
        changes["data"]["path"] = str(world["test"])  # images without a dataset.json
    cfg = config(world, trained_encoder, tmp_path / "b", edit_section(edit_world, **changes))
    with pytest.raises(GanInvError, match=message):
        run_bench(cfg, torch.device("cpu"), echo=lambda *_: None)


def test_a_direction_of_another_generator_is_refused(world, trained_encoder, edit_world, tmp_path):
    wrong = tmp_path / "wide.safetensors"
    write_file(wrong, {"direction": torch.ones(W_DIM + 1)}, {"format": DIRECTION_FORMAT})
    cfg = config(
        world, trained_encoder, tmp_path / "b", edit_section(edit_world, direction=str(wrong))
    )
    with pytest.raises(GanInvError, match=r"has shape \[17\]; the generator needs \[16\]"):
        run_bench(cfg, torch.device("cpu"), echo=lambda *_: None)


def test_edits_do_not_depend_on_the_reconstruction_data(world, edit_world, tmp_path):
    """The pass is seeded on its own: an optimiser's random draws during reconstruction (a
    longer or shorter test split) leave the editability numbers as they are."""
    section = edit_section(edit_world, strengths=[3.0], preservation=["mse"], distribution=None)
    tables = []
    for limit in (2, 4):
        raw = {
            "generator": str(world["generator"]),
            "data": {"name": "folder", "path": str(world["test"]), "limit": limit},
            "methods": [
                {
                    "label": "W+ optimisation",
                    "space": "wplus",
                    # A loss that draws from the global RNGs: reconstructing 2 or 4 images
                    # leaves them in different states.
                    "refiner": {
                        "name": "optimize",
                        "steps": 2,
                        "losses": {"harness_random_views": 1.0},
                    },
                    "imports": ["harness_testkit"],
                }
            ],
            "batch_size": 1,
            "out": str(tmp_path / f"b{limit}"),
            "progress": False,
            "editability": section,
        }
        outcome = run_bench(load(BenchConfig, raw), torch.device("cpu"), echo=lambda *_: None)
        tables.append(dict(outcome.edit_table.rows)["W+ optimisation"])
    assert tables[0] == tables[1]
    assert tables[0]["mse@3"] > 0
