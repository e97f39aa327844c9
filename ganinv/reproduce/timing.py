"""Timing the real training step of a recipe, to turn step counts into device hours.

`measure_train_step` builds the harness `Trainer` from a recipe's `TrainConfig` (same encoder,
space, losses, discriminator and optimiser) and times its public `Trainer.train_step` (the step
`ganinv train` takes: encoder step, the encoder's auxiliary step and, when configured, the
discriminator step) on random images of the data resolution. With ``random_generator`` set, the
generator (and discriminator) is a random-weight network of the stated architecture instead of the
checkpoint, and missing user weights of the losses (ArcFace) are random networks of the real
architecture in a temporary weights cache: the step costs the same, only the values are
meaningless. Records are JSON (`TimingRecord.as_dict`) so `ganinv reproduce --timing FILE` and
`scripts/reproduce_gpu_check.py` share them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganinv.core.errors import GanInvError


@dataclass
class TimingRecord:
    """One measured training step configuration."""

    step_label: str
    device: str
    device_kind: str  # "cuda" or "cpu"
    batch_per_device: int
    seconds_per_step: float
    steps_timed: int
    peak_memory_bytes: int | None  # torch.cuda.max_memory_allocated; None on CPU
    generator: str  # what generator the step ran (checkpoint or random architecture)
    how: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"cpu: {os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads"


def _write_random_images(folder: Path, resolution: int, count: int = 2) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (resolution, resolution, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.png")


def random_gan_file(path: Path, resolution: int, with_discriminator: bool) -> Path:
    """A random-weight StyleGAN2 (config-f channel table) saved in ganinv's format."""
    from ganinv.checkpoints.native import save_networks
    from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
    from ganinv.stylegan2.generator import StyleGAN2Generator

    torch.manual_seed(0)
    networks: dict[str, torch.nn.Module] = {"generator": StyleGAN2Generator(resolution=resolution)}
    if with_discriminator:
        networks["discriminator"] = StyleGAN2Discriminator(resolution=resolution)
    return save_networks(path, networks, {"source": "random weights for timing"})


@contextlib.contextmanager
def stand_in_weights_cache(directory: Path, names: list[str]) -> Iterator[None]:
    """Point the weights cache at `directory`, with random real-architecture user weights.

    Automatic entries (LPIPS, converted from installed packages) are converted there as usual.
    """
    from ganinv.weights import CACHE_ENV, install, spec

    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(directory)
    try:
        for name in names:
            entry = spec(name)
            if entry.automatic:
                continue
            module_name, function = entry.validate.split(":")
            builder = _RANDOM_BUILDERS.get(name)
            if builder is None:
                raise GanInvError(f"no random stand-in is known for weights {name!r}")
            file = directory / "stand-ins" / entry.filename
            file.parent.mkdir(parents=True, exist_ok=True)
            torch.save(builder(), file)
            install(name, file, force=True)
        yield
    finally:
        if previous is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = previous


def _random_arcface() -> dict[str, torch.Tensor]:
    from ganinv.nets.ir_se import IRSEBackbone

    return IRSEBackbone(50, "ir_se").state_dict()


_RANDOM_BUILDERS = {"arcface_ir_se50": _random_arcface}
# Loss name -> user weights it reads (automatic LPIPS weights are converted, not stood in for).
LOSS_WEIGHTS = {"id_arcface": ["arcface_ir_se50"]}


def measure_train_step(
    config: Any,
    device: torch.device,
    batch_per_device: int,
    steps: int = 3,
    warmup: int = 1,
    random_generator: int | None = None,
    step_label: str = "train",
) -> TimingRecord:
    """Seconds per training step (mean over `steps` after `warmup`) and CUDA peak memory.

    `config` is a `TrainConfig`; `random_generator` is a resolution to use a random-weight
    config-f StyleGAN2 of that size instead of the config's checkpoint.
    """
    from ganinv.harness.train import Trainer

    with tempfile.TemporaryDirectory(prefix="ganinv-timing-") as tmp:
        tmp_path = Path(tmp)
        data_resolution = _data_resolution(config)
        _write_random_images(tmp_path / "images", data_resolution)
        method = config.method
        generator_note = f"checkpoint {method.generator}"
        with contextlib.ExitStack() as stack:
            if random_generator is not None:
                gan = random_gan_file(
                    tmp_path / "gan.safetensors", random_generator, config.discriminator is not None
                )
                method = replace(method, generator=str(gan))
                generator_note = f"random-weight config-f StyleGAN2, {random_generator} px"
                wanted = [w for loss in config.losses for w in LOSS_WEIGHTS.get(loss, [])]
                stack.enter_context(stand_in_weights_cache(tmp_path / "cache", wanted))
            discriminator = config.discriminator
            if discriminator is not None and random_generator is not None:
                discriminator = replace(discriminator, checkpoint=None)
            timed = replace(
                config,
                method=method,
                data={
                    "name": "folder",
                    "path": str(tmp_path / "images"),
                    "resolution": data_resolution,
                },
                validation=None,
                discriminator=discriminator,
                batch_size=batch_per_device,
                out=str(tmp_path / "run"),
                progress=False,
                tensorboard=False,
            )
            trainer = Trainer(timed, device)
            generator = torch.Generator().manual_seed(0)
            images = (
                torch.rand(
                    batch_per_device, 3, data_resolution, data_resolution, generator=generator
                )
                * 2
                - 1
            ).to(device)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            elapsed = 0.0
            for i in range(warmup + steps):
                _sync(device)
                start = time.perf_counter()
                trainer.train_step(images)  # the step `Trainer.run` takes, nothing else
                _sync(device)
                if i >= warmup:
                    elapsed += time.perf_counter() - start
    peak = int(torch.cuda.max_memory_allocated(device)) if device.type == "cuda" else None
    return TimingRecord(
        step_label=step_label,
        device=_device_name(device),
        device_kind=device.type,
        batch_per_device=batch_per_device,
        seconds_per_step=elapsed / steps,
        steps_timed=steps,
        peak_memory_bytes=peak,
        generator=generator_note,
        how="harness Trainer.train_step (encoder step + the encoder's auxiliary step"
        f"{' + discriminator step' if config.discriminator else ''})"
        f", {warmup} warm-up + {steps} timed steps, random images at {data_resolution} px",
    )


def _data_resolution(config: Any) -> int:
    data = config.data
    resolution = data.get("resolution") if isinstance(data, dict) else None
    if not resolution:
        raise GanInvError("the training config's data section must state 'resolution' to time it")
    return int(resolution)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
