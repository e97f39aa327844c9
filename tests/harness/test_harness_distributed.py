"""Two gloo processes train like one process with the same global batch.

The tiny test encoder has no BatchNorm (SyncBatchNorm needs CUDA; with plain BatchNorm each
process would normalise with its own half-batch statistics).

The optimiser is RAdam with beta1 = 0: in its first 5 steps (rectification term rho_t <= 5) it
applies ``lr * gradient``, plain SGD, so the update is proportional to the averaged gradient and a
sum over processes without the division by the world size doubles it (Adam would divide the
scale away, up to its epsilon).

No fixed port and no free-port guess: this process hosts the rendezvous TCPStore on port 0 (the
kernel picks a free port, and the store keeps it bound for the whole test) and the two workers
join it as clients, exactly as under torchrun's agent (``TORCHELASTIC_USE_AGENT_STORE``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest
import torch
import torch.distributed as dist
import yaml
from harness_testkit import subprocess_env, train_config

from ganinv.cli.main import main
from ganinv.harness.configs import load
from ganinv.harness.schema import TrainConfig
from ganinv.harness.train import Trainer

WORLD_SIZE = 2
STEPS = 4  # <= 5: RAdam(beta1=0) is SGD throughout


def launch_workers(config_path: str) -> tuple[dist.TCPStore, list[subprocess.Popen]]:
    """`ganinv train` in WORLD_SIZE processes around a store this process holds on a free port."""
    store = dist.TCPStore(
        "127.0.0.1", 0, is_master=True, wait_for_workers=False, timeout=timedelta(seconds=120)
    )
    workers = []
    for rank in range(WORLD_SIZE):
        env = {
            **subprocess_env(),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(store.port),
            "TORCHELASTIC_USE_AGENT_STORE": "True",
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(WORLD_SIZE),
            "LOCAL_WORLD_SIZE": str(WORLD_SIZE),
        }
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "ganinv", "train", config_path, "--device", "cpu"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return store, workers


def wait_all(workers: list[subprocess.Popen], timeout: float) -> list[str]:
    """Each worker's stderr; if one fails the others (blocked in a collective) are killed."""
    errors = []
    try:
        for proc in workers:
            _, err = proc.communicate(timeout=timeout)
            errors.append(err)
            if proc.returncode != 0:
                break
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for proc, err in zip(workers, errors):
        assert proc.returncode == 0, err[-3000:]
    return errors


@pytest.mark.slow
def test_two_process_gloo_matches_single_process(world, tmp_path):
    def config(out):
        return train_config(
            world,
            out,
            steps=STEPS,
            batch_size=4,
            checkpoint_every=STEPS,
            optimizer={"name": "radam", "lr": 0.05, "betas": [0.0, 0.999]},
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
    store, workers = launch_workers(str(multi_cfg))
    try:
        assert main(["train", str(single_cfg), "--device", "cpu"]) == 0  # meanwhile, here
    finally:
        wait_all(workers, timeout=240)
    del store

    a = torch.load(tmp_path / "single" / "checkpoints" / "latest.pt", weights_only=True)
    b = torch.load(tmp_path / "multi" / "checkpoints" / "latest.pt", weights_only=True)
    assert b["world_size"] == WORLD_SIZE and len(b["rng"]) == WORLD_SIZE
    assert a["step"] == b["step"] == STEPS
    for key in a["encoder"]:
        torch.testing.assert_close(b["encoder"][key], a["encoder"][key], rtol=1e-5, atol=1e-6)
    # The steps moved the weights far beyond that tolerance (so a doubled gradient would show).
    initial = Trainer(load(TrainConfig, config(tmp_path / "initial")), torch.device("cpu"))
    moved = max(
        float((a["encoder"][k] - v).abs().max()) for k, v in initial.encoder.state_dict().items()
    )
    assert moved > 1e-3, moved
    # Validation metrics were all-reduced over both shards: same numbers as one process.
    la = [json.loads(x) for x in (tmp_path / "single" / "log.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "multi" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in la] == [r["step"] for r in lb]
    for x, y in zip(la, lb):
        assert y["loss/total"] == pytest.approx(x["loss/total"], rel=1e-5)
        if "val/mse" in x:
            assert y["val/mse"] == pytest.approx(x["val/mse"], rel=1e-5)
            assert y["val/psnr"] == pytest.approx(x["val/psnr"], rel=1e-5)
