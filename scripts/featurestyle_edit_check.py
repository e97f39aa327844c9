"""Does a class edit still show when the inversion's feature replaces the generator's? The demo
Feature-Style encoder against pSp, with one learned W+ direction (T-shirt -> pullover):

  python scripts/featurestyle_edit_check.py [--images 64] [--out runs/featurestyle-edit]

The direction is InterFaceGAN on pSp's W+ codes of 500 train T-shirts and 500 pullovers (as
scripts/demo_edit.py). The first `--images` test T-shirts are inverted by pSp and by the
Feature-Style encoder and moved by each strength:
- pSp: W+ moved (``wplus`` space);
- Feature-Style, F-space edit: W+ moved and F' = F + G_k(w') - G_k(w) (``fspace.apply_direction``);
- Feature-Style, F kept: W+ moved, F left as inverted (what editing W+ alone would do);
- Feature-Style, W+ only: the encoder's W+ codes rendered and edited without its F.
Printed per row and strength: the mean absolute change of the image against its unedited
rendering, and with the demo classifier (when registry/assets/demo_fmnist_classifier.safetensors
exists) the share of edited images it calls a pullover. A figure (rows: input, then the three
methods at each strength) is written to --out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from fmnist_classes import PULLOVER, TSHIRT, images_of_classes, tshirt_to_pullover

from ganinv.core.images import save_grid
from ganinv.core.space import Code
from ganinv.editing import operations as ops
from ganinv.harness.configs import load_method
from ganinv.harness.method import build_method

CLASSIFIER = Path("registry/assets/demo_fmnist_classifier.safetensors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fse", default="registry/assets/demo_feature_style.safetensors")
    parser.add_argument("--psp", default="registry/assets/demo_psp.safetensors")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.0, 4.0, 8.0, 12.0, 24.0])
    parser.add_argument("--out", default="runs/featurestyle-edit")
    args = parser.parse_args()
    torch.manual_seed(0)
    cpu = torch.device("cpu")
    psp = build_method(load_method(args.psp), cpu)
    fse = build_method(load_method(args.fse), cpu)
    learned = tshirt_to_pullover(psp, args.train_per_class)
    print(f"direction: held-out accuracy {learned.val_accuracy:.3f} on pSp W+ codes")
    direction = learned.direction
    shirts = images_of_classes("test", [TSHIRT], args.images)[TSHIRT]
    classifier = None
    if CLASSIFIER.is_file():
        from ganinv.nets.fmnist_classifier import load_classifier

        classifier = load_classifier(CLASSIFIER)

    def pullover_share(images: torch.Tensor) -> str:
        if classifier is None:
            return "-"
        pred = classifier.predict(images.clamp(-1, 1))
        return f"{float((pred == PULLOVER).float().mean()):.3f}"

    with torch.no_grad():
        psp_codes = ops.code_or_inversion(psp, shirts)
        fse_codes = ops.code_or_inversion(fse, shirts)
        space = fse.space
        wplus_only = space.from_wplus(fse_codes["wplus"])
        base = {
            "pSp": psp.space.render(psp_codes),
            "Feature-Style, F-space edit": space.render(fse_codes),
            "Feature-Style, F kept": space.render(fse_codes),
            "Feature-Style, W+ only": space.render(wplus_only),
        }
        rows: dict[str, list[torch.Tensor]] = {label: [] for label in base}
        print("row | strength | mean |change| | pullover share")
        for strength in args.strengths:
            edited = {
                "pSp": psp.space.render(psp.space.apply_direction(psp_codes, direction, strength)),
                "Feature-Style, F-space edit": space.render(
                    space.apply_direction(fse_codes, direction, strength)
                ),
            }
            moved = space.apply_direction(fse_codes, direction, strength)
            kept = Code(moved.space, {**moved.tensors, "feature": fse_codes["feature"]}, moved.meta)
            edited["Feature-Style, F kept"] = space.render(kept)
            edited["Feature-Style, W+ only"] = space.render(
                space.apply_direction(wplus_only, direction, strength)
            )
            for label, images in edited.items():
                change = float((images.clamp(-1, 1) - base[label].clamp(-1, 1)).abs().mean())
                print(f"{label} | {strength:g} | {change:.4f} | {pullover_share(images)}")
                rows[label].append(images[:8])
    grid = [shirts[:8]] + [img for label in rows for img in rows[label]]
    path = save_grid(torch.cat(grid), Path(args.out) / "edit.png", nrow=8)
    print(f"figure: {path} (rows: input; then {', '.join(rows)}, each at {args.strengths})")


if __name__ == "__main__":
    main()
