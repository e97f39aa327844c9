"""`ganinv convert --check` on a full-size synthetic release: the figures in docs/baselines.md.

Builds a checkpoint in the released pSp / e4e / ReStyle layout at the released size (IR-SE-50
body, 18 style heads, 256 px input, a 1024 px config-f rosinality decoder; random weights) with
the test helper `tests/checkpoints/released_layout.py`, then converts it with `--check` and prints
the wall time. No released file is needed (or read); the file is about 1.2 GB (pSp, e4e).

    python scripts/release_conversion_fullsize.py GradualStyleEncoder OUT_FOLDER [--batch-size 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "checkpoints"))

import released_layout as rl  # noqa: E402

from ganinv.checkpoints.rosinality_writer import generator_state_to_rosinality  # noqa: E402
from ganinv.cli.main import main  # noqa: E402
from ganinv.stylegan2.generator import StyleGAN2Generator  # noqa: E402

CONFIG_F = {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32}


def build(kind: str, path: Path) -> Path:
    torch.manual_seed(0)
    decoder = StyleGAN2Generator(
        z_dim=512, w_dim=512, resolution=1024, channels=CONFIG_F, mapping_layers=8
    ).eval()
    table = rl.encoder_layout(kind, (3, 4, 14, 3), (64, 128, 256, 512), 18, 512, 256)
    state = {f"encoder.{k}": v for k, v in rl.random_tensors(table, 1).items()}
    state.update({f"decoder.{k}": v for k, v in generator_state_to_rosinality(decoder).items()})
    opts = rl.released_opts(kind)
    for key in ("output_size", "stylegan_size"):
        if key in opts:
            opts[key] = 1024
    latent_avg = torch.randn(512, generator=torch.Generator().manual_seed(2)).repeat(18, 1)
    torch.save({"state_dict": state, "opts": opts, "latent_avg": latent_avg}, path)
    return path


def run() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(rl.INPUT_NC), help="the released encoder class")
    parser.add_argument("out", type=Path, help="folder for the synthetic file and the outputs")
    parser.add_argument("--batch-size", default="1", help="batch of the check (1)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    source = build(args.kind, args.out / f"{args.kind}.pt")
    print(f"synthetic release {source}: {source.stat().st_size / 1e6:.0f} MB", flush=True)
    start = time.perf_counter()
    out = args.out / f"{args.kind}.safetensors"
    code = main(
        ["convert", str(source), str(out), "--check", "--batch-size", args.batch_size, "--force"]
    )
    print(f"ganinv convert --check: exit {code}, {time.perf_counter() - start:.0f} s wall")
    return code


if __name__ == "__main__":
    sys.exit(run())
