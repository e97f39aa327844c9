"""Class 4: outputs never collide or misalign.

One output per input item under a unique, stable name; the count printed equals the files
written; `skip` never shifts names; bench labels get distinct folders; re-running into an
existing `out` with other inputs never pairs old inputs with new results.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from security_testkit import run_cli as ganinv
from security_testkit import tiny_generator_file

from ganinv.core.space import Code

OPTIMIZE = {"name": "optimize", "steps": 1, "lr": 0.05, "losses": {"mse": 1.0}}


def png(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def method(tmp_path_factory) -> Path:
    """A method YAML: the tiny generator, W space, one optimisation step (image-dependent)."""
    root = tmp_path_factory.mktemp("method")
    generator = tiny_generator_file(root / "g.safetensors")
    path = root / "method.yaml"
    path.write_text(
        yaml.safe_dump({"generator": str(generator), "space": "w", "refiner": OPTIMIZE})
    )
    return path


def invert(method: Path, source: Path | str, out: Path, *extra: str) -> tuple[int, str, str]:
    return ganinv(
        "invert", "--method", method, "--input", source, "--out", out, "--device", "cpu", *extra
    )


def test_colliding_names_are_refused_and_the_count_matches_the_files(method, tmp_path):
    folder = tmp_path / "imgs"
    for i, name in enumerate(("a.png", "a.jpg", "a.png.png", "b.png")):
        png(folder / name, i)
    code, _, err = invert(method, folder, tmp_path / "out")
    # a.png and a.jpg (or a.png.png's stem a.png and a.png's file name) would share outputs.
    assert code == 2 and "would both be written as" in err
    assert not (tmp_path / "out" / "codes").exists()

    (folder / "a.jpg").unlink()
    (folder / "a.png.png").unlink()
    code, out, err = invert(method, folder, tmp_path / "out")
    assert code == 0, err
    assert "inverted 2 image(s)" in out
    files = listing(tmp_path / "out")
    assert [f for f in files if f.startswith("codes/")] == [
        "codes/a.safetensors",
        "codes/b.safetensors",
    ]
    assert [f for f in files if f.startswith("recon/")] == ["recon/a.png", "recon/b.png"]


def test_dataset_items_with_the_same_file_name_get_distinct_outputs(method, tmp_path):
    folder = tmp_path / "nested"
    png(folder / "x" / "a.png", 0)
    png(folder / "y" / "a.png", 1)
    spec = f"{{name: folder, path: {folder}, resolution: 16}}"
    code, out, err = invert(method, spec, tmp_path / "out")
    assert code == 0, err
    assert "inverted 2 image(s)" in out
    codes = [f for f in listing(tmp_path / "out") if f.startswith("codes/")]
    assert codes == ["codes/x/a.safetensors", "codes/y/a.safetensors"]

    # In a zip archive the dataset index names the outputs (member names are not trusted).
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "x" / "a.png", "x/a.png")
        zf.write(folder / "y" / "a.png", "y/a.png")
        zf.write(folder / "y" / "a.png", "../../escape.png")
    code, out, err = invert(
        method, f"{{name: zip, path: {archive}, resolution: 16}}", tmp_path / "zout"
    )
    assert code == 0, err
    assert "inverted 3 image(s)" in out
    codes = [f for f in listing(tmp_path / "zout") if f.startswith("codes/")]
    assert codes == [f"codes/{i:08d}.safetensors" for i in range(3)]
    assert not list(tmp_path.glob("escape*")) and not list(tmp_path.parent.glob("escape*"))


def test_skip_never_shifts_names(method, tmp_path):
    folder = tmp_path / "imgs"
    for i in range(3):
        png(folder / f"{i}.png", i)
    data = (folder / "1.png").read_bytes()
    (folder / "1.png").write_bytes(data[: len(data) // 2])  # header fine, body truncated
    spec = f"{{name: folder, path: {folder}, resolution: 16, on_error: skip}}"
    code, out, err = invert(method, spec, tmp_path / "out")
    assert code == 0, err
    assert "inverted 2 image(s)" in out and "1.png: corrupt or truncated image" in out
    assert [f for f in listing(tmp_path / "out") if f.startswith("codes/")] == [
        "codes/0.safetensors",
        "codes/2.safetensors",
    ]
    # codes/2 is the inversion of 2.png itself (not of whatever came after a skipped item).
    code, _, err = invert(method, folder / "2.png", tmp_path / "alone")
    assert code == 0, err
    together = Code.load(tmp_path / "out" / "codes" / "2.safetensors")
    alone = Code.load(tmp_path / "alone" / "codes" / "2.safetensors")
    torch.testing.assert_close(together["w"], alone["w"], rtol=0, atol=1e-5)


def test_rerun_with_other_inputs_never_leaves_old_results(method, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for i in range(3):
        png(first / f"{i}.png", i)
    for i in (5, 6):
        png(second / f"{i}.png", i)
    out = tmp_path / "out"
    assert invert(method, first, out)[0] == 0
    # A marker that names files outside `out` is not obeyed.
    precious = tmp_path / "precious.txt"
    precious.write_text("keep")
    marker_file = out / ".ganinv-output.json"
    if marker_file.is_file():
        marker = json.loads(marker_file.read_text())
        marker["files"] += ["../precious.txt", str(precious)]
        marker_file.write_text(json.dumps(marker))

    code, out_text, err = invert(method, second, out)
    assert code == 0, err
    files = listing(out)
    assert [f for f in files if f.startswith(("codes/", "recon/"))] == [
        "codes/5.safetensors",
        "codes/6.safetensors",
        "recon/5.png",
        "recon/6.png",
    ]
    record = json.loads((out / "invert.json").read_text())
    assert [item["source"] for item in record["items"]] == ["5.png", "6.png"]
    assert precious.read_text() == "keep"


def test_an_out_folder_ganinv_did_not_write_is_refused(method, tmp_path):
    images = tmp_path / "imgs"
    png(images / "0.png", 0)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "method.yaml").write_text("my own notes")
    code, _, err = invert(method, images, out)
    assert code == 2 and "was not written by `ganinv invert`" in err
    assert listing(out) == ["method.yaml"] and (out / "method.yaml").read_text() == "my own notes"


def test_bench_labels_that_share_a_folder_are_refused(method, tmp_path):
    generator = yaml.safe_load(method.read_text())["generator"]
    images = tmp_path / "imgs"
    for i in range(2):
        png(images / f"{i}.png", i)
    config = {
        "generator": generator,
        "data": {"name": "folder", "path": str(images), "resolution": 16},
        "methods": [
            {"label": "w/opt", "space": "w", "refiner": OPTIMIZE},
            {"label": "w opt", "space": "w", "refiner": {**OPTIMIZE, "steps": 2}},
        ],
        "metrics": ["mse"],
        "out": str(tmp_path / "bench"),
        "progress": False,
    }
    (tmp_path / "bench.yaml").write_text(yaml.safe_dump(config))
    code, _, err = ganinv("bench", tmp_path / "bench.yaml", "--device", "cpu")
    assert code == 2 and "would share the folder methods/w_opt" in err
    assert not (tmp_path / "bench" / "methods").exists()
    # Case-insensitive disks, and labels that would name a hidden folder or the parent.
    from ganinv.harness.bench import check_distinct_folders, slugify

    with pytest.raises(Exception, match="would share the folder"):
        check_distinct_folders(["Opt", "opt"])
    assert [slugify(label) for label in ("..", ".", ".x")] == ["method", "method", "x"]


def test_bench_rerun_with_other_data_never_shows_old_inputs(method, tmp_path):
    generator = yaml.safe_load(method.read_text())["generator"]
    first, second = tmp_path / "first", tmp_path / "second"
    for i in range(3):
        png(first / f"{i}.png", i)
        png(second / f"{i}.png", 10 + i)
    config = {
        "generator": generator,
        "data": {"name": "folder", "path": str(first), "resolution": 16},
        "methods": [{"label": "w", "space": "w", "refiner": OPTIMIZE}],
        "metrics": ["mse"],
        "grid_images": 3,
        "out": str(tmp_path / "bench"),
        "progress": False,
    }
    (tmp_path / "bench.yaml").write_text(yaml.safe_dump(config))
    assert ganinv("bench", tmp_path / "bench.yaml", "--device", "cpu")[0] == 0
    config["data"]["path"] = str(second)
    (tmp_path / "bench.yaml").write_text(yaml.safe_dump(config))
    assert ganinv("bench", tmp_path / "bench.yaml", "--device", "cpu")[0] == 0
    for i in range(3):
        shown = np.asarray(Image.open(tmp_path / "bench" / "inputs" / f"{i:03d}.png"))
        assert np.array_equal(shown, np.asarray(Image.open(second / f"{i}.png"))), i
