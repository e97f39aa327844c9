"""`ganinv train`: one generic, resumable, data-parallel training loop for every encoder method.

Per step: encoder forward, render, the registered losses (weights from the config, the
``adversarial`` one reading the discriminator) plus the encoder's `extra_losses`, summed over the
codes of `Encoder.training_codes` (one, or one per refinement step for ReStyle), one optimiser
step, then the encoder's `auxiliary_step` and an optional discriminator step (non-saturating loss,
lazy R1).

Data parallelism follows NVlabs' StyleGAN2-ADA: every process holds the full model, takes its slice
of the global batch, and gradients are averaged with one all-reduce before each optimiser step.
(We do not wrap the encoder in `DistributedDataParallel`: encoders return `Code` objects, R1 needs
double backward, and the discriminator steps only some iterations; the explicit all-reduce handles
all three the same way.) BatchNorm: on CUDA the encoder's BatchNorm layers become SyncBatchNorm; on
CPU (gloo) SyncBatchNorm is unavailable, so running statistics are averaged over processes after
each step and per-process batch statistics differ from a single process's.

Output directory ``out``: ``config.yaml`` (resolved), ``log.jsonl``, ``checkpoints/latest.pt`` and
``checkpoints/best.pt`` (weights-only loadable), ``encoder_latest.safetensors`` and
``encoder_best.safetensors`` (exported encoders that `ganinv eval` / `invert` rebuild).
A run is never clobbered: a folder holding a run is refused without ``--resume``; a resume whose
config differs outside `RESUME_MAY_CHANGE` is refused; one process at a time holds ``out``'s lock.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import yaml
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from ganinv.core.components import build_component
from ganinv.core.config import save_config
from ganinv.core.errors import GanInvError
from ganinv.harness.checkpoint import (
    KillPoint,
    load_training_state,
    read_best,
    remove_stale_temporaries,
    restore_module,
    restore_optimizer,
    restore_plain,
    restoring,
    save_training_state,
)
from ganinv.harness.data import build_dataset, collate_with_extras
from ganinv.harness.device import DistContext
from ganinv.harness.evaluate import evaluate_method
from ganinv.harness.logger import RunLogger, truncate_log
from ganinv.harness.method import (
    build_resolved_method,
    load_generator_for,
    resolve_method_config,
    save_encoder,
)
from ganinv.harness.optim import build_optimizer, build_scheduler
from ganinv.harness.resize import to_encoder_input, to_size_of
from ganinv.harness.rng import capture_rng, restore_rng, seed_everything
from ganinv.harness.run_guard import (
    check_resume_config,
    parse_saved_config,
    plain_config,
    refuse_existing_run,
)
from ganinv.harness.run_lock import RunLock
from ganinv.harness.sampling import StepBatchSampler
from ganinv.harness.schema import TrainConfig
from ganinv.losses.adversarial import discriminator_loss, r1_penalty
from ganinv.losses.base import LossInputs

# What a resumed run may change: its length and how it reports. Everything else (data, method,
# losses, optimiser, seed, batch, workers: the random streams depend on them) must stay as saved.
# A longer `steps` stretches a decaying learning-rate schedule over the new length.
RESUME_MAY_CHANGE = ("steps", "log_every", "checkpoint_every", "progress", "tensorboard", "out")
# Files whose presence marks `out` as holding a run.
RUN_FILES = ("checkpoints/latest.pt", "log.jsonl", "config.yaml", "encoder_latest.safetensors")


def _loss_weight_and_args(name: str, value: Any) -> tuple[float, dict[str, Any]]:
    if isinstance(value, (int, float)):
        return float(value), {}
    args = dict(value)
    if "weight" not in args:
        raise GanInvError(f"losses.{name}: a mapping needs a 'weight' key; got {sorted(args)}")
    weight = args.pop("weight")
    return float(weight), args


def _average_gradients(params: list[nn.Parameter], world_size: int) -> None:
    """Mean of every gradient over processes, in one flat all-reduce (missing grads count as 0)."""
    if world_size == 1 or not params:
        return
    flat = torch.cat(
        [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
    )
    dist.all_reduce(flat)
    flat /= world_size
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone()
        offset += n


def _average_buffers(module: nn.Module, world_size: int) -> None:
    """Average floating-point buffers (BatchNorm running statistics) over processes."""
    if world_size == 1:
        return
    for buf in module.buffers():
        if buf.is_floating_point():
            dist.all_reduce(buf)
            buf /= world_size


def _broadcast_module(module: nn.Module) -> None:
    """Start every process from rank 0's weights."""
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


