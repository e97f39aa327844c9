"""Two gloo processes under torchrun train like one process with the same global batch.

The tiny test encoder has no BatchNorm (SyncBatchNorm needs CUDA; with plain BatchNorm each
process would normalise with its own half-batch statistics).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import yaml
from harness_testkit import run_cli, subprocess_env, train_config


@pytest.mark.slow
def test_two_process_gloo_matches_single_process(world, tmp_path):
    def config(out):
        return train_config(
            world,
            out,
            steps=4,
            batch_size=4,
            checkpoint_every=4,
            validation={
                "data": {"name": "folder", "path": str(world["test"]), "resolution": 16},
                "every": 2,
                "metrics": ["mse", "psnr"],
                "batch_size": 2,
            },
        )

    single_cfg, multi_cfg = tmp_path / "single.yaml", tmp_path / "multi.yaml"
    single_cfg.write_text(yaml.safe_dump(config(tmp_path / "single")))
    multi_cfg.write_text(yaml.safe_dump(config(tmp_path / "multi")))
    single = subprocess.Popen(
        [sys.executable, "-m", "ganinv", "train", str(single_cfg), "--device", "cpu"],
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    multi = run_cli(
        [
            "--nproc_per_node",
            "2",
            "--master_port",
            "29517",
            "-m",
            "ganinv",
            "train",
            str(multi_cfg),
            "--device",
            "cpu",
        ],
        module="torch.distributed.run",
        timeout=240,
    )
    assert multi.returncode == 0, multi.stderr[-3000:]
    _, single_err = single.communicate(timeout=120)
    assert single.returncode == 0, single_err

    a = torch.load(tmp_path / "single" / "checkpoints" / "latest.pt", weights_only=True)
    b = torch.load(tmp_path / "multi" / "checkpoints" / "latest.pt", weights_only=True)
    assert b["world_size"] == 2 and len(b["rng"]) == 2
    for key in a["encoder"]:
        torch.testing.assert_close(b["encoder"][key], a["encoder"][key], rtol=1e-5, atol=1e-6)
    # Validation metrics were all-reduced over both shards: same numbers as one process.
    la = [json.loads(x) for x in (tmp_path / "single" / "log.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "multi" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in la] == [r["step"] for r in lb]
    for x, y in zip(la, lb):
        assert y["loss/total"] == pytest.approx(x["loss/total"], rel=1e-5)
        if "val/mse" in x:
            assert y["val/mse"] == pytest.approx(x["val/mse"], rel=1e-5)
            assert y["val/psnr"] == pytest.approx(x["val/psnr"], rel=1e-5)
