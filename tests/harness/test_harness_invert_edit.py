"""`ganinv invert` / `eval` / `edit` and the Python API on the tiny world."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import torch
import yaml

import ganinv
from ganinv.cli.main import main as ganinv_main
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code
from ganinv.editing.directions import learn_direction


class _Ran:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_cli(args, *_):
    """The real CLI entry point, in this process (subprocess start-up is slow on a busy CPU)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = ganinv_main(args)
    return _Ran(code, out.getvalue(), err.getvalue())


def test_api_invert_matches_the_encoder_and_cli_writes_codes(
    world, trained_encoder, tmp_path, capsys
):
    codes, recon = ganinv.invert(trained_encoder, world["test"], device="cpu", batch_size=3)
    assert codes.space == "wplus" and codes["wplus"].shape == (8, 6, 16)
    assert recon.shape == (8, 3, 16, 16) and recon.abs().max() <= 1

    out = tmp_path / "inv"
    result = run_cli(
        [
            "invert",
            "--method",
            str(trained_encoder),
            "--input",
            str(world["test"]),
            "--out",
            str(out),
            "--device",
            "cpu",
            "--limit",
            "3",
        ]
    )
    assert result.returncode == 0, result.stderr
    saved = Code.load(out / "codes" / "001.safetensors")
    torch.testing.assert_close(saved["wplus"], codes["wplus"][1:2], rtol=0, atol=1e-5)
    assert sorted(p.name for p in (out / "recon").iterdir()) == ["000.png", "001.png", "002.png"]
    assert (out / "method.yaml").is_file()


def test_evaluate_writes_metrics_with_protocols(world, trained_encoder, tmp_path):
    config = {
        "method": {"encoder_checkpoint": str(trained_encoder)},
        "data": {"name": "folder", "path": str(world["test"]), "resolution": 16},
        "metrics": ["mse", "psnr"],
        "batch_size": 3,
        "out": str(tmp_path / "eval"),
        "progress": False,
    }
    record = ganinv.evaluate(config, device="cpu")
    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert saved["metrics"]["mse"]["value"] == pytest.approx(record["metrics"]["mse"]["value"])
    assert saved["num_images"] == 8 and saved["seconds_per_image"] > 0
    assert saved["peak_memory"]["bytes"] > 0 and "split" in saved["metrics"]["mse"]["protocol"]
    assert saved["metrics"]["psnr"]["higher_is_better"] is True
    # The same MSE, computed by hand from the method's reconstructions.
    images = torch.stack(
        [ganinv.harness.inputs.read_image(p, 16) for p in sorted(world["test"].glob("*.png"))]
    )
    _, recon = ganinv.invert(trained_encoder, images, device="cpu")
    by_hand = (recon.double() - images.double()).square().mean(dim=(1, 2, 3)).mean()
    assert saved["metrics"]["mse"]["value"] == pytest.approx(float(by_hand), rel=1e-5)
    assert yaml.safe_load((tmp_path / "eval" / "config.yaml").read_text())["batch_size"] == 3


def test_learned_direction_recovers_a_planted_one():
    torch.manual_seed(0)
    truth = torch.nn.functional.normalize(torch.randn(4, 16).flatten(), dim=0).view(4, 16)
    labels = (torch.rand(1000) > 0.5).long()
    latents = torch.randn(1000, 4, 16) + (labels.float() * 2 - 1)[:, None, None] * 1.5 * truth
    learned = learn_direction(Code("wplus", {"wplus": latents}), labels)
    cosine = float((learned.direction * truth).sum())
    assert learned.direction.shape == (4, 16)
    assert float(learned.direction.norm()) == pytest.approx(1.0, abs=1e-5)
    assert cosine > 0.9 and learned.val_accuracy > 0.9
    with pytest.raises(GanInvError, match="both classes"):
        learn_direction(Code("wplus", {"wplus": latents}), torch.zeros(1000, dtype=torch.long))


def test_edit_cli_learn_apply_blend_custom(world, trained_encoder, tmp_path):
    inv = tmp_path / "inv"
    assert (
        run_cli(
            [
                "invert",
                "--method",
                str(trained_encoder),
                "--input",
                str(world["test"]),
                "--out",
                str(inv),
                "--device",
                "cpu",
            ]
        ).returncode
        == 0
    )
    labels = tmp_path / "labels.csv"
    labels.write_text("name,label\n" + "".join(f"{i:03d},{i % 2}\n" for i in range(8)))
    direction = tmp_path / "dir.safetensors"
    r = run_cli(
        [
            "edit",
            "learn-direction",
            "--codes",
            str(inv / "codes"),
            "--labels",
            str(labels),
            "--out",
            str(direction),
        ]
    )
    assert r.returncode == 0, r.stderr
    assert "train accuracy" in r.stdout

    code = inv / "codes" / "000.safetensors"
    r = run_cli(
        [
            "edit",
            "apply",
            "--method",
            str(trained_encoder),
            "--code",
            str(code),
            "--direction",
            str(direction),
            "--strength",
            "0",
            "3",
            "--out",
            str(tmp_path / "apply"),
            "--device",
            "cpu",
        ]
    )
    assert r.returncode == 0, r.stderr
    moved = Code.load(tmp_path / "apply" / "strength_+3.safetensors")["wplus"]
    still = Code.load(tmp_path / "apply" / "strength_+0.safetensors")["wplus"]
    d, _ = ganinv.editing.directions.load_direction(direction)
    torch.testing.assert_close(moved - still, 3 * d.expand_as(moved), rtol=0, atol=1e-5)

    r = run_cli(
        [
            "edit",
            "blend",
            "--method",
            str(trained_encoder),
            "--structure",
            str(code),
            "--appearance",
            str(inv / "codes" / "001.safetensors"),
            "--out",
            str(tmp_path / "blend"),
            "--device",
            "cpu",
        ]
    )
    assert r.returncode == 0, r.stderr
    blended = Code.load(tmp_path / "blend" / "blend.safetensors")["wplus"][0]
    a = Code.load(code)["wplus"][0]
    b = Code.load(inv / "codes" / "001.safetensors")["wplus"][0]
    assert torch.equal(blended[:3], a[:3]) and torch.equal(blended[3:], b[3:])

    # Custom edit: (edited - source) added to the target; source == target gives edited back.
    r = run_cli(
        [
            "edit",
            "custom",
            "--method",
            str(trained_encoder),
            "--source",
            str(code),
            "--edited",
            str(inv / "codes" / "002.safetensors"),
            "--target",
            str(code),
            "--alpha",
            "1",
            "--out",
            str(tmp_path / "custom"),
            "--device",
            "cpu",
        ]
    )
    assert r.returncode == 0, r.stderr
    custom = Code.load(tmp_path / "custom" / "custom.safetensors")["wplus"]
    torch.testing.assert_close(
        custom, Code.load(inv / "codes" / "002.safetensors")["wplus"], rtol=0, atol=1e-5
    )
    assert (tmp_path / "custom" / "custom.png").is_file()
