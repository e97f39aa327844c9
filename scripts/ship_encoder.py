"""Copy an encoder exported by `ganinv train` into the repository with its floating-point tensors
stored as float16, to keep the shipped demo weights small (they load into float32 networks:
`load_state_dict` casts). The header (specs, training info) is kept, its paths (the generator, a
base encoder) rewritten relative to TARGET so the copy works from any working folder; the copy is
atomic. SOURCE may be TARGET (rewrites an older file's header; float16 tensors stay bit-identical).

  python scripts/ship_encoder.py SOURCE TARGET
  (e.g. runs/demo-psp/encoder_latest.safetensors registry/assets/demo_psp.safetensors)
"""

from __future__ import annotations

import argparse

import torch

from ganinv.checkpoints.encoder_file import read_encoder_header, write_encoder_file
from ganinv.core.safetensors_io import read_tensors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("target")
    args = parser.parse_args()
    header = read_encoder_header(args.source)  # checks that it is an exported encoder
    state = read_tensors(args.source)
    half = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}
    overflow = [k for k, v in half.items() if not torch.isfinite(v.float()).all()]
    if overflow:
        raise SystemExit(f"{args.source}: {overflow} overflow float16; ship it in float32")
    info = {**header.info, "stored_dtype": "float16"}
    write_encoder_file(args.target, half, header.specs(), info, header.exported_with_imports)
    before = sum(v.numel() * v.element_size() for v in state.values())
    after = sum(v.numel() * v.element_size() for v in half.values())
    print(f"shipped {args.target}: {after / 1e6:.1f} MB of tensors (was {before / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
