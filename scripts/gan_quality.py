"""Quality of a trained generator: SWD (ProGAN protocol) of its samples against a test split, and
a sample grid. Used for the demo generator (docs/results.md).

    python scripts/gan_quality.py registry/assets/demo_fmnist32_stylegan2.safetensors \
        --data "{name: fashion_mnist, split: test}" --images 2048 --grid samples.png
"""

from __future__ import annotations

import argparse
import json

import torch
import yaml

import ganinv
from ganinv.core.images import save_grid
from ganinv.data import build_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generator", help="checkpoint path (any layout ganinv loads)")
    parser.add_argument("--data", required=True, help="dataset spec as YAML text")
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--truncation", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grid", default=None, help="write a grid of 64 samples here")
    args = parser.parse_args()

    G = ganinv.load_generator(args.generator).eval()
    dataset = build_dataset({**yaml.safe_load(args.data), "limit": args.images})
    swd = ganinv.build("metrics", "swd")
    swd.reset()
    generator = torch.Generator().manual_seed(args.seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch)
    seen = 0
    with torch.no_grad():
        for real in loader:
            real = real[0] if isinstance(real, (list, tuple)) else real
            z = torch.randn(real.shape[0], G.z_dim, generator=generator)
            fake = G(z, truncation_psi=args.truncation).clamp(-1, 1)
            swd.update(real, fake)
            seen += real.shape[0]
        if args.grid:
            z = torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(123))
            save_grid(G(z, truncation_psi=args.truncation).clamp(-1, 1), args.grid, nrow=8)
    result = swd.compute()
    print(json.dumps({"images": seen, "swd_x1e3": result.value, "protocol": result.protocol}))


if __name__ == "__main__":
    main()
