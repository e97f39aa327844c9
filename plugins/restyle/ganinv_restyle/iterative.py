"""ReStyle's iterative residual scheme, shared by the pSp and e4e variants.

Step t reads concat(x, y_t) (6 channels: the image and the current reconstruction at the encoder's
input size) and predicts an offset: w_{t+1} = w_t + E(x, y_t). It starts from the average code
w_0 = w_avg (``space.init_code``) and its image y_0 = G(w_avg); y_{t+1} = G(w_{t+1}) resized to
the input size (ReStyle pools its 1024 px output to 256 the same way before re-feeding it).

Training (`training_codes`): `train_steps` steps (ReStyle's ``n_iters_per_batch``, 5), each one's
input and previous code detached, as ReStyle's coach does; the trainer scores every step's code
with the configured losses and takes one optimiser step on their sum, which equals ReStyle's
backward after every step followed by one optimiser step. Inference (`forward`): `inference_steps`
steps (5 by default; `iterate` returns every step's code).
"""

from __future__ import annotations

import torch
from ganinv_baselines.encoder_common import check_input, require_space

from ganinv.core.encoder import to_encoder_input
from ganinv.core.errors import GanInvError
from ganinv.core.space import Code, InversionSpace
from ganinv_restyle.backbone import ReStyleBackbone, map2style_heads


def check_steps(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise GanInvError(f"encoder field {field!r} must be a whole number >= 1, got {value!r}")
    return value


class ReStyleIterations:
    """The iteration loop; the encoder class supplies `predict_delta` ([B, 6, R, R] -> offsets
    [B, num_ws, w_dim]) and is an `Encoder` on the 'wplus' space."""

    space: InversionSpace
    input_resolution: int
    train_steps: int
    inference_steps: int
    encoder_name: str

    def init_network(
        self,
        input_resolution: int,
        num_layers: int | None,
        units: list[int] | None,
        widths: list[int] | None,
        backbone_weights: str | None,
        train_steps: int,
        inference_steps: int,
    ) -> None:
        """What both variants build (arguments as `ReStylePSPEncoder`): the 'wplus' check, the
        step counts, the 6-channel backbone and one map2style head per code."""
        require_space(self.space, ("wplus",), self.encoder_name)
        g = self.space.generator
        self.input_resolution = input_resolution
        self.train_steps = check_steps(train_steps, "train_steps")
        self.inference_steps = check_steps(inference_steps, "inference_steps")
        self.backbone = ReStyleBackbone(num_layers, units, widths)
        if backbone_weights:
            self.backbone.load_ir_se(backbone_weights)
        self.styles = map2style_heads(
            g.num_ws, self.backbone.out_channels, g.w_dim, input_resolution
        )

    def predict_delta(self, inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def average_image(self, like: torch.Tensor) -> torch.Tensor:
        """G(w_avg) at the input size [1, 3, R, R] (constant noise), on `like`'s device."""
        cached = getattr(self, "_average_image", None)
        if cached is None or cached.device != like.device or cached.dtype != like.dtype:
            with torch.no_grad():
                image = self.space.render(self.space.init_code(1))
                cached = to_encoder_input(image, self.input_resolution).to(like)
            # A plain attribute, not a buffer: derived from the frozen generator, never saved.
            object.__setattr__(self, "_average_image", cached)
        return cached

    def iterate(self, images: torch.Tensor, steps: int) -> list[Code]:
        """The code after each of `steps` steps for images [B, 3, R, R] in [-1, 1]."""
        check_input(images, self.input_resolution, self.encoder_name)
        batch = images.shape[0]
        wplus = self.space.init_code(batch)["wplus"].to(images)
        recon = self.average_image(images).expand(batch, -1, -1, -1)
        codes = []
        for step in range(steps):
            delta = self.predict_delta(torch.cat([images, recon], dim=1))
            wplus = wplus.detach() + delta  # gradients reach this step's offset only
            code = Code(self.space.name, {"wplus": wplus})
            codes.append(code)
            if step + 1 < steps:
                with torch.no_grad():
                    recon = to_encoder_input(self.space.render(code), self.input_resolution)
        return codes

    def forward(self, images: torch.Tensor) -> Code:
        return self.iterate(images, self.inference_steps)[-1]

    def training_codes(self, images: torch.Tensor) -> list[Code]:
        return self.iterate(images, self.train_steps)

    def predict_wplus(self, images: torch.Tensor) -> torch.Tensor:
        """W+ codes [B, num_ws, w_dim] after `inference_steps` steps (as pSp/e4e offer it)."""
        return self.forward(images)["wplus"]
