"""Editing on the demo domain with the shipped PadInv encoder: blending, a custom edit, a learned
class direction. Writes one figure per edit (and their codes) under --out and prints the paths.

  python scripts/demo_edit.py [--method registry/assets/demo_padinv.safetensors] [--out DIR]

- Blend: the spatial structure (padding maps) of one test garment with the appearance (style
  codes) of another, `space.blend`.
- Custom edit: a user paints a dark band across one garment (the "edited" copy of a "source");
  the code difference edited - source is added to other garments on the padding maps only. The
  pair is inverted with the encoder plus `--pair-steps` of optimisation, so that the difference
  holds the band; the targets with the encoder alone.
- Direction: InterFaceGAN on the W+ codes of 500 train T-shirts (label 0) and 500 pullovers
  (label 2); moving T-shirts along it grows sleeves.
The same edits are available as `ganinv edit blend|custom|learn-direction|apply` on code files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from fmnist_classes import COAT, PULLOVER, SHIRT, TSHIRT, images_of_classes, tshirt_to_pullover

from ganinv.core.images import save_grid
from ganinv.editing import operations as ops
from ganinv.harness.configs import load_method
from ganinv.harness.method import build_method


def painted_band(images: torch.Tensor) -> torch.Tensor:
    """The user's manual edit: a dark horizontal band across the middle of each garment."""
    edited = images.clone()
    edited[:, :, 14:18, 6:26] = -0.6
    return edited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="registry/assets/demo_padinv.safetensors")
    parser.add_argument(
        "--direction-method",
        default="registry/assets/demo_psp.safetensors",
        help="inverts the images the direction is learned on and applied to (a W+ method: "
        "directions move W+, and PadInv's padding keeps the layout that a class edit changes)",
    )
    parser.add_argument("--out", default="runs/demo-edit")
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.0, 4.0, 8.0, 12.0])
    parser.add_argument("--pair-steps", type=int, default=100, help="refinement of the pair")
    parser.add_argument("--train-per-class", type=int, default=500, help="codes per class")
    args = parser.parse_args()
    torch.manual_seed(0)
    out = Path(args.out)
    method = build_method(load_method(args.method), torch.device("cpu"))

    # Tops (two each of T-shirts, pullovers, coats, shirts): edits between garments of one kind.
    test = images_of_classes("test", [TSHIRT, PULLOVER, COAT, SHIRT], per_class=2)
    garments = torch.cat([test[c][i : i + 1] for i in range(2) for c in test])
    n = garments.shape[0]
    codes = ops.code_or_inversion(method, garments)
    recon = ops.render(method, codes)

    # Blend: structure of garment i with the appearance of garment (i + 1) mod n.
    shifted = codes.select(torch.arange(n).roll(-1))
    _, blended = ops.blend(method, codes, shifted)
    rows = [garments, recon, recon.roll(-1, dims=0), blended]
    print(f"blend: {save_grid(torch.cat(rows), out / 'blend.png', nrow=n)}")
    print("  rows: input, inversion (structure), appearance donor, blend")

    # Custom edit: one (source, edited) pair, applied to every garment on the padding maps.
    source = garments[1:2]
    edited = painted_band(source)
    refine = {"name": "optimize", "steps": args.pair_steps, "lr": 0.01, "latent_noise": 0.0}
    pair_method = build_method(
        load_method({"encoder_checkpoint": args.method, "refiner": refine}), torch.device("cpu")
    )
    src_code = ops.code_or_inversion(pair_method, source)
    edit_code = ops.code_or_inversion(pair_method, edited)
    delta_src = src_code.select(torch.zeros(n, dtype=torch.long))
    delta_edit = edit_code.select(torch.zeros(n, dtype=torch.long))
    _, custom = ops.custom_edit(method, delta_src, delta_edit, codes, 1.0, parts=["padding"])
    blank = [torch.zeros_like(source)] * (n - 4)
    inverted_pair = [ops.render(method, src_code), ops.render(method, edit_code)]
    pair = torch.cat([source, edited, *inverted_pair, *blank])
    path = save_grid(torch.cat([pair, recon, custom]), out / "custom_edit.png", nrow=n)
    print(f"custom edit: {path}")
    print(
        "  rows: source, edited by hand, their inversions | inversions | with the edit transferred"
    )

    # Direction: T-shirt -> pullover, learned on train-split codes.
    w_method = build_method(load_method(args.direction_method), torch.device("cpu"))
    learned = tshirt_to_pullover(w_method, args.train_per_class)
    print(
        f"direction T-shirt -> pullover: train accuracy {learned.train_accuracy:.3f}, "
        f"held-out {learned.val_accuracy:.3f}"
    )
    shirts = images_of_classes("test", [TSHIRT], per_class=n)[TSHIRT]
    shirt_codes = ops.code_or_inversion(w_method, shirts)
    rows = [shirts]
    for strength in args.strengths:
        rows.append(ops.apply_direction(w_method, shirt_codes, learned.direction, strength)[1])
    print(f"direction: {save_grid(torch.cat(rows), out / 'direction.png', nrow=n)}")
    print(f"  rows: input, then strengths {args.strengths}")


if __name__ == "__main__":
    main()