def _mean_over_processes(
    values: dict[str, float], world_size: int, device: torch.device
) -> dict[str, float]:
    if world_size == 1 or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return {k: float(v) / world_size for k, v in zip(keys, t.tolist())}


class Trainer:
    """Builds everything from a `TrainConfig` and runs (or resumes) the loop."""

    def __init__(
        self,
        config: TrainConfig,
        device: torch.device,
        dist_ctx: DistContext | None = None,
        resume: bool = False,
    ) -> None:
        self.config = config
        self.device = device
        self.ctx = dist_ctx or DistContext()
        self.out = Path(config.out)
        self.ckpt_dir = self.out / "checkpoints"
        if config.steps < 1:
            raise GanInvError(f"steps must be at least 1; got {config.steps}")
        if not resume:
            refuse_existing_run(self.out, RUN_FILES, "ganinv train")
        self.kill_point = KillPoint()
        seed_everything(config.seed)

        # Resolved once: the generator, the discriminator's default and the method agree.
        method_config = resolve_method_config(config.method)
        generator = load_generator_for(str(method_config.generator), device)
        self.method = build_resolved_method(method_config, device, generator=generator)
        if self.method.encoder is None:
            raise GanInvError(
                "ganinv train trains an encoder, but method.encoder is null; optimisation-only "
                "methods need no training (use `ganinv eval` or `ganinv invert`)"
            )
        self.method.refiner = None  # refinement is an inference stage, never trained
        self.encoder = self.method.encoder
        if self.ctx.enabled and device.type == "cuda":
            self.encoder = nn.SyncBatchNorm.convert_sync_batchnorm(self.encoder)
            self.method.encoder = self.encoder
        self.encoder.train()
        self.space = self.method.space
        self.params = [p for p in self.encoder.parameters() if p.requires_grad]
        self.optimizer = build_optimizer(self.params, config.optimizer)
        self.scheduler = build_scheduler(self.optimizer, config.schedule, config.steps)

        self.losses: dict[str, tuple[float, nn.Module]] = {}
        for name, value in config.losses.items():
            weight, args = _loss_weight_and_args(name, value)
            loss = build_component("losses", {"name": name, **args}, device=device)
            if isinstance(loss, nn.Module):
                loss = loss.to(device)
            self.losses[name] = (weight, loss)

        self.discriminator = None
        if config.discriminator is not None:
            from ganinv.checkpoints.load import load_discriminator

            source = config.discriminator.checkpoint or str(method_config.generator)
            self.discriminator = load_discriminator(source).to(device).train()
            self.discriminator.requires_grad_(True)
            self.d_params = list(self.discriminator.parameters())
            self.d_optimizer = build_optimizer(self.d_params, config.discriminator.optimizer)

        if self.ctx.enabled:
            _broadcast_module(self.encoder)
            if self.discriminator is not None:
                _broadcast_module(self.discriminator)

        self.dataset = build_dataset(config.data)
        self.val_dataset = None
        if config.validation is not None:
            self.val_dataset = build_dataset(config.validation.data)
        self.step = 0
        self.best: dict[str, Any] = {}
        if resume:
            self._resume()

    # -- state ----------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        rng = capture_rng()
        if self.ctx.enabled:
            gathered: list[Any] = [None] * self.ctx.world_size
            dist.all_gather_object(gathered, rng)
            rngs = gathered
        else:
            rngs = [rng]
        state = {
            "step": self.step,
            "encoder": self.encoder.state_dict(),
            "encoder_auxiliary": self.encoder.auxiliary_state(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rngs,
            "world_size": self.ctx.world_size,
            "best": dict(self.best),
            "config": yaml.safe_dump(plain_config(self.config), sort_keys=False),  # paths absolute
        }
        if self.discriminator is not None:
            state["discriminator"] = self.discriminator.state_dict()
            state["d_optimizer"] = self.d_optimizer.state_dict()
        return state

    def _resume(self) -> None:
        remove_stale_temporaries(self.ckpt_dir)
        remove_stale_temporaries(self.out)
        latest = self.ckpt_dir / "latest.pt"
        saved_yaml = self.out / "config.yaml"
        if not latest.exists() and saved_yaml.is_file():
            # Killed before its first checkpoint: nothing to restore, so it restarts at step 0
            # (the same run, as long as the config is the same).
            self._check_config(saved_yaml.read_text(encoding="utf-8"), str(saved_yaml))
            if self.ctx.is_main:
                truncate_log(self.out / "log.jsonl", 0)
            return
        state = load_training_state(latest)
        self._check_config(state.get("config"), f"{str(latest)!r} (field 'config')")
        step = state.get("step")
        if not isinstance(step, int) or step < 0:
            raise GanInvError(f"{str(latest)!r}: field 'step' must be a count, got {step!r}")
        if self.config.steps < step:
            raise GanInvError(
                f"steps={self.config.steps} is below the step {step} the run in "
                f"{str(self.out)!r} has reached; resume with steps >= {step}"
            )
        # Names, shapes and kinds are compared with the live objects before anything is copied.
        restore_module(self.encoder, state, "encoder", latest)
        with restoring(state, "encoder_auxiliary", latest, default={}) as auxiliary:
            self.encoder.load_auxiliary_state(auxiliary)
        restore_optimizer(self.optimizer, state, "optimizer", latest)
        restore_plain(self.scheduler, state, "scheduler", latest)
        if self.discriminator is not None:
            if "discriminator" not in state:
                raise GanInvError("the checkpoint has no discriminator but the config asks for one")
            restore_module(self.discriminator, state, "discriminator", latest)
            restore_optimizer(self.d_optimizer, state, "d_optimizer", latest)
        with restoring(state, "rng", latest) as rngs:
            restore_rng(rngs[self.ctx.rank] if len(rngs) == self.ctx.world_size else rngs[0])
        self.step = int(state["step"])
        self.best = read_best(state, latest)
        if self.ctx.is_main:
            truncate_log(self.out / "log.jsonl", self.step)

    def _check_config(self, saved_text: Any, source: str) -> None:
        saved = parse_saved_config(saved_text, source)
        check_resume_config(
            saved, plain_config(self.config), RESUME_MAY_CHANGE, source, "ganinv train"
        )

    def _save(self, name: str) -> None:
        state = self._state()  # collective under torch.distributed: every rank takes part
        if self.ctx.is_main:
            save_training_state(self.ckpt_dir / f"{name}.pt", state)
            save_encoder(
                self.out / f"encoder_{name}.safetensors",
                self.encoder,
                self.method.config,
                {"step": self.step, "best": self.best},
            )

    # -- one step -------------------------------------------------------------------------------
    def train_step(
        self, images: torch.Tensor, extra: dict[str, torch.Tensor] | None = None
    ) -> dict[str, float]:
        """One training step on a batch on this process, as `run` takes it: the encoder step,
        the encoder's `auxiliary_step`, and the discriminator step when there is one. Advances
        `step`; returns this process's figures (not averaged, not logged)."""
        logged, code, fake = self._encoder_step(images, extra)
        aux = self.encoder.auxiliary_step(code.detach(), images) or {}
        logged.update({f"aux/{k}": float(v) for k, v in aux.items()})
        if self.discriminator is not None:
            logged.update(self._discriminator_step(images, fake))
        self.step += 1
        return logged

    def _encoder_step(
        self, images: torch.Tensor, extra: dict[str, torch.Tensor] | None = None
    ) -> tuple[dict[str, float], Any, torch.Tensor]:
        cfg = self.config
        resolution = getattr(self.encoder, "input_resolution", None)
        codes = self.encoder.training_codes(to_encoder_input(images, resolution))
        if not codes:
            raise GanInvError(
                f"encoder {type(self.encoder).__name__}.training_codes returned no code"
            )
        terms: dict[str, torch.Tensor] = {}
        for index, code in enumerate(codes):
            # An iterative encoder (ReStyle) scores every refinement step with the same losses;
            # the last step's terms keep the plain names.
            prefix = "" if index == len(codes) - 1 else f"step{index}/"
            fake = to_size_of(self.space.render(code), images)
            for name, value in self._loss_terms(images, fake, code, extra).items():
                terms[prefix + name] = value
        total = torch.stack([t.reshape(()) for t in terms.values()]).sum()
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        _average_gradients(self.params, self.ctx.world_size)
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        _average_buffers(self.encoder, self.ctx.world_size)
        logged = {f"loss/{k}": float(v.detach()) for k, v in terms.items()}
        logged["loss/total"] = float(total.detach())
        return logged, code, fake.detach()

    def _loss_terms(
        self,
        images: torch.Tensor,
        fake: torch.Tensor,
        code: Any,
        extra: dict[str, torch.Tensor] | None,
    ) -> dict[str, torch.Tensor]:
        """The weighted configured losses and the encoder's extra losses of one code."""
        inputs = LossInputs(
            real=images,
            fake=fake,
            code=code,
            space=self.space,
            encoder=self.encoder,
            discriminator=self.discriminator,
            extra=extra or None,  # the batch's extra tensors (see `collate_with_extras`)
        )
        terms: dict[str, torch.Tensor] = {}
        if self.discriminator is not None:
            # The adversarial loss back-propagates through D into the encoder, not into D.
            self.discriminator.requires_grad_(False)
        for name, (weight, loss) in self.losses.items():
            terms[name] = weight * loss(inputs)
        if self.discriminator is not None:
            self.discriminator.requires_grad_(True)
        for name, value in self.encoder.extra_losses(code).items():
            if name not in self.config.extra_loss_weights:
                raise GanInvError(
                    f"the encoder returns an extra loss {name!r} with no weight; add "
                    f"extra_loss_weights.{name} to the config"
                )
            terms[f"extra/{name}"] = self.config.extra_loss_weights[name] * value
        return terms

    def _discriminator_step(self, images: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        cfg = self.config.discriminator
        assert cfg is not None and self.discriminator is not None
        out: dict[str, float] = {}
        if cfg.r1_lazy or cfg.r1_gamma == 0:
            d_loss = discriminator_loss(self.discriminator(images), self.discriminator(fake))
        else:  # R1 inside every discriminator step (PadInv's released code)
            penalty, real_logits = r1_penalty(self.discriminator, images)
            d_loss = discriminator_loss(real_logits, self.discriminator(fake))
            d_loss = d_loss + penalty * (cfg.r1_gamma / 2)
            out["d/r1"] = float(penalty.detach())
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        _average_gradients(self.d_params, self.ctx.world_size)
        self.d_optimizer.step()
        out["d/loss"] = float(d_loss.detach())
        lazy_step = cfg.r1_interval > 0 and self.step % cfg.r1_interval == 0
        if cfg.r1_lazy and cfg.r1_gamma > 0 and lazy_step:
            penalty, _ = r1_penalty(self.discriminator, images)
            self.d_optimizer.zero_grad(set_to_none=True)
            (penalty * (cfg.r1_gamma / 2) * cfg.r1_interval).backward()
            _average_gradients(self.d_params, self.ctx.world_size)
            self.d_optimizer.step()
            out["d/r1"] = float(penalty.detach())
        return out

    # -- validation -----------------------------------------------------------------------------
    def validate(self) -> dict[str, Any]:
        val = self.config.validation
        assert val is not None
        self.encoder.eval()
        result = evaluate_method(
            self.method,
            val.data,
            val.metrics,
            val.batch_size,
            progress=False,
            dist_ctx=self.ctx,
            dataset=self.val_dataset,
        )
        self.encoder.train()
        if val.best_metric not in result.metrics:
            raise GanInvError(
                f"validation.best_metric {val.best_metric!r} is not among the computed metrics "
                f"{sorted(result.metrics)}"
            )
        chosen = result.metrics[val.best_metric]
        value, higher = float(chosen["value"]), bool(chosen["higher_is_better"])
        improved = not self.best or (
            value > self.best["value"] if higher else value < self.best["value"]
        )
        if improved:
            self.best = {"metric": val.best_metric, "value": value, "step": self.step}
        return {"metrics": {k: v["value"] for k, v in result.metrics.items()}, "improved": improved}

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        cfg = self.config
        if self.ctx.is_main:
            save_config(cfg, self.out / "config.yaml")
        logger = None
        if self.ctx.is_main:
            logger = RunLogger(
                self.out / "log.jsonl", self.out / "tensorboard" if cfg.tensorboard else None
            )
            if logger.tensorboard_note:
                print(f"ganinv train: {logger.tensorboard_note}")
        sampler = StepBatchSampler(
            len(self.dataset),
            cfg.batch_size,
            cfg.seed,
            self.step,
            cfg.steps,
            self.ctx.rank,
            self.ctx.world_size,
        )
        # Its own generator: creating the iterator draws a worker seed, which must not advance the
        # global RNG (a resumed run creates its iterator at a different step).
        loader = DataLoader(
            self.dataset,
            batch_sampler=sampler,
            collate_fn=collate_with_extras,
            num_workers=cfg.num_workers,
            generator=torch.Generator().manual_seed(cfg.seed),
        )
        bar = tqdm(
            total=cfg.steps,
            initial=self.step,
            desc="train",
            unit="step",
            disable=not (cfg.progress and self.ctx.is_main),
        )
        started = time.perf_counter()
        for images, extra in loader:
            images = images.to(self.device)
            extra = {k: v.to(self.device) for k, v in extra.items()}
            logged = self.train_step(images, extra)
            last = self.step == cfg.steps
            record: dict[str, Any] | None = None
            if self.step % cfg.log_every == 0 or last:
                logged = _mean_over_processes(logged, self.ctx.world_size, self.device)
                record = {
                    "step": self.step,
                    "lr": self.scheduler.get_last_lr()[0],
                    **logged,
                    "seconds": time.perf_counter() - started,
                }
            val = cfg.validation
            improved = False
            if val is not None and (self.step % val.every == 0 or last):
                outcome = self.validate()
                improved = outcome["improved"]
                record = {
                    **(record or {"step": self.step}),
                    **{f"val/{k}": v for k, v in outcome["metrics"].items()},
                }
            if record is not None and logger is not None:
                logger.log(record)
                bar.set_postfix(loss=f"{record.get('loss/total', float('nan')):.4f}")
            if self.ctx.is_main:  # the others follow when torchrun tears the group down
                self.kill_point.step_finished()
            if improved:
                self._save("best")
            if self.step % cfg.checkpoint_every == 0 or last:
                self._save("latest")
                if self.ctx.is_main:
                    self.kill_point.checkpoint_written()
            bar.update(1)
        bar.close()
        if logger is not None:
            logger.close()
        return {"step": self.step, "best": self.best, "out": str(self.out)}


def run_training(
    config: TrainConfig,
    device: torch.device,
    dist_ctx: DistContext | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Train (or resume) and return ``{step, best, out}``.

    The main process holds ``out``'s lock from before it looks at the folder until the run ends.
    """
    config = replace(config)
    is_main = dist_ctx is None or dist_ctx.is_main
    with RunLock(config.out, "ganinv train") if is_main else nullcontext():
        return Trainer(config, device, dist_ctx, resume).run()
