"""Latent-map on held-out real images of the demo domain, clean and masked (issue 8's figures).

  python scripts/demo_latentmap.py [--images 256] [--out runs/demo-latentmap-eval]

Both latent-map encoders were trained on synthetic pairs (G(w), w) only; here they invert the
first `--images` Fashion-MNIST test images (the demo bench's subset). Each image also gets one
random mask (seeded; rectangles or strokes, as in training), holes filled with 0 (mid grey).
Rows: the mean code (w_avg, what an untrained latent-map returns), latent-map, latent-map trained
with masks; columns: MSE and LPIPS-alex of the reconstruction against the full (unmasked) image,
for clean and masked inputs, and the MSE inside the holes only (how well they are filled in).
Prints a Markdown table and writes a grid (input, masked input, each encoder's reconstruction).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from ganinv_latentmap.masks import apply_mask, random_masks

from ganinv.core.images import save_grid
from ganinv.harness.configs import load_method
from ganinv.harness.data import build_dataset, image_of
from ganinv.harness.method import build_method
from ganinv.nets.lpips_offline import lpips_network

ENCODERS = {
    "latent-map": "registry/assets/demo_latentmap.safetensors",
    "latent-map, trained with masks": "registry/assets/demo_latentmap_masked.safetensors",
}


def scores(
    recon: torch.Tensor, target: torch.Tensor, holes: torch.Tensor, lpips: torch.nn.Module
) -> tuple[float, float, float]:
    """(MSE, LPIPS-alex, MSE inside the holes) over the batch; holes [B, 1, H, W] in {0, 1}."""
    mse = float((recon - target).square().mean())
    with torch.no_grad():
        perceptual = float(lpips(target, recon).mean())
    hole_pixels = holes.expand_as(target)
    hole_mse = float(((recon - target).square() * hole_pixels).sum() / hole_pixels.sum())
    return mse, perceptual, hole_mse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/demo-latentmap-eval")
    args = parser.parse_args()
    dataset = build_dataset({"name": "fashion_mnist", "split": "test", "limit": args.images})
    images = torch.stack([image_of(dataset[i]) for i in range(len(dataset))])
    known = random_masks(
        len(images), images.shape[-1], "mixed", torch.Generator().manual_seed(args.seed)
    )
    masked = apply_mask(images, known, fill=0.0)
    holes = 1 - known
    lpips = lpips_network("alex")

    methods = {
        name: build_method(load_method(path), torch.device("cpu"))
        for name, path in ENCODERS.items()
    }
    first = next(iter(methods.values()))
    with torch.no_grad():
        mean_code = first.space.init_code(len(images))  # w_avg in every code
        mean_recon = first.space.render(mean_code).clamp(-1, 1)
    rows = [("mean code (w_avg)", mean_recon, mean_recon)]
    for name, method in methods.items():
        rows.append(
            (name, method.invert(images)[1].clamp(-1, 1), method.invert(masked)[1].clamp(-1, 1))
        )

    print(
        f"{len(images)} Fashion-MNIST test images; masks cover {float(holes.mean()):.1%} of pixels"
    )
    print(
        "| method | MSE clean | LPIPS clean | MSE masked | LPIPS masked | MSE in holes (masked) |"
    )
    print("|---|---|---|---|---|---|")
    for name, clean, from_masked in rows:
        c_mse, c_lp, _ = scores(clean, images, holes, lpips)
        m_mse, m_lp, m_hole = scores(from_masked, images, holes, lpips)
        print(f"| {name} | {c_mse:.4f} | {c_lp:.4f} | {m_mse:.4f} | {m_lp:.4f} | {m_hole:.4f} |")
    shown = slice(0, 8)
    grid = [images[shown], masked[shown]] + [r[2][shown] for r in rows[1:]]
    path = save_grid(torch.cat(grid), Path(args.out) / "masked_inversion.png", nrow=8)
    print(
        f"grid: {path} (rows: input, masked input, " + ", ".join(ENCODERS) + " on the masked input)"
    )


if __name__ == "__main__":
    main()
