"""Metric states combine across processes as each metric declares (sum, max, or concatenation).

The two processes meet through a file (``init_method="file://..."``): no port to pick, so no
fixed port and no free-port guess that another process could take before the bind.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import ganinv
from ganinv.harness.scoring import all_reduce_metric


def _images(rank: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(rank)
    real = torch.rand(count, 3, 32, 32, generator=g) * 2 - 1
    return real, (real + 0.1 * torch.randn(real.shape, generator=g)).clamp(-1, 1)


def _worker(rank: int, store_file: str, queue) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store_file}", rank=rank, world_size=2)
    try:
        results = {}
        for name in ("mse", "swd"):
            metric = ganinv.build("metrics", name)
            metric.reset()
            metric.update(*_images(rank, 3 + rank))  # unequal shards: 3 and 4 images
            all_reduce_metric(metric)
            results[name] = metric.compute().value
            if name == "swd":
                state = metric.state()
                results["swd_images"] = int(state["images"])
                results["swd_descriptors"] = {k: v.shape[0] for k, v in state.items() if v.ndim}
        queue.put((rank, results))
    finally:
        dist.destroy_process_group()


def test_two_processes_match_one_process_over_all_images(tmp_path):
    store_file = str(tmp_path / "rendezvous")  # must not exist yet; the group creates it
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(r, store_file, queue)) for r in range(2)]
    for p in procs:
        p.start()
    got = dict(queue.get(timeout=300) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    single = {}
    for name in ("mse", "swd"):
        metric = ganinv.build("metrics", name)
        metric.reset()
        for rank in range(2):
            metric.update(*_images(rank, 3 + rank))
        single[name] = metric.compute().value
    for rank in range(2):
        assert abs(got[rank]["mse"] - single["mse"]) < 1e-6
        # SWD samples are concatenated (7 images x 128 neighbourhoods per level), counts summed;
        # each process draws its own neighbourhoods, so the value agrees only within sampling noise
        assert got[rank]["swd_images"] == 7
        assert set(got[rank]["swd_descriptors"].values()) == {7 * 128}
        assert abs(got[rank]["swd"] - single["swd"]) < 0.15 * single["swd"]
    assert got[0]["swd"] == got[1]["swd"]
