"""Copy an encoder exported by `ganinv train` into the repository with its floating-point tensors
stored as float16, to keep the shipped demo weights small (they load into float32 networks:
`load_state_dict` casts). The header (specs, training info) is kept; the copy is atomic.

  python scripts/ship_encoder.py SOURCE TARGET
  (e.g. runs/demo-psp/encoder_latest.safetensors registry/assets/demo_psp.safetensors)
"""

from __future__ import annotations

import argparse
import json

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ganinv.core.io import atomic_write
from ganinv.harness.method import read_encoder_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("target")
    args = parser.parse_args()
    _, state, info = read_encoder_file(args.source)  # checks that it is an exported encoder
    with safe_open(args.source, framework="pt") as f:
        header = dict(f.metadata())
    header["info"] = json.dumps({**info, "stored_dtype": "float16"})
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    overflow = [k for k, v in half.items() if not torch.isfinite(v.float()).all()]
    if overflow:
        raise SystemExit(f"{args.source}: {overflow} overflow float16; ship it in float32")
    atomic_write(args.target, lambda p: save_file(half, str(p), metadata=header))
    before = sum(v.numel() * v.element_size() for v in state.values())
    after = sum(v.numel() * v.element_size() for v in half.values())
    print(f"shipped {args.target}: {after / 1e6:.1f} MB of tensors (was {before / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
