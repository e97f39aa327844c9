"""A compact StyleGAN2 trainer (`ganinv train-gan`): the recipe of stylegan2-ada-pytorch, no ADA.

Non-saturating logistic loss, lazy R1 on D, optional lazy path-length regulariser on G, style
mixing, EMA of G with ramp-up, and `w_avg` tracked as an EMA of mapped codes (beta 0.995), as the
NVlabs loop does. Lazy regularisation rescales Adam's lr and betas by interval / (interval + 1).

Resumable exactly: the state (networks, optimisers, step, RNG states) is written atomically as a
weights-only torch file every `checkpoint_kimg`; `--resume` continues from it. Snapshots of
(G_ema, D) in our safetensors format are what the rest of the library loads. A run is never
clobbered: without ``--resume`` a folder holding a run is refused, a resume may change only
`RESUME_MAY_CHANGE`, and one process at a time holds the folder's lock.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import torch
import yaml
from torch import nn

from ganinv.core.config import (
    AdamBetas,
    Keys,
    NetworkResolution,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Probability,
    Range,
    Seed,
    save_config,
)
from ganinv.core.config_paths import PathStr
from ganinv.core.errors import GanInvError
from ganinv.core.io import atomic_write_text
from ganinv.harness.checkpoint import (
    KillPoint,
    load_training_state,
    read_count,
    restore_module,
    restore_optimizer,
    restoring,
    save_training_state,
)
from ganinv.harness.rng import capture_rng, restore_rng, seed_everything
from ganinv.harness.run_guard import (
    check_resume_config,
    parse_saved_config,
    plain_config,
    refuse_existing_run,
)
from ganinv.harness.run_lock import RunLock
from ganinv.harness.schema import DATASET_ARGUMENTS
from ganinv.losses.adversarial import discriminator_loss, generator_loss, r1_penalty

# What a resumed run may change: its length, checkpoint spacing, threads and device (the state
# loads onto any device; other thread counts change float sums, not the recipe).
RESUME_MAY_CHANGE = ("output", "total_kimg", "checkpoint_kimg", "threads", "device")
# Files whose presence marks `output` as holding a run.
RUN_FILES = ("checkpoint.pt", "network-snapshot.safetensors", "log.jsonl", "config.yaml", "DONE")


# The data and both networks must agree on a power-of-two image side (checked when read).
NetworkSpec = Annotated[dict[str, Any], Keys(resolution=NetworkResolution)]
GanDataSpec = Annotated[
    dict[str, Any], Keys(**{**DATASET_ARGUMENTS, "resolution": NetworkResolution})
]


@dataclass
class GanTrainConfig:
    """`ganinv train-gan` settings (YAML, strictly validated)."""

    output: PathStr  # run directory: checkpoint, snapshots, samples, log
    data: GanDataSpec  # a dataset spec, e.g. {name: fashion_mnist, split: train}
    generator: NetworkSpec = field(default_factory=dict)  # StyleGAN2Generator kwargs
    discriminator: NetworkSpec = field(default_factory=dict)  # StyleGAN2Discriminator kwargs
    batch_size: PositiveInt = 32
    total_kimg: PositiveFloat = 1000.0  # training length in thousands of real images shown to D
    g_lr: PositiveFloat = 0.0025
    d_lr: PositiveFloat = 0.0025
    betas: AdamBetas = field(default_factory=lambda: [0.0, 0.99])
    r1_gamma: NonNegativeFloat = 0.01
    r1_interval: PositiveInt = 16
    pl_weight: NonNegativeFloat = 0.0  # path-length regulariser weight (0: off)
    pl_interval: PositiveInt = 4
    pl_decay: Annotated[float, Range(low=0, high=1, low_open=True)] = 0.01
    pl_batch_shrink: PositiveInt = 2
    style_mixing_prob: Probability = 0.9
    ema_kimg: NonNegativeFloat = 10.0  # 0: G_ema follows G
    ema_rampup: PositiveFloat | None = 0.05
    w_avg_beta: Probability = 0.995
    checkpoint_kimg: PositiveFloat = 10.0  # resumable state + snapshot every this many kimg
    sample_seeds: PositiveInt = 64  # fixed latents rendered into samples.png at each checkpoint
    init_from: PathStr | None = None  # a snapshot (ours) to start from without a checkpoint
    seed: Seed = 0
    num_workers: NonNegativeInt = 0
    threads: PositiveInt | None = None  # torch intra-op threads (None: torch's default)
    device: str = "auto"


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GanInvError(f"device {name!r} asked for but CUDA is not available; use device=cpu")
    return torch.device(name)


class _InfiniteBatches:
    """Deterministic epochs of shuffled indices; the position is part of the resumable state."""

    def __init__(self, dataset: Any, batch_size: int, seed: int, num_workers: int) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.num_workers = num_workers
        self.epoch = 0
        self.position = 0  # batches consumed in this epoch
        self._iterator: Any = None

    def _start_epoch(self) -> None:
        g = torch.Generator().manual_seed(self.seed * 1000003 + self.epoch)
        order = torch.randperm(len(self.dataset), generator=g).tolist()
        usable = len(order) // self.batch_size * self.batch_size
        batches = [order[i : i + self.batch_size] for i in range(0, usable, self.batch_size)]
        batches = batches[self.position :]
        # Its own generator: creating an iterator must not draw from the global RNG, or a
        # resumed run (which creates one more iterator) would diverge from an uninterrupted one.
        loader = torch.utils.data.DataLoader(
            self.dataset, batch_sampler=batches, num_workers=self.num_workers, generator=g
        )
        self._iterator = iter(loader)

    def next(self) -> torch.Tensor:
        if self._iterator is None:
            self._start_epoch()
        try:
            batch = next(self._iterator)
        except StopIteration:
            self.epoch += 1
            self.position = 0
            self._start_epoch()
            batch = next(self._iterator)
        self.position += 1
        return batch[0] if isinstance(batch, (list, tuple)) else batch

    def state(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position}

    def load_state(self, state: dict[str, int]) -> None:
        self.epoch, self.position = int(state["epoch"]), int(state["position"])
        self._iterator = None


def _lazy_adam(params: Any, lr: float, betas: list[float], interval: int) -> torch.optim.Adam:
    ratio = interval / (interval + 1) if interval > 0 else 1.0
    return torch.optim.Adam(
        params, lr=lr * ratio, betas=(betas[0] ** ratio, betas[1] ** ratio), eps=1e-8
    )


class GanTrainer:
    """Trains a StyleGAN2 generator and discriminator on one dataset, resumably."""

    def __init__(self, config: GanTrainConfig) -> None:
        from ganinv.core.registry import build
        from ganinv.stylegan2.discriminator import StyleGAN2Discriminator
        from ganinv.stylegan2.generator import StyleGAN2Generator

        self.config = config
        self.out = Path(config.output)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = _device(config.device)
        seed_everything(config.seed)

        self.dataset = build("datasets", config.data)
        if len(self.dataset) < config.batch_size:
            raise GanInvError(
                f"dataset has {len(self.dataset)} images, fewer than batch_size "
                f"{config.batch_size}; lower batch_size or add data"
            )
        sample = self.dataset[0]
        sample = sample[0] if isinstance(sample, (list, tuple)) else sample
        resolution = int(sample.shape[-1])
        gkw = {"resolution": resolution, **config.generator}
        dkw = {"resolution": resolution, **config.discriminator}
        if gkw["resolution"] != resolution or dkw["resolution"] != resolution:
            raise GanInvError(
                f"dataset images are {resolution} px but the networks are configured for "
                f"{gkw['resolution']}/{dkw['resolution']} px; set data.resolution or the networks'"
            )
        self.G = StyleGAN2Generator(**gkw).to(self.device).train()
        self.D = StyleGAN2Discriminator(**dkw).to(self.device).train()
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.opt_g = _lazy_adam(
            self.G.parameters(),
            config.g_lr,
            config.betas,
            config.pl_interval * (config.pl_weight > 0),
        )
        self.opt_d = _lazy_adam(self.D.parameters(), config.d_lr, config.betas, config.r1_interval)
        self.batches = _InfiniteBatches(
            self.dataset, config.batch_size, config.seed, config.num_workers
        )
        self.step = 0
        self.nimg = 0
        self.pl_mean = torch.zeros((), device=self.device)
        g = torch.Generator().manual_seed(123456789)
        self.sample_z = torch.randn(config.sample_seeds, self.G.z_dim, generator=g)

    # -- one iteration --------------------------------------------------------------------------
    def _ws(self, batch: int) -> torch.Tensor:
        """Mapped codes with style mixing; updates G.w_avg as the NVlabs mapping does."""
        G = self.G
        z = torch.randn(batch, G.z_dim, device=self.device)
        ws = G.mapping(z)
        with torch.no_grad():
            G.w_avg.copy_(ws[:, 0].mean(0).lerp(G.w_avg, self.config.w_avg_beta))
        if self.config.style_mixing_prob > 0:
            cutoff = torch.randint(1, G.num_ws, (), device=self.device)
            mix = torch.rand((), device=self.device) < self.config.style_mixing_prob
            cutoff = torch.where(mix, cutoff, torch.full_like(cutoff, G.num_ws))
            ws2 = G.mapping(torch.randn_like(z))
            layer = torch.arange(G.num_ws, device=self.device)[None, :, None]
            ws = torch.where(layer < cutoff, ws, ws2)
        return ws

    def _set_grad(self, net: nn.Module, flag: bool) -> None:
        for p in net.parameters():
            p.requires_grad_(flag)

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        batch = cfg.batch_size
        real = self.batches.next().to(self.device, non_blocking=True)
        stats: dict[str, float] = {}

        # G main: non-saturating loss.
        self._set_grad(self.G, True)
        self._set_grad(self.D, False)
        fake = self.G.synthesize(self._ws(batch), noise_mode="random")
        loss_g = generator_loss(self.D(fake))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        stats["loss_g"] = loss_g.item()

        # G reg: lazy path-length regulariser.
        if cfg.pl_weight > 0 and self.step % cfg.pl_interval == 0:
            pl_batch = max(batch // cfg.pl_batch_shrink, 1)
            ws = self._ws(pl_batch)
            img = self.G.synthesize(ws, noise_mode="random")
            noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
            (grad,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
            lengths = grad.square().sum(2).mean(1).sqrt()
            self.pl_mean = self.pl_mean.lerp(lengths.mean().detach(), cfg.pl_decay)
            loss_pl = (lengths - self.pl_mean).square().mean() * cfg.pl_weight * cfg.pl_interval
            self.opt_g.zero_grad(set_to_none=True)
            (loss_pl + img[:, 0, 0, 0].sum() * 0).backward()
            self.opt_g.step()
            stats["loss_pl"] = loss_pl.item()

        # D main.
        self._set_grad(self.G, False)
        self._set_grad(self.D, True)
        with torch.no_grad():
            fake = self.G.synthesize(self._ws(batch), noise_mode="random")
        loss_d = discriminator_loss(self.D(real), self.D(fake))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        stats["loss_d"] = loss_d.item()

        # D reg: lazy R1.
        if cfg.r1_gamma > 0 and self.step % cfg.r1_interval == 0:
            penalty, logits = r1_penalty(self.D, real)
            loss_r1 = penalty * (cfg.r1_gamma / 2) * cfg.r1_interval
            self.opt_d.zero_grad(set_to_none=True)
            (loss_r1 + logits.sum() * 0).backward()
            self.opt_d.step()
            stats["r1"] = penalty.item()

        self.nimg += batch
        self._update_ema(batch)
        self.step += 1
        return stats

    @torch.no_grad()
    def _update_ema(self, batch: int) -> None:
        ema_nimg = self.config.ema_kimg * 1000
        if self.config.ema_rampup is not None:
            ema_nimg = min(ema_nimg, self.nimg * self.config.ema_rampup)
        beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.copy_(p.detach().lerp(p_ema, beta))
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    # -- state ----------------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    def state_dict(self) -> dict[str, Any]:
        return {
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "step": self.step,
            "nimg": self.nimg,
            "pl_mean": self.pl_mean,
            "batches": self.batches.state(),
            "rng": capture_rng(),
            "config": yaml.safe_dump(plain_config(self.config), sort_keys=False),  # paths absolute
        }

    def load_state_dict(self, state: dict[str, Any], path: Any = "checkpoint") -> None:
        # Names, shapes and kinds are compared with the live objects before anything is copied.
        for key, module in (("G", self.G), ("D", self.D), ("G_ema", self.G_ema)):
            restore_module(module, state, key, path)
        restore_optimizer(self.opt_g, state, "opt_g", path)
        restore_optimizer(self.opt_d, state, "opt_d", path)
        self.step = read_count(state, "step", path)
        self.nimg = read_count(state, "nimg", path)
        with restoring(state, "pl_mean", path) as pl_mean:
            self.pl_mean = pl_mean.reshape(()).float().to(self.device)
        batches = state.get("batches")
        epoch = read_count(batches, "epoch", path, "batches.epoch")
        position = read_count(batches, "position", path, "batches.position")
        self.batches.load_state({"epoch": epoch, "position": position})
        with restoring(state, "rng", path) as rng:
            restore_rng(rng)

    def save(self) -> None:
        """Resumable state, then the snapshot other commands load, then samples; all atomic."""
        from ganinv.checkpoints.native import save_networks

        save_training_state(self.checkpoint_path, self.state_dict())
        meta = {
            "kimg": self.nimg / 1000,
            "step": self.step,
            "dataset": self.config.data,
            "trainer": "ganinv train-gan",
        }
        save_networks(
            self.out / "network-snapshot.safetensors",
            {"generator": self.G_ema, "discriminator": self.D},
            meta,
        )
        self.write_samples(self.out / "samples.png")

    def resume(self) -> bool:
        """Continue from the checkpoint (True), or start afresh where a run was stopped before
        its first one (False); either way only after the config is checked against the run's."""
        saved_yaml = self.out / "config.yaml"
        if not self.checkpoint_path.exists():
            if saved_yaml.is_file():
                self._check_config(saved_yaml.read_text(encoding="utf-8"), str(saved_yaml))
            return False
        state = load_training_state(self.checkpoint_path)
        source = f"{str(self.checkpoint_path)!r} (field 'config')"
        if "config" not in state and saved_yaml.is_file():  # written before the field existed
            state["config"], source = saved_yaml.read_text(encoding="utf-8"), str(saved_yaml)
        self._check_config(state.get("config"), source)
        self.load_state_dict(state, self.checkpoint_path)
        return True

    def _check_config(self, saved_text: Any, source: str) -> None:
        saved = parse_saved_config(saved_text, source)
        current = plain_config(self.config)
        check_resume_config(saved, current, RESUME_MAY_CHANGE, source, "ganinv train-gan")

    def start_from_snapshot(self, path: str) -> None:
        """Warm start from a `network-snapshot.safetensors`: its G_ema becomes G and G_ema, its
        discriminator D; the image count continues from the snapshot's. Optimiser moments and
        the path-length mean start afresh (they are not in a snapshot)."""
        from ganinv.checkpoints.native import load_networks

        networks, meta = load_networks(path, self.device)
        if "generator" not in networks or "discriminator" not in networks:
            raise GanInvError(
                f"{path!r} must hold a generator and a discriminator to continue training; "
                f"it holds {sorted(networks)}"
            )
        try:
            self.G.load_state_dict(networks["generator"].state_dict())
            self.G_ema.load_state_dict(networks["generator"].state_dict())
            self.D.load_state_dict(networks["discriminator"].state_dict())
        except RuntimeError as exc:
            raise GanInvError(
                f"{path!r} does not match the configured networks ({exc}); use the generator "
                "and discriminator settings it was trained with"
            ) from exc
        self.nimg = int(float(meta.get("kimg", 0)) * 1000)
        self.step = int(meta.get("step", 0))

    @torch.no_grad()
    def write_samples(self, path: Path) -> None:
        from ganinv.core.images import save_grid

        imgs = self.G_ema(self.sample_z.to(self.device), noise_mode="const").cpu()
        save_grid(imgs, path, nrow=int(math.sqrt(len(imgs))))

    # -- loop -----------------------------------------------------------------------------------
    def train(self, resume: bool = False, max_seconds: float | None = None) -> None:
        """Train to `total_kimg` holding the output folder's lock (see `RunLock`)."""
        with RunLock(self.out, "ganinv train-gan"):
            self._train(resume, max_seconds)

    def _train(self, resume: bool, max_seconds: float | None) -> None:
        from tqdm import tqdm

        cfg = self.config
        kill_point = KillPoint()
        if not resume:
            refuse_existing_run(self.out, RUN_FILES, "ganinv train-gan")
        if resume and self.resume():
            print(f"train-gan: resumed at {self.nimg / 1000:.1f} kimg (step {self.step})")
        elif cfg.init_from:
            self.start_from_snapshot(cfg.init_from)
            print(f"train-gan: started from {cfg.init_from} at {self.nimg / 1000:.1f} kimg")
        save_config(cfg, self.out / "config.yaml")
        total = int(cfg.total_kimg * 1000)
        next_ckpt = (self.nimg // int(cfg.checkpoint_kimg * 1000) + 1) * int(
            cfg.checkpoint_kimg * 1000
        )
        log_path = self.out / "log.jsonl"
        start = time.time()
        bar = tqdm(total=total, initial=self.nimg, unit="img", desc="train-gan", mininterval=5)
        with open(log_path, "a", encoding="utf-8") as log:
            while self.nimg < total:
                stats = self.train_step()
                bar.update(cfg.batch_size)
                kill_point.step_finished()
                if self.nimg >= next_ckpt or self.nimg >= total:
                    next_ckpt += int(cfg.checkpoint_kimg * 1000)
                    self.save()
                    record = {"kimg": self.nimg / 1000, "step": self.step, **stats}
                    record["sec"] = round(time.time() - start, 1)
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                    kill_point.checkpoint_written()
                    bar.set_postfix(
                        loss_g=f"{stats['loss_g']:.3f}", loss_d=f"{stats['loss_d']:.3f}"
                    )
                if max_seconds is not None and time.time() - start > max_seconds:
                    self.save()
                    kill_point.checkpoint_written()
                    break
        bar.close()
        if self.nimg >= total:
            atomic_write_text(self.out / "DONE", f"{self.nimg / 1000:.1f} kimg\n")
