"""IDInvert's domain-regularised optimisation ("in-domain inversion"), as a refiner.

    w* = argmin_w  ||x - G(w)||^2 + lambda_vgg ||F(x) - F(G(w))||^2 + lambda_dom ||w - E(G(w))||^2

started from the encoder's code E(x), Adam lr 0.01, 100 steps, lambda_vgg 5e-5 (VGG16 conv4_3),
lambda_dom 2 (genforce/idinvert ``invert.py``; idinvert_pytorch ``utils/inverter.py``). Each term
is a mean (pixels over C, H, W; the domain term over num_ws x w_dim). The encoder runs in eval
mode (batch-norm running statistics) and gradients flow through it and G into w; its weights are
never updated. ``lambda_dom: 0`` gives the plain MSE(+VGG)-based optimisation baseline.
"""

from __future__ import annotations

from typing import Any

import torch
from ganinv_baselines.optimize import OptimizeRefiner

from ganinv.core.encoder import Encoder, to_encoder_input
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace

DEFAULT_LOSSES = {"mse": 1.0, "vgg_perceptual": 5e-5}


def resize_for(images: torch.Tensor, resolution: int) -> torch.Tensor:
    """Resize renderings to the encoder's input size (the harness's encoder-input resize)."""
    return to_encoder_input(images, resolution)


class IDInvertRefiner(OptimizeRefiner):
    """Domain-regularised optimisation through a trained IDInvert encoder.

    encoder:            the encoder object (handed over in Python, or by a harness that offers
                        the method's encoder to refiners)
    encoder_checkpoint: otherwise, an encoder exported by `ganinv train`
                        (``encoder_*.safetensors``), loaded on first use for the space being refined
    lambda_dom:         weight of the domain regulariser mean((w - E(G(w)))^2)
    Other settings as the ``optimize`` refiner; the defaults are IDInvert's (no lr ramps, no
    perturbation of the code). After `refine`, ``domain_history`` holds the regulariser per step.
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        encoder_checkpoint: str | None = None,
        lambda_dom: float = 2.0,
        steps: int = 100,
        lr: float = 0.01,
        betas: tuple[float, float] | list[float] = (0.9, 0.999),
        losses: dict[str, Any] | None = None,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        super().__init__(
            steps=steps,
            lr=lr,
            betas=betas,
            lr_rampup=0.0,
            lr_rampdown=0.0,
            latent_noise=0.0,
            losses=dict(losses) if losses is not None else dict(DEFAULT_LOSSES),
            optimize_noise=False,
            seed=seed,
            progress=progress,
        )
        self.encoder = encoder
        self.encoder_checkpoint = encoder_checkpoint
        self.lambda_dom = lambda_dom
        self.domain_history: list[float] = []

    def _encoder_for(self, space: InversionSpace) -> Encoder:
        if self.encoder is None:
            if not self.encoder_checkpoint:
                raise GanInvError(
                    "refiner 'idinvert_optimize' needs the trained IDInvert encoder: set "
                    "encoder_checkpoint (an encoder_*.safetensors from `ganinv train`)"
                )
            from ganinv.checkpoints.encoder_file import load_exported_encoder

            self.encoder = load_exported_encoder(self.encoder_checkpoint, space)
        return self.encoder

    def refine(self, space: InversionSpace, code: Code, images: torch.Tensor) -> Code:
        self.domain_history = []
        if self.lambda_dom == 0:  # plain optimisation: the encoder is not needed
            return super().refine(space, code, images)
        encoder = self._encoder_for(space)
        was_training = encoder.training
        flags = [p.requires_grad for p in encoder.parameters()]
        encoder.eval().requires_grad_(False)
        try:
            return super().refine(space, code, images)
        finally:
            for p, flag in zip(encoder.parameters(), flags):
                p.requires_grad_(flag)
            encoder.train(was_training)

    def extra_terms(
        self, space: InversionSpace, code: Code, fake: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        if self.lambda_dom == 0:
            return torch.zeros((), device=fake.device), {}
        encoder = self._encoder_for(space)
        resolution = getattr(encoder, "input_resolution", fake.shape[-1])
        reencoded = encoder(resize_for(fake, resolution))
        term = domain_regularizer(code, reencoded, space)
        self.domain_history.append(float(term.detach()))
        return self.lambda_dom * term, {"domain": float(term.detach())}


def domain_regularizer(
    code: Code, reencoded: Code, space: InversionSpace | None = None
) -> torch.Tensor:
    """Sum over the latent parts of mean((code - E(G(code)))^2); the noise maps of `space`
    (``space.is_noise_part``) are not compared."""
    keys = [k for k in code.tensors if space is None or not space.is_noise_part(k)]
    missing = [k for k in keys if k not in reencoded.tensors]
    if missing:
        raise GanInvError(
            f"the encoder's codes lack part(s) {missing} of space {code.space!r}; use an encoder "
            "built for this space"
        )
    return sum((code[k] - reencoded[k]).square().mean() for k in keys)
