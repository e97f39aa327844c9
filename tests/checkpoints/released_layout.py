"""Synthetic checkpoints in the released pSp / e4e / ReStyle layout, at a tiny size.

Written from the released module structure (pixel2style2pixel ``models/encoders/helpers.py`` and
``psp_encoders.py``, encoder4editing ``models/encoders/psp_encoders.py``, restyle-encoder
``models/encoders/restyle_{psp,e4e}_encoders.py`` and ``map2style.py``), not from ganinv's
converter or encoders: a table of the names and shapes those classes save, filled with random
values, saved as the coaches save ``{'state_dict', 'opts', 'latent_avg'}``.

The structure is the released one shrunk: the IR-SE body's four stages with fewer blocks and
narrower widths (``get_block``: the first block of a stage has stride 2 and a conv shortcut where
the width changes), the SE module's 1x1 convs at depth // 16, the style heads' stride-2 convs
from the map they read down to 1x1 (pSp: heads 0-2 on R/16, 3-6 on R/8, the rest on R/4; ReStyle:
all on R/16), pSp's latlayer1 (stage 3 -> top width) and latlayer2 (stage 2 -> top width). The
decoder is a rosinality generator state dict of a 64 px ganinv generator.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ganinv.checkpoints.rosinality_writer import generator_state_to_rosinality
from ganinv.stylegan2.generator import StyleGAN2Generator

UNITS = (1, 2, 1, 1)
WIDTHS = (16, 32, 48, 64)
RESOLUTION = 64  # decoder and encoder input
W_DIM = 32
N_STYLES = 2 * int(math.log2(RESOLUTION)) - 2  # 10
FPN_TYPES = ("GradualStyleEncoder", "Encoder4Editing")
INPUT_NC = {
    "GradualStyleEncoder": 3,
    "Encoder4Editing": 3,
    "BackboneEncoder": 6,
    "ProgressiveBackboneEncoder": 6,
}


def body_blocks(units: tuple[int, ...], widths: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(in_channel, depth, stride) per block, as pSp's get_blocks / get_block list them."""
    blocks, in_channel = [], widths[0]
    for count, depth in zip(units, widths):
        blocks.append((in_channel, depth, 2))
        blocks += [(depth, depth, 1)] * (count - 1)
        in_channel = depth
    return blocks


