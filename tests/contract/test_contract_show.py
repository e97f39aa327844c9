"""The Show: a third-party space (acme_tint, installed at test time; not the docs' example) is
trained with the generic encoder through `ganinv train`, then benchmarked beside a built-in
method in a `ganinv bench` table."""

from __future__ import annotations

import json

import pytest
import yaml
from contract_specs import encoder_spec

from ganinv.cli.main import main
from ganinv.testing import make_world


@pytest.mark.slow
def test_third_party_space_trained_with_generic_then_benchmarked(tmp_path):
    generator, images = make_world(tmp_path, count=8)
    data = {"name": "folder", "path": str(images), "resolution": 16}
    train = {
        "method": {
            "generator": str(generator),
            "space": {"name": "acme_tint", "shade_size": 4},
            "encoder": encoder_spec("generic"),
        },
        "data": data,
        "losses": {"mse": 1.0},
        "optimizer": {"name": "adam", "lr": 2e-3},
        "steps": 12,
        "batch_size": 4,
        "log_every": 1,
        "checkpoint_every": 12,
        "out": str(tmp_path / "run"),
        "progress": False,
    }
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(train))
    assert main(["train", str(tmp_path / "train.yaml"), "--device", "cpu"]) == 0
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    losses = [r["loss/mse"] for r in log]
    # Step 0 renders init_code exactly (the mean image), so training can only improve on it.
    assert min(losses[-3:]) < 0.8 * losses[0], losses

    bench = {
        "generator": str(generator),
        "data": {**data, "limit": 8},
        "methods": [
            {
                "label": "acme_tint + generic",
                "encoder_checkpoint": str(tmp_path / "run" / "encoder_latest.safetensors"),
            },
            {"label": "acme_tint (init code)", "space": {"name": "acme_tint"}},
            {"label": "W+ (init code)", "space": "wplus"},
        ],
        "metrics": ["mse", "acme_mae"],
        "batch_size": 4,
        "grid_images": 2,
        "out": str(tmp_path / "bench"),
        "progress": False,
    }
    (tmp_path / "bench.yaml").write_text(yaml.safe_dump(bench))
    assert main(["bench", str(tmp_path / "bench.yaml"), "--device", "cpu"]) == 0
    table = (tmp_path / "bench" / "table.md").read_text()
    assert "acme_tint + generic" in table and "acme_mae" in table
    rows = json.loads((tmp_path / "bench" / "table.json").read_text())["rows"]
    mse = {r["method"]: r["values"]["mse"] for r in rows}
    # A zero tint and shading render exactly W+: the two neutral codes score the same.
    assert mse["acme_tint (init code)"] == pytest.approx(mse["W+ (init code)"], abs=1e-6)
    # Measured: 0.270 vs 0.363 after 12 steps.
    assert mse["acme_tint + generic"] < 0.85 * mse["acme_tint (init code)"], mse
