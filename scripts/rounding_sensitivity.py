"""How much one bench row's numbers move when its target images move by one ulp.

    python scripts/rounding_sensitivity.py configs/demo/bench_pti.yaml "W pivot + PTI" [--images 16]

Inverts the first --images images of the config's data with the row's method twice: as they are,
and with every pixel moved to the next float32 towards +inf (a change far below any image
format's precision). Prints the mean and per-image MSE of both. A row whose numbers move this much
under a one-ulp change of its inputs will also move when a faster kernel rounds differently
(docs/results.md, "PTI in the demo"). Run it with PYTHONPATH set to another tree to compare trees.
"""

from __future__ import annotations

import argparse

import torch

from ganinv.core.config import read_yaml
from ganinv.harness.configs import load_method
from ganinv.harness.inputs import load_inputs
from ganinv.harness.method import build_method


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", help="a bench config")
    parser.add_argument("label", help="the label of one of its methods")
    parser.add_argument("--images", type=int, default=16)
    args = parser.parse_args()
    config = read_yaml(args.config)
    spec = next((m for m in config["methods"] if m.get("label") == args.label), None)
    if spec is None:
        raise SystemExit(f"{args.config} has no method labelled {args.label!r}")
    method = build_method(
        load_method({**spec, "generator": spec.get("generator", config["generator"])})
    )
    data = {**config["data"], "limit": args.images}
    images, _ = load_inputs(data, method.generator.resolution)
    for name, targets in (
        ("as given", images),
        ("one ulp up", torch.nextafter(images, torch.full_like(images, 2.0))),
    ):
        _, recon = method.invert(targets)
        mse = (recon - targets).square().mean(dim=(1, 2, 3))
        per_image = " ".join(f"{v:.3f}" for v in mse.tolist())
        print(f"{args.label}, targets {name}: MSE {mse.mean():.4f}  per image: {per_image}")


if __name__ == "__main__":
    main()