def head_spatials(encoder_type: str, n_styles: int, resolution: int) -> list[int]:
    """The `spatial` argument of each GradualStyleBlock (pSp: 16/32/64 at 256 px input)."""
    if encoder_type in FPN_TYPES:
        return [
            resolution // 16 if i < 3 else resolution // 8 if i < 7 else resolution // 4
            for i in range(n_styles)
        ]
    return [resolution // 16] * n_styles


def encoder_layout(
    encoder_type: str,
    units: tuple[int, ...] = UNITS,
    widths: tuple[int, ...] = WIDTHS,
    n_styles: int = N_STYLES,
    w_dim: int = W_DIM,
    resolution: int = RESOLUTION,
    input_nc: int | None = None,
) -> dict[str, tuple[int, ...]]:
    """Released key -> shape of the encoder (without the 'encoder.' prefix)."""
    nc = INPUT_NC[encoder_type] if input_nc is None else input_nc
    table: dict[str, tuple[int, ...]] = {}

    def bn(prefix: str, c: int) -> None:
        table.update({f"{prefix}.{n}": (c,) for n in ("weight", "bias", "running_mean")})
        table[f"{prefix}.running_var"] = (c,)
        table[f"{prefix}.num_batches_tracked"] = ()

    # input_layer = Sequential(Conv2d(input_nc, 64, 3, bias=False), BatchNorm2d(64), PReLU(64))
    table["input_layer.0.weight"] = (widths[0], nc, 3, 3)
    bn("input_layer.1", widths[0])
    table["input_layer.2.weight"] = (widths[0],)
    for i, (cin, depth, _) in enumerate(body_blocks(units, widths)):
        p = f"body.{i}"
        if cin != depth:  # shortcut_layer = Sequential(Conv2d 1x1 stride, BatchNorm2d)
            table[f"{p}.shortcut_layer.0.weight"] = (depth, cin, 1, 1)
            bn(f"{p}.shortcut_layer.1", depth)
        # res_layer = BN(in), Conv3x3(in, depth), PReLU(depth), Conv3x3(depth, depth, stride),
        # BN(depth), SEModule(depth, 16) with fc1 / fc2 1x1 convs without bias
        bn(f"{p}.res_layer.0", cin)
        table[f"{p}.res_layer.1.weight"] = (depth, cin, 3, 3)
        table[f"{p}.res_layer.2.weight"] = (depth,)
        table[f"{p}.res_layer.3.weight"] = (depth, depth, 3, 3)
        bn(f"{p}.res_layer.4", depth)
        table[f"{p}.res_layer.5.fc1.weight"] = (depth // 16, depth, 1, 1)
        table[f"{p}.res_layer.5.fc2.weight"] = (depth, depth // 16, 1, 1)
    for j, spatial in enumerate(head_spatials(encoder_type, n_styles, resolution)):
        convs = int(math.log2(spatial))  # GradualStyleBlock: num_pools = log2(spatial)
        for k in range(convs):
            in_c = widths[3] if k == 0 else w_dim
            table[f"styles.{j}.convs.{2 * k}.weight"] = (w_dim, in_c, 3, 3)
            table[f"styles.{j}.convs.{2 * k}.bias"] = (w_dim,)
        table[f"styles.{j}.linear.weight"] = (w_dim, w_dim)  # EqualLinear(out_c, out_c)
        table[f"styles.{j}.linear.bias"] = (w_dim,)
    if encoder_type in FPN_TYPES:
        table["latlayer1.weight"] = (widths[3], widths[2], 1, 1)
        table["latlayer1.bias"] = (widths[3],)
        table["latlayer2.weight"] = (widths[3], widths[1], 1, 1)
        table["latlayer2.bias"] = (widths[3],)
    return table


def random_tensors(table: dict[str, tuple[int, ...]], seed: int) -> dict[str, torch.Tensor]:
    """Values for a layout: BN statistics plausible, weights small, nothing zero."""
    gen = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for key, shape in table.items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(1000, dtype=torch.long)
        elif key.endswith("running_var"):
            out[key] = torch.rand(shape, generator=gen) + 0.5
        elif key.endswith(("running_mean", ".bias")):
            out[key] = torch.randn(shape, generator=gen) * 0.1
        elif len(shape) == 1:  # BN weight or PReLU slope
            out[key] = 0.25 + torch.rand(shape, generator=gen) * 0.5
        else:  # conv / linear weights, scaled to keep activations of order 1
            fan_in = math.prod(shape[1:])
            out[key] = torch.randn(shape, generator=gen) * (1.0 / math.sqrt(fan_in))
    return out


def decoder(seed: int = 0, w_dim: int = W_DIM, resolution: int = RESOLUTION) -> StyleGAN2Generator:
    torch.manual_seed(seed)
    channels = {4: 16, 8: 16, 16: 16, 32: 8, 64: 8, 128: 8}
    channels = {r: c for r, c in channels.items() if r <= resolution}
    g = StyleGAN2Generator(
        z_dim=w_dim, w_dim=w_dim, resolution=resolution, channels=channels, mapping_layers=2
    )
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return g.eval()


def released_opts(encoder_type: str) -> dict[str, Any]:
    """Options as the coaches save them (vars(opts)), for each repository."""
    common = {
        "exp_dir": "experiment",
        "dataset_type": "ffhq_encode",
        "encoder_type": encoder_type,
        "batch_size": 8,
        "learning_rate": 0.0001,
        "optim_name": "ranger",
        "train_decoder": False,
        "lpips_lambda": 0.8,
        "id_lambda": 0.1,
        "l2_lambda": 1.0,
        "stylegan_weights": "pretrained_models/stylegan2-ffhq-config-f.pt",
        "checkpoint_path": None,
        "max_steps": 500000,
        "device": "cuda:0",
    }
    if encoder_type == "GradualStyleEncoder":  # pixel2style2pixel
        return {
            **common,
            "input_nc": 3,
            "label_nc": 0,
            "output_size": RESOLUTION,
            "start_from_latent_avg": True,
            "learn_in_w": False,
        }
    if encoder_type == "Encoder4Editing":  # encoder4editing
        return {
            **common,
            "stylegan_size": RESOLUTION,
            "start_from_latent_avg": True,
            "progressive_start": 20000,
            "progressive_step_every": 2000,
            "progressive_steps": None,
            "w_discriminator_lambda": 0.1,
            "delta_norm_lambda": 0.0002,
            "update_param_list": None,
        }
    return {  # restyle-encoder
        **common,
        "input_nc": 6,
        "output_size": RESOLUTION,
        "n_iters_per_batch": 5,
        "start_from_latent_avg": True,
    }


def release_checkpoint(
    encoder_type: str, seed: int = 0, latent_rows: int = N_STYLES
) -> dict[str, Any]:
    """{'state_dict': {encoder.*, decoder.*}, 'opts', 'latent_avg'} in the released layout."""
    g = decoder(seed)
    encoder = random_tensors(encoder_layout(encoder_type), seed + 1)
    state = {f"encoder.{k}": v for k, v in encoder.items()}
    state.update({f"decoder.{k}": v for k, v in generator_state_to_rosinality(g).items()})
    average = torch.randn(W_DIM, generator=torch.Generator().manual_seed(seed + 2))
    latent_avg = average.repeat(latent_rows, 1) if latent_rows else average
    return {"state_dict": state, "opts": released_opts(encoder_type), "latent_avg": latent_avg}


def save(path: Path, checkpoint: dict[str, Any]) -> Path:
    torch.save(checkpoint, path)
    return path
