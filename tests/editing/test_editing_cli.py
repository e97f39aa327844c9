"""`ganinv edit ganspace|sefa|learn-direction|apply` on tiny files: direction files with their
protocol records, class labels from `data convert`'s dataset.json, the labelled figure."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from ganinv.cli.main import main
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code
from ganinv.editing.directions import load_direction, read_labels
from ganinv.editing.ganspace import ganspace_pca
from ganinv.editing.sefa import sefa
from ganinv.testing.world import save_tiny_networks, tiny_generator


def run_cli(*args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("edit_cli")
    generator = tiny_generator(0, w_avg_samples=64)
    g_file = save_tiny_networks(root / "g.safetensors", generator, discriminator=False)
    method = root / "method.yaml"
    method.write_text(yaml.safe_dump({"generator": str(g_file), "space": "wplus"}))
    return {"root": root, "generator": g_file, "method": method}


def test_ganspace_and_sefa_commands_write_direction_files(world, tmp_path):
    out = tmp_path / "pc1.safetensors"
    status, stdout, stderr = run_cli(
        "edit", "ganspace", "--generator", world["generator"], "--out", out,
        "--component", "1", "--layers", "2", "5", "--samples", "2000", "--seed", "3",
        "--device", "cpu",
    )  # fmt: skip
    assert status == 0, stderr
    assert "GANSpace component 1 on W+ rows 2...4" in stdout
    direction, info = load_direction(out)
    from ganinv.checkpoints.load import load_generator

    generator = load_generator(world["generator"])
    result = ganspace_pca(generator, samples=2000, seed=3)
    expected = (result.sigma[1] * result.components[1]).float()
    assert direction.shape == (6, 16)
    torch.testing.assert_close(direction[2:5], expected.expand(3, 16))
    assert float(direction[:2].abs().sum() + direction[5:].abs().sum()) == 0
    assert info["method"] == "ganspace" and info["samples"] == 2000 and info["seed"] == 3
    assert info["layers"] == [2, 5] and info["component"] == 1
    assert info["generator"] == str(world["generator"])
    digest = hashlib.sha256(world["generator"].read_bytes()).hexdigest()
    assert info["generator_sha256"] == digest

    out = tmp_path / "sefa.safetensors"
    status, stdout, stderr = run_cli(
        "edit", "sefa", "--generator", world["generator"], "--out", out, "--device", "cpu"
    )
    assert status == 0, stderr
    direction, info = load_direction(out)
    torch.testing.assert_close(direction, sefa(generator).directions[0].float())
    assert info["method"] == "sefa" and info["layers"] == [0, 6] and info["normalize_rows"]
    assert "b16.torgb" in stdout

    status, _, stderr = run_cli(
        "edit", "sefa", "--generator", world["generator"], "--out", out, "--layers", "4", "9"
    )
    assert status == 2 and "end exclusive" in stderr and "Traceback" not in stderr


def test_class_labels_from_data_convert_choose_positive_and_negative(tmp_path):
    labels = tmp_path / "dataset.json"
    pairs = [[f"{i:08d}.png", i % 4] for i in range(8)]
    labels.write_text(json.dumps({"labels": pairs}))
    got = read_labels(labels, positive=[2], negative=[0, 3])
    assert got == {"00000000": 0, "00000002": 1, "00000003": 0, "00000004": 0, "00000006": 1,
                   "00000007": 0}  # fmt: skip
    with pytest.raises(GanInvError, match="choose the classes"):
        read_labels(labels)
    with pytest.raises(GanInvError, match=r"no image of class\(es\) \[9\]"):
        read_labels(labels, positive=[9], negative=[0])
    with pytest.raises(GanInvError, match="none in both"):
        read_labels(labels, positive=[1, 2], negative=[2])
    csv = tmp_path / "labels.csv"
    csv.write_text("name,label\na.png,6\nb.png,0\nc.png,1\n")
    assert read_labels(csv, positive=[6], negative=[0]) == {"a": 1, "b": 0}
    csv.write_text("name,label\na.png,six\n")
    with pytest.raises(GanInvError, match="not a class number"):
        read_labels(csv, positive=[6], negative=[0])


@pytest.mark.parametrize(
    "text, words",
    [
        ('{"labels": null}', "holds no labels"),
        ('{"labels": [["a.png", 1, 2]]}', "list of [name, class] pairs"),
        ('{"labels": [["a.png", 1.0]]}', "not a class number"),
        ('{"labels": [["a.png", true]]}', "not a class number"),
        ('{"labels": [["a.png", "1e3"]]}', "not a class number"),
    ],
    ids=["null", "triple", "float", "bool", "exponent"],
)
def test_hostile_class_labels_are_one_line_errors(tmp_path, text, words):
    labels = tmp_path / "dataset.json"
    labels.write_text(text)
    with pytest.raises(GanInvError, match=re.escape(words)) as excinfo:
        read_labels(labels, positive=[1], negative=[0])
    assert "\n" not in str(excinfo.value) and "dataset.json" in str(excinfo.value)


def test_learn_direction_on_class_labels_with_the_svm_then_apply_writes_a_figure(world, tmp_path):
    # Codes of two classes planted along one direction of W+.
    torch.manual_seed(0)
    truth = torch.nn.functional.normalize(torch.randn(16), dim=0)
    codes = tmp_path / "codes"
    pairs = []
    for i in range(60):
        cls = (5, 7)[i % 2]
        w = 0.5 * torch.randn(1, 6, 16) + (1.0 if cls == 7 else -1.0) * truth
        Code("wplus", {"wplus": w}).save(codes / f"{i:08d}.safetensors")
        pairs.append([f"{i:08d}.png", cls])
    labels = tmp_path / "dataset.json"
    labels.write_text(json.dumps({"labels": pairs}))
    direction = tmp_path / "d.safetensors"
    status, stdout, stderr = run_cli(
        "edit", "learn-direction", "--codes", codes, "--labels", labels, "--out", direction,
        "--positive", "7", "--negative", "5", "--classifier", "svm", "--svm-c", "0.1",
    )  # fmt: skip
    assert status == 0, stderr
    assert "svm direction on 'wplus' (30 positive, 30 negative)" in stdout
    d, info = load_direction(direction)
    assert info["classifier"] == "svm" and info["method"] == "interfacegan"
    assert float((d.mean(0) / d.mean(0).norm()) @ truth) > 0.9  # towards class 7

    out = tmp_path / "apply"
    status, stdout, stderr = run_cli(
        "edit", "apply", "--method", world["method"], "--code", codes / "00000000.safetensors",
        "--direction", direction, "--strength", "-2", "0", "2", "--out", out, "--device", "cpu",
    )  # fmt: skip
    assert status == 0, stderr
    figure = np.asarray(Image.open(out / "figure.png").convert("RGB"))
    # One reconstruction column and three strengths, tiles of 96 px: four tiles side by side.
    assert figure.shape[1] >= 4 * 96 and figure.shape[0] > 96
    tile = np.asarray(Image.open(out / "strength_+2.png").convert("RGB"))
    # The rightmost tile is the +2 edit, scaled up 6x (nearest): its pixels are the edit's.
    y = figure.shape[0] - 4 - 96
    right = figure[y : y + 96, -4 - 96 : -4]
    np.testing.assert_array_equal(right[::6, ::6], tile)
    assert (figure[:y] < 128).any()  # the column titles are drawn above the tiles

    # blend and custom draw their inputs beside the result too: 2 and 3 inputs plus the result.
    a, b = codes / "00000000.safetensors", codes / "00000001.safetensors"
    for command, inputs in (
        (["blend", "--structure", a, "--appearance", b], 2),
        (["custom", "--source", a, "--edited", b, "--target", a], 3),
    ):
        out = tmp_path / command[0]
        status, stdout, stderr = run_cli(
            "edit", *command, "--method", world["method"], "--out", out, "--device", "cpu"
        )
        assert status == 0, stderr
        figure = np.asarray(Image.open(out / "figure.png").convert("RGB"))
        assert figure.shape[1] == 4 + (inputs + 1) * (96 + 4)
        result = np.asarray(Image.open(out / f"{command[0]}.png").convert("RGB"))
        np.testing.assert_array_equal(figure[-4 - 96 : -4, -4 - 96 : -4][::6, ::6], result)


def test_a_direction_and_a_method_can_be_named_by_their_registry_cards(tmp_path):
    """`ganinv edit apply` takes the shipped direction by its card name, like every other asset."""
    from ganinv.core.assets import asset_path
    from ganinv.core.images import save_image, to_uint8
    from ganinv.harness.inputs import load_inputs

    images, _ = load_inputs({"name": "fashion_mnist", "split": "test", "limit": 1}, 32)
    image = save_image(to_uint8(images)[0], tmp_path / "x.png")
    name = "demo_fmnist_tshirt_to_pullover"
    args = ["edit", "apply", "--method", "demo_psp", "--code", str(image), "--direction", name]
    assert main([*args, "--strength", "2", "--out", str(tmp_path / "o"), "--device", "cpu"]) == 0
    assert (tmp_path / "o" / "strength_+2.png").is_file()
    by_name, _ = load_direction(name)
    assert torch.equal(by_name, load_direction(asset_path(name))[0])
