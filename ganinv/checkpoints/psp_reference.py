"""An independent forward of the released pSp / e4e / ReStyle encoders, on their own key names.

`ganinv convert --check` (and the tests) compare ganinv's converted encoder with this: plain
``torch.nn.functional`` calls that follow the released classes step by step, reading the
released state dict (``encoder.*`` names without the prefix) directly, with no ganinv module and
no renaming in between. What it follows, from the public code:

- the body: pSp's ``bottleneck_IR_SE`` blocks (BN, conv3x3, PReLU, conv3x3 with the block's
  stride, BN, squeeze-excitation with ReLU and sigmoid; shortcut a strided 1x1 conv + BN where the
  width changes, else a 1x1 max-pool, i.e. subsampling); the first block of each of the four
  stages has stride 2; the stem is conv3x3 (no bias), BN, PReLU;
- ``GradualStyleBlock``: stride-2 conv3x3 + LeakyReLU(0.01) layers down to 1x1, then rosinality's
  ``EqualLinear`` (weight / sqrt(in), lr_mul 1);
- pSp ``GradualStyleEncoder``: taps c1, c2, c3 at the ends of stages 2, 3, 4 (body indices 6, 20,
  23 in IR-SE-50), p2 = up(c3) + latlayer1(c2), p1 = up(p2) + latlayer2(c1) (bilinear,
  align_corners=True), heads 0-2 on c3, 3-6 on p2, the rest on p1 (coarse_ind 3, middle_ind 7);
- e4e ``Encoder4Editing``: w0 = head0(c3); code i = w0 + head_i(features) at the Inference stage,
  the features switching to p2 at i = 3 and p1 at i = 7;
- ReStyle ``BackboneEncoder``: every head on the last stage's map;
  ``ProgressiveBackboneEncoder``: w0 = head0(map), code i = w0 + head_i(map).

Codes are returned without latent_avg (the released pSp/e4e/ReStyle modules add it after).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ganinv.core.errors import GanInvError

State = dict[str, torch.Tensor]
COARSE_IND = 3  # pSp's and e4e's coarse_ind / middle_ind
MIDDLE_IND = 7
BN_EPS = 1e-5  # torch's BatchNorm2d default, which the released modules use


def _bn(state: State, prefix: str, x: torch.Tensor) -> torch.Tensor:
    return F.batch_norm(
        x,
        state[f"{prefix}.running_mean"],
        state[f"{prefix}.running_var"],
        state[f"{prefix}.weight"],
        state[f"{prefix}.bias"],
        training=False,
        eps=BN_EPS,
    )


def _ir_se_block(state: State, prefix: str, x: torch.Tensor, stride: int) -> torch.Tensor:
    conv_shortcut = f"{prefix}.shortcut_layer.0.weight"
    if conv_shortcut in state:
        shortcut = _bn(
            state, f"{prefix}.shortcut_layer.1", F.conv2d(x, state[conv_shortcut], stride=stride)
        )
    else:  # MaxPool2d(1, stride): keeps every stride-th pixel
        shortcut = x[:, :, ::stride, ::stride]
    r = _bn(state, f"{prefix}.res_layer.0", x)
    r = F.conv2d(r, state[f"{prefix}.res_layer.1.weight"], padding=1)
    r = F.prelu(r, state[f"{prefix}.res_layer.2.weight"])
    r = F.conv2d(r, state[f"{prefix}.res_layer.3.weight"], stride=stride, padding=1)
    r = _bn(state, f"{prefix}.res_layer.4", r)
    gate = F.adaptive_avg_pool2d(r, 1)
    gate = F.relu(F.conv2d(gate, state[f"{prefix}.res_layer.5.fc1.weight"]))
    gate = torch.sigmoid(F.conv2d(gate, state[f"{prefix}.res_layer.5.fc2.weight"]))
    return r * gate + shortcut


def _body(state: State, x: torch.Tensor) -> list[torch.Tensor]:
    """The outputs of the four stages (the stem applied first)."""
    x = F.conv2d(x, state["input_layer.0.weight"], padding=1)
    x = F.prelu(_bn(state, "input_layer.1", x), state["input_layer.2.weight"])
    count = 0
    while f"body.{count}.res_layer.1.weight" in state:
        count += 1
    # A stage begins at block 0 and wherever the width changes (the strided conv shortcut).
    starts = [0] + [i for i in range(1, count) if f"body.{i}.shortcut_layer.0.weight" in state]
    if len(starts) != 4:
        raise GanInvError(f"the released IR-SE body has 4 stages; this one has {len(starts)}")
    outputs = []
    for i in range(count):
        x = _ir_se_block(state, f"body.{i}", x, 2 if i in starts else 1)
        if i + 1 in starts or i == count - 1:
            outputs.append(x)
    return outputs


def _style(state: State, prefix: str, x: torch.Tensor) -> torch.Tensor:
    k = 0
    while f"{prefix}.convs.{k}.weight" in state:
        conv = F.conv2d(
            x, state[f"{prefix}.convs.{k}.weight"], state[f"{prefix}.convs.{k}.bias"], 2, 1
        )
        x = F.leaky_relu(conv, 0.01)
        k += 2  # convs.<odd> are the LeakyReLUs
    weight = state[f"{prefix}.linear.weight"]
    x = x.reshape(-1, weight.shape[1])
    return F.linear(x, weight / math.sqrt(weight.shape[1]), state[f"{prefix}.linear.bias"])


def _count_styles(state: State) -> int:
    n = 0
    while f"styles.{n}.linear.weight" in state:
        n += 1
    return n


def _pyramid(state: State, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    def up_add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.interpolate(a, size=b.shape[-2:], mode="bilinear", align_corners=True) + b

    _, c1, c2, c3 = _body(state, x)
    p2 = up_add(c3, F.conv2d(c2, state["latlayer1.weight"], state["latlayer1.bias"]))
    p1 = up_add(p2, F.conv2d(c1, state["latlayer2.weight"], state["latlayer2.bias"]))
    return c3, p2, p1


def _level(i: int) -> int:
    return 0 if i < COARSE_IND else 1 if i < MIDDLE_IND else 2


def gradual_style_encoder(state: State, x: torch.Tensor) -> torch.Tensor:
    """pSp's GradualStyleEncoder: [B, n_styles, 512]."""
    levels = _pyramid(state, x)
    return torch.stack(
        [_style(state, f"styles.{i}", levels[_level(i)]) for i in range(_count_styles(state))], 1
    )


