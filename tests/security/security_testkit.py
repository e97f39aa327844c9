"""Tiny exported encoders for the hostile-input tests: a 16 px generator and an installed encoder
(``w_encoder`` with 4-channel stages, 1,545 values), and ways to rewrite a file's header."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from tiny_world import save_tiny_networks, tiny_generator

import ganinv
from ganinv.cli.main import main
from ganinv.harness.method import save_encoder
from ganinv.harness.schema import MethodConfig

SPEC = {"name": "w_encoder", "input_resolution": 16, "units": [1, 1, 1, 1], "widths": [4, 4, 4, 4]}


def make_generator(folder: Path) -> tuple[Path, Any]:
    """A tiny generator file in `folder` and the network itself."""
    folder.mkdir(parents=True, exist_ok=True)
    g = tiny_generator(w_avg_samples=64)
    return save_tiny_networks(folder / "g.safetensors", g, discriminator=False), g


def export_encoder(path: Path, generator_file: Path | str, generator: Any, seed: int = 0) -> Path:
    """An encoder exported the way `ganinv train` does (random weights)."""
    torch.manual_seed(seed)
    space = ganinv.build("spaces", "w", generator=generator)
    encoder = ganinv.build("encoders", SPEC, space=space)
    method = MethodConfig(generator=str(generator_file), space="w", encoder=SPEC)
    return save_encoder(path, encoder, method, {"step": 1})


def read_file(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}


def rewrite(source: Path, name: str, **fields: str | None) -> Path:
    """A copy of `source`, beside it (its paths are relative to its folder), whose header fields
    are replaced (a value of None removes the field)."""
    target = source.parent / name
    header, tensors = read_file(source)
    header.update(fields)
    header = {k: v for k, v in header.items() if v is not None}
    save_file(tensors, str(target), metadata=header)
    return target


def rewrite_method(source: Path, name: str, **method: Any) -> Path:
    """A copy whose header's method JSON has keys replaced (None removes the key)."""
    header, _ = read_file(source)
    spec = json.loads(header["method"])
    spec.update(method)
    spec = {k: v for k, v in spec.items() if v is not None}
    return rewrite(source, name, method=json.dumps(spec))


# -- the CLI and tiny files shared by the output, overwrite, run and saved-config tests ----------
TINY_CHANNELS = {4: 16, 8: 16, 16: 16}
SMALL_ENCODER = {
    "name": "w_encoder",
    "input_resolution": 16,
    "num_layers": None,
    "units": [1, 1, 1, 1],
    "widths": [8, 8, 16, 16],
}


def tiny_generator_file(path: Path) -> Path:
    """A random 16 px StyleGAN2 (16 channels, 2 mapping layers) in ganinv's format."""
    from ganinv.checkpoints.native import save_networks
    from ganinv.stylegan2.generator import StyleGAN2Generator

    torch.manual_seed(0)
    generator = StyleGAN2Generator(
        z_dim=16, w_dim=16, resolution=16, channels=TINY_CHANNELS, mapping_layers=2
    )
    return save_networks(path, {"generator": generator.eval()})


def run_cli(*args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `ganinv ARGS` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()
