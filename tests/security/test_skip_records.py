"""Class 11: records tell the truth. With ``on_error: skip``, metrics.json, bench results and
the invert record hold the policy, the number and the names of the items skipped, and no item
is counted twice (a skipped item is not replaced by a copy of its neighbour)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from ganinv.cli.main import main

OPTIMIZE = {"name": "optimize", "steps": 1, "lr": 0.05, "losses": {"mse": 1.0}}


def ganinv(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """A tiny generator file and a folder of 4 images: 1.png has a valid header but a
    truncated body (found only when decoded), 3.png is not an image at all (found by the
    header check when the dataset is built)."""
    from ganinv.checkpoints.native import save_networks
    from ganinv.stylegan2.generator import StyleGAN2Generator

    root = tmp_path_factory.mktemp("skip")
    torch.manual_seed(0)
    generator = StyleGAN2Generator(
        z_dim=16, w_dim=16, resolution=16, channels={4: 16, 8: 16, 16: 16}, mapping_layers=2
    )
    g = save_networks(root / "g.safetensors", {"generator": generator.eval()})
    images = root / "imgs"
    images.mkdir()
    for i in range(4):
        pixels = np.random.default_rng(i).integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / f"{i}.png")
    data = (images / "1.png").read_bytes()
    (images / "1.png").write_bytes(data[: len(data) // 2])
    (images / "3.png").write_bytes(b"not an image at all")
    return {"root": root, "generator": g, "images": images}


def data_spec(world: dict[str, Path]) -> dict:
    return {"name": "folder", "path": str(world["images"]), "resolution": 16, "on_error": "skip"}


def per_image_mse(world: dict[str, Path], names: list[str]) -> float:
    """Mean over `names` of the MSE of one optimisation step, each image inverted alone."""
    values = []
    for name in names:
        folder = world["root"] / f"only_{name}"
        folder.mkdir(exist_ok=True)
        (folder / name).write_bytes((world["images"] / name).read_bytes())
        config = {
            "method": {"generator": str(world["generator"]), "space": "w", "refiner": OPTIMIZE},
            "data": {"name": "folder", "path": str(folder), "resolution": 16},
            "metrics": ["mse"],
            "out": str(world["root"] / f"eval_{name}"),
            "progress": False,
        }
        path = world["root"] / f"eval_{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        assert ganinv("eval", path, "--device", "cpu")[0] == 0
        record = json.loads((Path(config["out"]) / "metrics.json").read_text())
        values.append(record["metrics"]["mse"]["value"])
    return float(np.mean(values))


def test_eval_records_the_policy_and_every_skipped_item(world):
    config = {
        "method": {"generator": str(world["generator"]), "space": "w", "refiner": OPTIMIZE},
        "data": data_spec(world),
        "metrics": ["mse"],
        "batch_size": 1,
        "out": str(world["root"] / "eval"),
        "progress": False,
    }
    path = world["root"] / "eval.yaml"
    path.write_text(yaml.safe_dump(config))
    code, out, err = ganinv("eval", path, "--device", "cpu")
    assert code == 0, err
    assert "skipped 2 unreadable image(s)" in out
    record = json.loads((world["root"] / "eval" / "metrics.json").read_text())
    data = record["data"]
    assert data["on_error"] == "skip" and data["skipped_count"] == 2
    assert sorted(item["name"] for item in data["skipped"]) == ["1.png", "3.png"]
    assert data["images"] == record["num_images"] == 2
    # No image counted twice: the MSE is the mean over 0.png and 2.png, each once.
    expected = per_image_mse(world, ["0.png", "2.png"])
    assert record["metrics"]["mse"]["value"] == pytest.approx(expected, rel=1e-4)


def test_bench_results_record_the_skipped_items(world):
    config = {
        "generator": str(world["generator"]),
        "data": data_spec(world),
        "methods": [{"label": "w", "space": "w", "refiner": OPTIMIZE}],
        "metrics": ["mse"],
        "batch_size": 2,
        "grid_images": 2,
        "out": str(world["root"] / "bench"),
        "progress": False,
    }
    path = world["root"] / "bench.yaml"
    path.write_text(yaml.safe_dump(config))
    code, _, err = ganinv("bench", path, "--device", "cpu")
    assert code == 0, err
    result = json.loads((world["root"] / "bench" / "methods" / "w" / "result.json").read_text())
    assert result["num_images"] == 2
    assert result["data"]["on_error"] == "skip" and result["data"]["skipped_count"] == 2
    assert sorted(item["name"] for item in result["data"]["skipped"]) == ["1.png", "3.png"]


def test_invert_records_the_policy_and_the_skipped_items(world):
    spec = json.dumps(data_spec(world))
    out = world["root"] / "inv"
    method = world["root"] / "m.yaml"
    method.write_text(
        yaml.safe_dump({"generator": str(world["generator"]), "space": "w", "refiner": OPTIMIZE})
    )
    code, text, err = ganinv(
        "invert", "--method", method, "--input", spec, "--out", out, "--device", "cpu"
    )
    assert code == 0, err
    assert "inverted 2 image(s)" in text and "skipped 2 unreadable image(s)" in text
    record = json.loads((out / "invert.json").read_text())
    assert record["on_error"] == "skip" and record["count"] == 2
    assert record["skipped_count"] == 2
    assert sorted(item["name"] for item in record["skipped"]) == ["1.png", "3.png"]
    assert [item["source"] for item in record["items"]] == ["0.png", "2.png"]
    assert sorted(p.name for p in (out / "codes").iterdir()) == ["0.safetensors", "2.safetensors"]