def encoder4editing(state: State, x: torch.Tensor) -> torch.Tensor:
    """e4e's Encoder4Editing at its Inference stage: w0 + delta_i."""
    levels = _pyramid(state, x)
    w0 = _style(state, "styles.0", levels[0])
    codes = [w0] + [
        w0 + _style(state, f"styles.{i}", levels[_level(i)]) for i in range(1, _count_styles(state))
    ]
    return torch.stack(codes, 1)


def backbone_encoder(state: State, x: torch.Tensor) -> torch.Tensor:
    """ReStyle's BackboneEncoder: every head on the last stage's map."""
    features = _body(state, x)[-1]
    return torch.stack(
        [_style(state, f"styles.{i}", features) for i in range(_count_styles(state))], 1
    )


def progressive_backbone_encoder(state: State, x: torch.Tensor) -> torch.Tensor:
    """ReStyle's ProgressiveBackboneEncoder at its Inference stage."""
    features = _body(state, x)[-1]
    w0 = _style(state, "styles.0", features)
    codes = [w0] + [
        w0 + _style(state, f"styles.{i}", features) for i in range(1, _count_styles(state))
    ]
    return torch.stack(codes, 1)


REFERENCES: dict[str, Callable[[State, torch.Tensor], torch.Tensor]] = {
    "GradualStyleEncoder": gradual_style_encoder,
    "Encoder4Editing": encoder4editing,
    "BackboneEncoder": backbone_encoder,
    "ProgressiveBackboneEncoder": progressive_backbone_encoder,
}


@torch.no_grad()
def reference_codes(encoder_type: str, state: State, x: torch.Tensor) -> torch.Tensor:
    """The released class `encoder_type`'s output for input `x` (without latent_avg)."""
    return REFERENCES[encoder_type](state, x)
