"""Does HFGI beat its e4e base in fidelity while keeping e4e's edits? Measured on the demo domain:

  python scripts/hfgi_edit_check.py [--e4e FILE] [--hfgi FILE] [--images 256]

1. Direction: InterFaceGAN T-shirt -> pullover on the e4e W+ codes of 500 + 500 train images (as
   scripts/demo_edit.py learns it, here on e4e, whose codes HFGI shares).
2. The first `--images` test T-shirts are inverted by both methods (HFGI's W+ part is e4e's
   code) and moved along the direction by each strength through `space.apply_direction` (for
   HFGI: the original distortion map re-aligned by ADA to the edited image).
3. Per strength and method: MSE to the input (fidelity at strength 0), the share of edited images
   a pixel classifier calls "pullover" (logistic regression on 32 px train images of the two
   classes, its held-out accuracy printed), and how far the HFGI edit is from the e4e edit (MSE
   between the two edited images, and the ratio of their changes from the unedited
   reconstructions).
"""

from __future__ import annotations

import argparse
import time

import torch
from fmnist_classes import PULLOVER, TSHIRT, images_of_classes, tshirt_to_pullover

from ganinv.editing import operations as ops
from ganinv.editing.directions import fit_linear_classifier
from ganinv.harness.configs import load_method
from ganinv.harness.method import build_method


def pixel_judge(per_class: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(weight, bias, held-out accuracy) of T-shirt (0) vs pullover (1) on grey 32 px pixels."""
    train = images_of_classes("train", [TSHIRT, PULLOVER], per_class)
    test = images_of_classes("test", [TSHIRT, PULLOVER], 1000)

    def xy(split: dict[int, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([split[TSHIRT], split[PULLOVER]]).mean(1).flatten(1)
        y = torch.cat([torch.zeros(len(split[TSHIRT])), torch.ones(len(split[PULLOVER]))])
        return x, y

    w, b = fit_linear_classifier(*xy(train), l2=1e-3, max_iter=300)
    x, y = xy(test)
    accuracy = float((((x.double() @ w + b) > 0).double() == y.double()).double().mean())
    return w, b, accuracy


def pullover_rate(images: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> float:
    return float(((images.mean(1).flatten(1).double() @ w + b) > 0).double().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--e4e", default="registry/assets/demo_e4e.safetensors")
    parser.add_argument("--hfgi", default="registry/assets/demo_hfgi.safetensors")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.0, 4.0, 8.0, 12.0])
    args = parser.parse_args()
    torch.manual_seed(0)
    cpu = torch.device("cpu")
    e4e = build_method(load_method(args.e4e), cpu)
    hfgi = build_method(load_method(args.hfgi), cpu)

    w, b, accuracy = pixel_judge(2000)
    print(
        f"pixel judge (T-shirt vs pullover): held-out accuracy {accuracy:.3f} on 2000 test images"
    )

    learned = tshirt_to_pullover(e4e, args.train_per_class)
    print(
        f"direction T-shirt -> pullover on e4e W+ codes: train accuracy "
        f"{learned.train_accuracy:.3f}, held-out {learned.val_accuracy:.3f}"
    )

    shirts = images_of_classes("test", [TSHIRT], args.images)[TSHIRT]
    print(f"input T-shirts called pullover: {pullover_rate(shirts, w, b):.3f}")
    timings = {}
    codes = {}
    for name, method in (("e4e", e4e), ("HFGI", hfgi)):
        start = time.perf_counter()
        codes[name] = ops.code_or_inversion(method, shirts)
        timings[name] = (time.perf_counter() - start) / len(shirts)
    same = torch.equal(codes["e4e"]["wplus"], codes["HFGI"]["wplus"])
    print(f"HFGI's W+ part equals e4e's code: {same}")
    base = {n: ops.render(m, codes[n]) for n, m in (("e4e", e4e), ("HFGI", hfgi))}
    print("strength | method | MSE to input | called pullover | change from unedited (MSE)")
    for strength in args.strengths:
        edited = {}
        for name, method in (("e4e", e4e), ("HFGI", hfgi)):
            _, edited[name] = ops.apply_direction(method, codes[name], learned.direction, strength)
            mse = float((edited[name] - shirts).square().mean())
            change = float((edited[name] - base[name]).square().mean())
            rate = pullover_rate(edited[name], w, b)
            print(f"{strength:+5.1f} | {name:4s} | {mse:.4f} | {rate:.3f} | {change:.4f}")
        gap = float((edited["HFGI"] - edited["e4e"]).square().mean())
        print(f"{strength:+5.1f} | HFGI edit vs e4e edit: MSE {gap:.4f}")
    print(
        "inversion s/img on this machine (batch of all images): "
        + ", ".join(f"{k} {v:.4f}" for k, v in timings.items())
    )


if __name__ == "__main__":
    main()
