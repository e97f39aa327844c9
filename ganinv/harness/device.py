"""Device choice (`--device auto|cpu|cuda`) and the torch.distributed context of a run."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ganinv.core.errors import GanInvError


@dataclass
class DistContext:
    """rank / world size of this process; world_size 1 when not launched by torchrun."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def resolve_device(choice: str = "auto", local_rank: int = 0) -> torch.device:
    """``auto``: the process's GPU when CUDA works, else the CPU."""
    if choice not in ("auto", "cpu", "cuda"):
        raise GanInvError(f"--device must be auto, cpu or cuda; got {choice!r}")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise GanInvError("--device cuda was asked for but CUDA is not available; use --device cpu")
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def init_distributed(device_choice: str = "auto") -> tuple[DistContext, torch.device]:
    """Join the process group when run by torchrun (WORLD_SIZE > 1): NCCL on GPUs, else gloo."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(), resolve_device(device_choice)
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_choice, local_rank)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return DistContext(rank, world, local_rank), device


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
