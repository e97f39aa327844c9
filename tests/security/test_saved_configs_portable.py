"""Class 10, paths inside files: the ``config.yaml`` that `ganinv eval`, `bench`, `train` and
`train-gan` save next to their results works from any working folder.

Each command runs in folder A with paths typed relative to A (the dataset's ``path`` is a bare
folder name, the generator a relative file); the saved config is then run, or resumed, from
folder B. Path-valued keys are stored absolute; registered names stay names.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import torch
import yaml
from security_testkit import SMALL_ENCODER
from security_testkit import TINY_CHANNELS as TINY
from tiny_world import make_world

from ganinv.cli.main import main
from ganinv.core.config import save_config
from ganinv.harness.configs import load
from ganinv.harness.run_guard import check_resume_config
from ganinv.harness.schema import EvalConfig, MethodConfig, TrainConfig

DATA = {"name": "folder", "path": "images", "resolution": 16}  # relative, no separator


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(A, B): A holds the tiny world and is the working folder; B is empty."""
    a, b = tmp_path / "A", tmp_path / "B"
    make_world(a)
    b.mkdir()
    monkeypatch.chdir(a)
    return a, b


def cli(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(args)
    return code, out.getvalue() + err.getvalue()


def write_yaml(path: Path, config: dict) -> str:
    path.write_text(yaml.safe_dump(config))
    return path.name  # relative to the working folder


def saved(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_eval_config_reruns_from_another_folder(folders, monkeypatch):
    a, b = folders
    config = {
        "method": {"generator": "g.safetensors", "space": "w"},
        "data": DATA,
        "batch_size": 4,
        "out": "results/eval",
        "progress": False,
    }
    assert cli(["eval", write_yaml(a / "eval.yaml", config), "--device", "cpu"])[0] == 0
    config_file = a / "results" / "eval" / "config.yaml"
    stored = saved(config_file)
    assert stored["method"]["generator"] == str(a / "g.safetensors")
    assert stored["data"] == {**DATA, "path": str(a / "images")}
    assert stored["out"] == str(a / "results" / "eval")
    assert stored["method"]["space"] == "w"  # a registered name stays a name
    first = json.loads((a / "results" / "eval" / "metrics.json").read_text())

    monkeypatch.chdir(b)
    code, text = cli(["eval", str(config_file), "--device", "cpu"])
    assert code == 0, text
    again = json.loads((a / "results" / "eval" / "metrics.json").read_text())
    assert again["metrics"]["mse"]["value"] == first["metrics"]["mse"]["value"]
    assert again["num_images"] == first["num_images"] == 8
    assert not any(b.iterdir())  # nothing was written where the command ran


def test_bench_resumes_from_another_folder_and_skips_finished_methods(folders, monkeypatch):
    a, b = folders
    config = {
        "generator": "g.safetensors",
        "data": DATA,
        "methods": [{"space": "w", "label": "w"}, {"space": "wplus", "label": "wplus"}],
        "batch_size": 4,
        "grid_images": 2,
        "out": "results/bench",
        "progress": False,
    }
    assert cli(["bench", write_yaml(a / "bench.yaml", config), "--device", "cpu"])[0] == 0
    config_file = a / "results" / "bench" / "config.yaml"
    stored = saved(config_file)
    assert stored["generator"] == str(a / "g.safetensors")
    assert stored["data"]["path"] == str(a / "images")
    table = (a / "results" / "bench" / "table.csv").read_text()

    monkeypatch.chdir(b)
    code, text = cli(["bench", str(config_file), "--resume", "--device", "cpu"])
    assert code == 0, text
    # The same config: both results are recognised as current and nothing is recomputed.
    assert "bench: w: finished before, skipped" in text
    assert "bench: wplus: finished before, skipped" in text
    assert (a / "results" / "bench" / "table.csv").read_text() == table
    assert not any(b.iterdir())


def test_train_resumes_from_another_folder_with_its_saved_config(folders, monkeypatch):
    a, b = folders
    config = {
        "method": {"generator": "g.safetensors", "space": "w", "encoder": SMALL_ENCODER},
        "data": DATA,
        "losses": {"mse": 1.0},
        "optimizer": {"name": "adam", "lr": 0.001},
        "steps": 2,
        "batch_size": 4,
        "checkpoint_every": 1,
        "log_every": 1,
        "out": "run",
        "progress": False,
    }
    typed = write_yaml(a / "train.yaml", config)
    assert cli(["train", typed, "--device", "cpu"])[0] == 0
    config_file = a / "run" / "config.yaml"
    stored = saved(config_file)
    assert stored["method"]["generator"] == str(a / "g.safetensors")
    assert stored["data"]["path"] == str(a / "images") and stored["out"] == str(a / "run")

    # The config as typed, from the folder it was typed in, is still the same config.
    assert cli(["train", typed, "steps=3", "--resume", "--device", "cpu"])[0] == 0
    # The saved config, from elsewhere: recognised as the run's (paths compared resolved).
    monkeypatch.chdir(b)
    code, text = cli(["train", str(config_file), "steps=4", "--resume", "--device", "cpu"])
    assert code == 0, text
    log = [json.loads(line)["step"] for line in (a / "run" / "log.jsonl").read_text().splitlines()]
    assert log == [1, 2, 3, 4]
    assert (a / "run" / "encoder_latest.safetensors").is_file() and not any(b.iterdir())
    # A real change is still refused from there, naming the key.
    code, text = cli(
        ["train", str(config_file), "steps=5", "seed=7", "--resume", "--device", "cpu"]
    )
    assert code == 2 and "seed (run: 0, now: 7)" in text


def test_train_configured_in_python_resumes_from_another_folder(folders, monkeypatch):
    """A TrainConfig built in Python (never read through `load`) with relative paths: the
    checkpoint's copy of it holds absolute paths, so the resume from elsewhere matches."""
    from ganinv.harness.train import run_training

    a, b = folders
    config = TrainConfig(
        method=MethodConfig(generator="g.safetensors", space="w", encoder=dict(SMALL_ENCODER)),
        data=dict(DATA),
        losses={"mse": 1.0},
        steps=2,
        batch_size=4,
        checkpoint_every=1,
        log_every=1,
        out="run",
        progress=False,
    )
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run_training(config, torch.device("cpu"))
    monkeypatch.chdir(b)
    config_file = str(a / "run" / "config.yaml")
    code, text = cli(["train", config_file, "steps=3", "--resume", "--device", "cpu"])
    assert code == 0, text
    log = [json.loads(line)["step"] for line in (a / "run" / "log.jsonl").read_text().splitlines()]
    assert log == [1, 2, 3]


def test_train_gan_resumes_from_another_folder_with_its_saved_config(folders, monkeypatch):
    a, b = folders
    config = {
        "output": "gan",
        "data": DATA,
        "generator": {"z_dim": 16, "w_dim": 16, "mapping_layers": 2, "channels": TINY},
        "discriminator": {"channels": TINY},
        "batch_size": 4,
        "total_kimg": 0.004,
        "checkpoint_kimg": 0.004,
        "sample_seeds": 4,
        "device": "cpu",
    }
    assert cli(["train-gan", write_yaml(a / "gan.yaml", config)])[0] == 0
    config_file = a / "gan" / "config.yaml"
    stored = saved(config_file)
    assert stored["data"]["path"] == str(a / "images") and stored["output"] == str(a / "gan")

    monkeypatch.chdir(b)
    code, text = cli(["train-gan", str(config_file), "total_kimg=0.008", "--resume"])
    assert code == 0, text
    assert saved(config_file)["total_kimg"] == 0.008
    kimg = [json.loads(line)["kimg"] for line in (a / "gan" / "log.jsonl").read_text().splitlines()]
    assert kimg == [0.004, 0.008] and not any(b.iterdir())


def test_train_gan_configured_in_python_resumes_from_another_folder(folders, monkeypatch):
    """A config built in Python (never read through `load_config`) with relative paths: the
    checkpoint's copy of it is stored with absolute paths too, so the resume matches."""
    from ganinv.harness.gan_training import GanTrainConfig, GanTrainer

    a, b = folders
    config = GanTrainConfig(
        output="gan",
        data=dict(DATA),
        generator={"z_dim": 16, "w_dim": 16, "mapping_layers": 2, "channels": TINY},
        discriminator={"channels": TINY},
        batch_size=4,
        total_kimg=0.004,
        checkpoint_kimg=0.004,
        sample_seeds=4,
        device="cpu",
    )
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        GanTrainer(config).train()
    monkeypatch.chdir(b)
    code, text = cli(["train-gan", str(a / "gan" / "config.yaml"), "total_kimg=0.008", "--resume"])
    assert code == 0, text
    kimg = [json.loads(line)["kimg"] for line in (a / "gan" / "log.jsonl").read_text().splitlines()]
    assert kimg == [0.004, 0.008]


def test_registered_names_and_words_stay_as_typed(folders):
    """Only paths become absolute: a weights-catalogue name, registered component names and
    plain words stay, even where a file or folder of that name exists in the working folder."""
    a, _ = folders
    (a / "test").mkdir()  # a folder named like the split
    (a / "w").write_text("")  # a file named like the space
    config = load(
        EvalConfig,
        {
            "method": {"generator": "demo_fmnist32_stylegan2", "space": "w"},
            "data": {**DATA, "split": "test"},
            "metrics": ["mse", {"name": "psnr"}],
        },
    )
    save_config(config, a / "saved.yaml")
    stored = saved(a / "saved.yaml")
    assert stored["method"]["generator"] == "demo_fmnist32_stylegan2"
    assert stored["method"]["space"] == "w"
    assert stored["data"] == {**DATA, "path": str(a / "images"), "split": "test"}
    assert stored["metrics"] == ["mse", {"name": "psnr"}]
    assert stored["out"] == str(a / "runs" / "eval")  # the default is a path too


def test_a_component_argument_naming_a_file_is_stored_absolute(folders):
    """Component arguments are free-form: a value that names an existing file or folder from
    the working folder and looks like a path (a separator or a suffix) is stored absolute."""
    a, _ = folders
    (a / "weights").mkdir()
    (a / "weights" / "e4e.safetensors").write_text("")
    config = load(
        TrainConfig,
        {
            "method": {
                "generator": "g.safetensors",
                "space": "w",
                "encoder": {"name": "sdic", "e4e_checkpoint": "weights/e4e.safetensors"},
            },
            "data": DATA,
            "losses": {"mse": 1.0},
        },
    )
    save_config(config, a / "saved.yaml")
    encoder = saved(a / "saved.yaml")["method"]["encoder"]
    assert encoder == {"name": "sdic", "e4e_checkpoint": str(a / "weights" / "e4e.safetensors")}


def test_a_run_saved_with_relative_paths_resumes_from_its_own_folder(folders):
    """Runs saved before paths were stored absolute hold them as typed: read from the working
    folder, they still compare equal to the resolved config."""
    a, _ = folders
    current = {"out": str(a / "run"), "data": {"path": str(a / "images")}, "steps": 3}
    old = {"out": "run", "data": {"path": "images"}, "steps": 2}
    changed = check_resume_config(old, current, ["steps"], "config.yaml", "ganinv train")
    assert changed == ["steps"]
    with pytest.raises(Exception, match="data.path"):
        check_resume_config(
            {**old, "data": {"path": "other"}}, current, ["steps"], "config.yaml", "ganinv train"
        )
